package io.keel.journal;

import io.keel.journal.JournalTestSupport.Frame;
import io.keel.journal.JournalTestSupport.RandomWriter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * truncate(position): only at group ends, cut bytes kept under truncated/, appends continue from there, and a
 * truncation interrupted by a crash is completed on the next open.
 */
class TruncateTest
{
    private static final long BASE_SEED = Long.getLong("keel.test.seed", 0x7C4L);
    private static final long SEGMENT = 8192;

    @TempDir
    Path root;

    private static JournalContext ctx(final Path dir)
    {
        return context(dir, SEGMENT, 1200, DurabilityPolicy.BATCH);
    }

    private static List<Long> groupEnds(final List<Frame> log)
    {
        final List<Long> ends = new ArrayList<>();
        ends.add(0L);
        for (final Frame f : log)
        {
            if (f.endOfGroup())
            {
                ends.add(f.nextPosition());
            }
        }
        return ends;
    }

    private static List<Frame> before(final List<Frame> log, final long position)
    {
        final List<Frame> kept = new ArrayList<>();
        for (final Frame f : log)
        {
            if (f.position < position)
            {
                kept.add(f);
            }
        }
        return kept;
    }

    /** Segment bytes before and after: what left the directory is under truncated/. */
    private static void assertCutBytesUnderTruncated(final Map<String, byte[]> before, final Path dir, final long to)
    {
        final Map<String, byte[]> after = image(dir);
        for (final Map.Entry<String, byte[]> e : before.entrySet())
        {
            final String name = e.getKey();
            if (!SegmentHeader.isSegmentFileName(name))
            {
                continue;
            }
            final byte[] original = e.getValue();
            final long base = SegmentHeader.basePositionFromFileName(name);
            if (base > to)
            {
                assertFalse(after.containsKey(name), name);
                assertArrayEquals(original, after.get(Journal.TRUNCATED_DIR + "/" + name), name);
                continue;
            }
            final int cut = (int)Math.min(original.length, SegmentHeader.LENGTH + to - base);
            assertArrayEquals(Arrays.copyOf(original, cut), after.get(name), name);
            // the cut bytes are in side files NAME.OFFSET; an interrupted truncation whose later segments were
            // already moved may first have its (now incomplete) last group cut as a torn tail into torn/
            int covered = cut;
            while (covered < original.length)
            {
                byte[] side = after.get(Journal.TRUNCATED_DIR + "/" + name + "." + covered);
                if (null == side)
                {
                    side = after.get(Journal.TORN_DIR + "/" + name + "." + covered);
                }
                assertNotNull(side, "no side file for " + name + " from " + covered + "; files: " + after.keySet());
                assertTrue(side.length > 0 && covered + side.length <= original.length, name);
                assertArrayEquals(Arrays.copyOfRange(original, covered, covered + side.length), side,
                    name + " cut at " + covered);
                covered += side.length;
            }
        }
    }

    @Test
    void truncateToAnyGroupEndThenAppendGivesExactlyTheKeptPrefixPlusTheNewGroupsAfterReopen()
    {
        for (int i = 0; i < 40; i++)
        {
            final long seed = BASE_SEED + i;
            final Random random = new Random(seed);
            final Path dir = root.resolve("t" + seed);
            final RandomWriter writer = new RandomWriter(random, 1100);
            try
            {
                final List<Frame> expected;
                try (Journal journal = Journal.open(ctx(dir)))
                {
                    writer.appendRandom(journal.appender(), 5 + random.nextInt(60));
                    final List<Frame> log = new ArrayList<>(writer.written);
                    final List<Long> ends = groupEnds(log);
                    final long to = ends.get(random.nextInt(ends.size()));
                    final Map<String, byte[]> image = image(dir);
                    journal.truncate(to);
                    expected = before(log, to);
                    assertEquals(expected, readAll(journal), "after truncate to " + to);
                    assertEquals(to, journal.appender().position());
                    assertEquals(to, journal.committedPosition());
                    assertEquals(to, journal.durablePosition());
                    assertCutBytesUnderTruncated(image, dir, to);
                    assertFalse(Files.exists(dir.resolve(Journal.TRUNCATE_INTENT_FILE)));

                    writer.syncWith(journal);
                    writer.written.clear();
                    writer.appendRandom(journal.appender(), random.nextInt(30));
                    expected.addAll(writer.written);
                    assertEquals(expected, readAll(journal));
                }
                try (Journal journal = Journal.open(ctx(dir)))
                {
                    assertFalse(journal.recoveryReport().hadTornTail());
                    assertEquals(expected, readAll(journal));
                }
            }
            catch (final AssertionError | RuntimeException ex)
            {
                throw new AssertionError("seed " + seed + ": " + ex, ex);
            }
        }
    }

    @Test
    void truncateInsideAGroupOrInsideAFrameOrOutsideTheLogIsRefusedAndChangesNothing()
    {
        final Path dir = root.resolve("refuse");
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[300]);
        try (Journal journal = Journal.open(ctx(dir)))
        {
            final JournalAppender appender = journal.appender();
            final List<Long> positions = new ArrayList<>();
            for (int g = 0; g < 40; g++)
            {
                for (int f = 0; f < 3; f++)
                {
                    positions.add(appender.append(1, 1, 1, g, 0, 0, 1, payload, 0, 300, f == 2));
                }
            }
            appender.flush();
            assertTrue(journal.segmentCount() > 3);
            final List<Frame> log = readAll(journal);
            final Map<String, byte[]> image = image(dir);
            final long end = appender.position();
            final long insideGroup = positions.get(31); // second frame of group 10: a frame boundary
            for (final long bad : new long[]{ insideGroup, insideGroup + 8, positions.get(30) + 1, end + 376, -8 })
            {
                final JournalException ex = assertThrows(JournalException.class, () -> journal.truncate(bad),
                    "truncate to " + bad);
                assertTrue(ex.getMessage().contains(String.valueOf(bad)), ex.getMessage());
                assertEquals(log, readAll(journal));
                assertSameImage(image, image(dir), "refused truncate to " + bad);
            }
            assertTrue(assertThrows(JournalException.class, () -> journal.truncate(insideGroup)).getMessage()
                .contains("inside a group"));

            appender.append(1, 1, 1, 99, 0, 0, 1, payload, 0, 10, false);
            assertThrows(IllegalStateException.class, () -> journal.truncate(0), "truncate with a group open");
            appender.abortGroup();
            journal.truncate(0);
            assertEquals(List.of(), readAll(journal));
        }
    }

    /**
     * A reader positioned before the truncation point (as the replicator or the applier would be) reads the new
     * frames written after the truncation, not the truncated ones it may have buffered.
     */
    @Test
    void readerBeforeTheTruncationPointReadsTheNewFramesNotTheCutOnes()
    {
        final Path dir = root.resolve("reader");
        final Random random = new Random(BASE_SEED);
        final RandomWriter writer = new RandomWriter(random, 200);
        try (Journal journal = Journal.open(context(dir, 64 * 1024, 1024, DurabilityPolicy.NONE)
            .readBufferBytes(64 * 1024)))
        {
            writer.appendRandom(journal.appender(), 40);
            final List<Frame> log = new ArrayList<>(writer.written);
            final List<Long> ends = groupEnds(log);
            final long to = ends.get(ends.size() / 2);
            try (JournalReader reader = journal.reader(0))
            {
                final List<Frame> seen = new ArrayList<>();
                while (reader.position() < ends.get(2))
                {
                    reader.poll(f ->
                    {
                        final byte[] bytes = new byte[f.frameLength()];
                        f.buffer().getBytes(f.offset(), bytes);
                        seen.add(new Frame(f.position(), bytes));
                    }, 1);
                }
                journal.truncate(to);
                writer.syncWith(journal);
                writer.written.clear();
                writer.epoch++;
                writer.appendRandom(journal.appender(), 20);
                final List<Frame> expected = before(log, to);
                expected.addAll(writer.written);
                while (reader.poll(f ->
                {
                    final byte[] bytes = new byte[f.frameLength()];
                    f.buffer().getBytes(f.offset(), bytes);
                    seen.add(new Frame(f.position(), bytes));
                }, 100) > 0)
                {
                    // drain
                }
                assertEquals(expected, seen);
            }
        }
    }

    private static void writeIntent(final Path dir, final long position)
    {
        final ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0x544E49434E555254L); // "TRUNCINT"
        b.putLong(8, position);
        final CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 16);
        b.putInt(16, (int)crc.getValue());
        writeBytes(dir.resolve(Journal.TRUNCATE_INTENT_FILE), b.array());
    }

    /**
     * A crash after the intent file was written, at each point of the cut (nothing done yet; later segments moved;
     * everything cut but the intent not yet deleted): the next open completes the truncation.
     */
    @Test
    void interruptedTruncationIsCompletedOnOpenWhereverTheCrashHappened()
    {
        for (int stage = 0; stage < 3; stage++)
        {
            final Path dir = root.resolve("stage" + stage);
            final Random random = new Random(BASE_SEED + stage);
            final RandomWriter writer = new RandomWriter(random, 1100);
            try (Journal journal = Journal.open(ctx(dir)))
            {
                writer.appendRandom(journal.appender(), 60);
                assertTrue(journal.segmentCount() > 3);
            }
            final List<Frame> log = writer.written;
            final List<Long> ends = groupEnds(log);
            final long to = ends.get(ends.size() / 3);
            final List<Frame> expected = before(log, to);
            final Map<String, byte[]> image = image(dir);

            writeIntent(dir, to);
            final List<Path> segments = segmentFiles(dir);
            if (stage >= 1)
            {
                // crash after later segments were moved aside
                for (final Path s : segments)
                {
                    if (baseOf(s) > to)
                    {
                        final Path side = dir.resolve(Journal.TRUNCATED_DIR).resolve(s.getFileName());
                        uncheckedMove(s, side);
                    }
                }
            }
            if (stage == 2)
            {
                // crash after the holding segment was cut (with its copy), before the intent was deleted
                final Path holding = segmentHolding(segmentFiles(dir), to);
                final byte[] bytes = readBytes(holding);
                final int cut = (int)fileOffsetOf(holding, to);
                writeBytes(dir.resolve(Journal.TRUNCATED_DIR).resolve(holding.getFileName() + "." + cut),
                    Arrays.copyOfRange(bytes, cut, bytes.length));
                writeBytes(holding, Arrays.copyOf(bytes, cut));
            }

            try (Journal journal = Journal.open(ctx(dir)))
            {
                assertEquals(to, journal.recoveryReport().completedTruncation(), "stage " + stage);
                assertEquals(to, journal.recoveryReport().endPosition(), "stage " + stage);
                assertEquals(expected.size(), journal.recoveryReport().frameCount(), "stage " + stage);
                assertEquals(expected, readAll(journal), "stage " + stage);
                assertFalse(Files.exists(dir.resolve(Journal.TRUNCATE_INTENT_FILE)), "stage " + stage);
                assertCutBytesUnderTruncated(image, dir, to);
                IndexAgreesWithScanTest.assertIndexMatches(journal, expected);
                writer.syncWith(journal);
                writer.written.clear();
                writer.appendRandom(journal.appender(), 10);
                expected.addAll(writer.written);
            }
            try (Journal journal = Journal.open(ctx(dir)))
            {
                assertEquals(-1, journal.recoveryReport().completedTruncation());
                assertEquals(expected, readAll(journal), "stage " + stage + " after append and reopen");
            }
        }
    }

    @Test
    void interruptedTruncationIsNotSilentlyIgnoredByAReadOnlyOpen()
    {
        final Path dir = root.resolve("ro");
        final RandomWriter writer = new RandomWriter(new Random(BASE_SEED), 500);
        try (Journal journal = Journal.open(ctx(dir)))
        {
            writer.appendRandom(journal.appender(), 10);
        }
        writeIntent(dir, groupEnds(writer.written).get(3));
        final JournalException ex = assertThrows(JournalException.class,
            () -> Journal.open(ctx(dir).readOnly(true)).close());
        assertTrue(ex.getMessage().contains("interrupted truncation"), ex.getMessage());
    }

    private static void uncheckedMove(final Path from, final Path to)
    {
        try
        {
            Files.createDirectories(to.getParent());
            Files.move(from, to);
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
