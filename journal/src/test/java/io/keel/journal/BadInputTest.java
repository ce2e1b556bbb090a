package io.keel.journal;

import io.keel.journal.JournalTestSupport.Frame;
import io.keel.journal.JournalTestSupport.RandomWriter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bad input gets a clear error and loses nothing already written: a foreign directory, a newer format, an
 * oversized segment, a second writer, out-of-order stream versions and epochs, oversized payloads, a full disk.
 */
class BadInputTest
{
    @TempDir
    Path root;

    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[2048]);

    private static JournalContext ctx(final Path dir)
    {
        return context(dir, 8192, 1024, DurabilityPolicy.BATCH);
    }

    private static List<Frame> writeSome(final Path dir, final int groups)
    {
        final RandomWriter writer = new RandomWriter(new Random(groups), 900);
        try (Journal journal = Journal.open(ctx(dir)))
        {
            writer.appendRandom(journal.appender(), groups);
        }
        return writer.written;
    }

    @Test
    void directoryHoldingOtherFilesIsNotAJournalAndIsLeftUntouched() throws IOException
    {
        final Path dir = root.resolve("home");
        Files.createDirectories(dir.resolve("photos"));
        Files.writeString(dir.resolve("notes.txt"), "not a journal");
        final Map<String, byte[]> before = image(dir);
        final JournalException ex = assertThrows(JournalException.class, () -> Journal.open(ctx(dir)).close());
        assertTrue(ex.getMessage().contains("is not a Keel journal") && ex.getMessage().contains("notes.txt") &&
            ex.getMessage().contains(dir.toString()), ex.getMessage());
        assertSameImage(before, image(dir), "refused open left files behind");
        try (var list = Files.list(dir))
        {
            assertEquals(2, list.count(), "nothing created in a foreign directory");
        }
        assertThrows(JournalException.class, () -> Journal.open(ctx(dir).readOnly(true)).close());
    }

    @Test
    void fileWhereTheDirectoryShouldBeIsAClearError() throws IOException
    {
        final Path file = root.resolve("plain-file");
        Files.writeString(file, "x");
        final JournalException ex = assertThrows(JournalException.class, () -> Journal.open(ctx(file)).close());
        assertTrue(ex.getMessage().contains("not a directory"), ex.getMessage());
        final JournalException missing = assertThrows(JournalException.class,
            () -> Journal.open(ctx(root.resolve("missing")).readOnly(true)).close());
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    }

    @Test
    void segmentWithANewerFormatVersionIsAClearErrorNamingTheFile()
    {
        for (final int which : new int[]{ 0, -1 }) // the first segment, and the last one
        {
            final Path dir = root.resolve("newer" + which);
            writeSome(dir, 60);
            final List<Path> segments = segmentFiles(dir);
            assertTrue(segments.size() > 2);
            final Path segment = segments.get(which < 0 ? segments.size() - 1 : which);
            final byte[] bytes = readBytes(segment);
            final ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(SegmentHeader.VERSION_OFFSET, SegmentHeader.FORMAT_VERSION + 1);
            final CRC32C crc = new CRC32C();
            crc.update(bytes, 0, SegmentHeader.CRC_OFFSET);
            header.putInt(SegmentHeader.CRC_OFFSET, (int)crc.getValue());
            writeBytes(segment, bytes);
            final Map<String, byte[]> before = image(dir);
            for (final boolean readOnly : new boolean[]{ false, true })
            {
                final JournalException ex = assertThrows(JournalException.class,
                    () -> Journal.open(ctx(dir).readOnly(readOnly)).close());
                assertTrue(ex.getMessage().contains(segment.toString()) && ex.getMessage().contains("newer"),
                    ex.getMessage());
            }
            assertSameImage(before, image(dir), "newer version segment left as it was");
        }
    }

    @Test
    void segmentLargerThanItsDeclaredSizeIsAClearErrorNamingTheFile()
    {
        final Path dir = root.resolve("oversized");
        writeSome(dir, 60);
        final List<Path> segments = segmentFiles(dir);
        for (final Path segment : List.of(segments.get(0), segments.get(segments.size() - 1)))
        {
            final byte[] original = readBytes(segment);
            writeBytes(segment, Arrays.copyOf(original, 8192 + 8));
            final JournalException ex = assertThrows(JournalException.class, () -> Journal.open(ctx(dir)).close());
            assertTrue(ex.getMessage().contains(segment.toString()) && ex.getMessage().contains("larger than"),
                ex.getMessage());
            assertEquals(8192 + 8, readBytes(segment).length, "left as it was");
            writeBytes(segment, original);
        }
    }

    @Test
    void secondWriterOnTheSameDirectoryIsRefusedAndReadersAreNot()
    {
        final Path dir = root.resolve("locked");
        try (Journal first = Journal.open(ctx(dir)))
        {
            first.appender().append(1, 1, 1, 1, 0, 0, 1, payload, 0, 10, true);
            first.appender().flush();
            final JournalException ex = assertThrows(JournalException.class, () -> Journal.open(ctx(dir)).close());
            assertTrue(ex.getMessage().contains("in use by another writer"), ex.getMessage());
            try (Journal reader = Journal.open(ctx(dir).readOnly(true)))
            {
                assertEquals(1, readAll(reader).size());
                assertThrows(JournalException.class, reader::appender);
            }
            first.appender().append(1, 2, 1, 2, 0, 0, 1, payload, 0, 10, true);
        }
        try (Journal again = Journal.open(ctx(dir)))
        {
            assertEquals(2, readAll(again).size(), "the lock is released on close");
        }
    }

    @Test
    void secondWriterInAnotherProcessIsRefused() throws Exception
    {
        final Path dir = root.resolve("locked-process");
        try (Journal first = Journal.open(ctx(dir)))
        {
            final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            final Process process = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                OpenJournalMain.class.getName(), dir.toString()).redirectErrorStream(true).start();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "child process finished");
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(3, process.exitValue(), output);
            assertTrue(output.contains("in use by another writer"), output);
            first.appender().flush();
        }
    }

    /** Child process for {@link #secondWriterInAnotherProcessIsRefused()}: exit 3 when the open is refused. */
    static final class OpenJournalMain
    {
        public static void main(final String[] args)
        {
            try (Journal journal = Journal.open(ctx(Path.of(args[0]))))
            {
                System.out.println("opened " + journal.dir());
                System.exit(0);
            }
            catch (final JournalException ex)
            {
                System.out.println(ex.getMessage());
                System.exit(3);
            }
        }
    }

    @Test
    void streamVersionGapsEpochRegressionsAndOversizedPayloadsAreRefusedAtClaimAndChangeNothing()
    {
        final Path dir = root.resolve("claims");
        final List<Frame> expected = new ArrayList<>();
        try (Journal journal = Journal.open(ctx(dir)))
        {
            final JournalAppender a = journal.appender();
            a.append(5, 100, 1, 1, 42, 1, 1, payload, 0, 10, true);
            a.append(5, 100, 1, 2, 42, 2, 1, payload, 0, 10, true);
            final long end = a.position();
            expected.addAll(readAll(journal));

            assertThrows(IllegalArgumentException.class, () -> a.claim(5, 101, 1, 3, 42, 4, 1, 10), "gap");
            assertThrows(IllegalArgumentException.class, () -> a.claim(5, 101, 1, 3, 42, 2, 1, 10), "repeat");
            assertThrows(IllegalArgumentException.class, () -> a.claim(5, 101, 1, 3, 43, 2, 1, 10), "new at 2");
            assertThrows(IllegalArgumentException.class, () -> a.claim(5, 99, 1, 3, 42, 3, 1, 10), "time back");
            assertThrows(IllegalArgumentException.class, () -> a.claim(4, 101, 1, 3, 42, 3, 1, 10), "epoch back");
            assertThrows(IllegalArgumentException.class, () -> a.claim(4, 101, 1, 3, 0, 0, 1, 10), "epoch back");
            assertThrows(IllegalArgumentException.class, () -> a.claim(5, 101, 1, 3, 0, 0, 1, 1024 - 72 + 1), "big");
            assertThrows(IllegalArgumentException.class, () -> a.claim(5, 101, 1, 3, 0, 0, 1, -1), "negative");
            assertFalse(a.inGroup());
            assertEquals(end, a.position());

            // inside a group: versions continue from the group's own frames
            a.append(5, 101, 1, 3, 42, 3, 1, payload, 0, 10, false);
            assertThrows(IllegalArgumentException.class, () -> a.claim(5, 101, 1, 3, 42, 3, 1, 10), "in group");
            assertThrows(IllegalArgumentException.class, () -> a.claim(4, 101, 1, 3, 42, 4, 1, 10), "in group");
            a.append(6, 102, 1, 3, 42, 4, 1, payload, 0, 10, true);
            a.flush();
            expected.clear();
            expected.addAll(readAll(journal));
            assertEquals(4, expected.size());
            assertEquals(4, journal.streamIndex().version(42));
            assertThrows(IllegalArgumentException.class, () -> a.claim(5, 103, 1, 4, 0, 0, 1, 10),
                "epoch lower than the log's after a group with a higher one");
        }
        try (Journal journal = Journal.open(ctx(dir)))
        {
            assertEquals(expected, readAll(journal));
            assertEquals(6, journal.lastEpoch());
            assertThrows(IllegalArgumentException.class,
                () -> journal.appender().claim(5, 200, 1, 5, 0, 0, 1, 10), "epoch back after reopen");
            assertThrows(IllegalArgumentException.class,
                () -> journal.appender().claim(6, 200, 1, 5, 42, 6, 1, 10), "gap after reopen");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // a full disk

    private static String run(final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            return "timed out";
        }
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return process.exitValue() == 0 ? null : "exit " + process.exitValue() + ": " + output;
    }

    @Test
    void fullDiskFailsTheWriteClearlyKeepsEverythingFlushedAndAppendsContinueOnceSpaceIsFreed() throws Exception
    {
        final Path mount = root.resolve("small-disk");
        Files.createDirectories(mount);
        final String mountError = run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.toString());
        assumeTrue(null == mountError, "a full disk is simulated with a 1 MiB tmpfs, which needs mount " +
            "(root): " + mountError);
        try
        {
            for (int round = 0; round < 6; round++)
            {
                diskFullRound(mount, new Random(round), round);
            }
            diskFullAtARoll(mount);
        }
        finally
        {
            final String error = run("umount", mount.toString());
            assertNull(error, "umount " + mount);
        }
    }

    /** Write until the file system has no space left. */
    private static void fillDisk(final Path filler) throws IOException
    {
        try (var out = Files.newOutputStream(filler))
        {
            final byte[] chunk = new byte[4096];
            for (int i = 0; i < 1_000_000; i++)
            {
                out.write(chunk);
                out.flush();
            }
            fail("the disk never filled");
        }
        catch (final IOException ex)
        {
            assertTrue(String.valueOf(ex.getMessage()).contains("No space left"), String.valueOf(ex));
        }
    }

    private void diskFullAtARoll(final Path mount) throws IOException
    {
        final Path dir = mount.resolve("roll");
        final Path filler = mount.resolve("filler");
        final JournalContext ctx = context(dir, 64 * 1024, 1100, DurabilityPolicy.BATCH).stagingBufferBytes(4096);
        try (Journal journal = Journal.open(ctx))
        {
            final JournalAppender appender = journal.appender();
            for (int i = 0; i < 61; i++) // 61 * 1072 bytes: 80 left in the segment, the next frame rolls
            {
                appender.append(1, i, 1, i, 0, 0, 1, payload, 0, 1000, true);
                appender.flush();
            }
            assertEquals(1, journal.segmentCount());
            fillDisk(filler);
            final JournalException ex = assertThrows(JournalException.class,
                () -> appender.append(1, 61, 1, 61, 0, 0, 1, payload, 0, 1000, true));
            System.out.println("roll: " + ex.getMessage());
            assertTrue(ex.getMessage().contains("cannot roll journal " + dir) &&
                ex.getMessage().contains("No space left on device"), ex.getMessage());
            assertFalse(appender.inGroup());
            assertEquals(61 * 1072, appender.position());
            assertEquals(61, readAll(journal).size());
            try (var list = Files.list(dir))
            {
                assertEquals(List.of(), list.filter(p -> p.toString().endsWith(".tmp")).collect(
                    java.util.stream.Collectors.toList()), "no temp segment left behind");
            }
            Files.delete(filler);
            appender.append(1, 61, 1, 61, 0, 0, 1, payload, 0, 1000, true);
            appender.flush();
            assertEquals(2, journal.segmentCount());
        }
        try (Journal journal = Journal.open(ctx))
        {
            assertFalse(journal.recoveryReport().hadTornTail());
            assertEquals(62, readAll(journal).size());
        }
        deleteDir(dir);
    }

    private void diskFullRound(final Path mount, final Random random, final int round) throws IOException
    {
        final Path dir = mount.resolve("journal" + round);
        final Path filler = mount.resolve("filler");
        final JournalContext ctx = context(dir, 64 * 1024, 1024, DurabilityPolicy.BATCH).stagingBufferBytes(4096);
        final RandomWriter writer = new RandomWriter(random, 900);
        final List<Frame> flushed = new ArrayList<>();
        final String where = "round " + round;
        try (Journal journal = Journal.open(ctx))
        {
            writer.appendRandom(journal.appender(), 20);
            flushed.addAll(writer.written);
            writer.written.clear();
            Files.write(filler, new byte[(600 + 50 * round) * 1024]);

            JournalException failure = null;
            for (int g = 0; g < 100_000 && null == failure; g++)
            {
                try
                {
                    writer.appendGroup(journal.appender(), writer.randomGroupSize());
                    if (random.nextInt(3) == 0)
                    {
                        journal.appender().flush();
                        flushed.addAll(writer.written);
                        writer.written.clear();
                    }
                }
                catch (final JournalException ex)
                {
                    failure = ex;
                }
            }
            assertNotNull(failure, where + ": the disk never filled");
            System.out.println(where + ": " + failure.getMessage());
            assertTrue(failure.getMessage().contains(dir.toString()) &&
                failure.getMessage().contains("No space left on device"), where + ": " + failure.getMessage());
            if (journal.appender().inGroup())
            {
                journal.appender().abortGroup();
            }
            assertEquals(flushed, readAll(journal), where + ": log after the failed write");
            assertEquals(endOf(flushed, 0), journal.appender().position(), where);
            assertEquals(endOf(flushed, 0), journal.durablePosition(), where);
        }
        try (Journal journal = Journal.open(ctx))
        {
            assertEquals(flushed, readAll(journal), where + ": reopened with the disk still full");
            Files.delete(filler);
            writer.syncWith(journal);
            writer.written.clear();
            writer.appendRandom(journal.appender(), 30);
            flushed.addAll(writer.written);
        }
        try (Journal journal = Journal.open(ctx))
        {
            assertFalse(journal.recoveryReport().hadTornTail(), where + ": " + journal.recoveryReport());
            assertEquals(flushed, readAll(journal), where + ": after space was freed, appended and reopened");
        }
        deleteDir(dir);
    }
}
