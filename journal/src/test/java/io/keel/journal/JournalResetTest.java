package io.keel.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Journal#resetTo}: the log starts again, empty, at a position; every byte of the old log is kept under
 * {@code truncated/}, and a crash at any point of the reset is completed on the next open.
 */
class JournalResetTest
{
    private static final long SEED = Long.getLong("keel.test.seed", 0x5E5E7L);

    @TempDir
    Path root;

    @Test
    void resetStartsEmptyAndKeepsEveryOldSegmentUnderTruncated() throws IOException
    {
        final Path dir = root.resolve("j");
        final RandomWriter writer = new RandomWriter(new Random(SEED), 1100);
        final long to;
        final Map<String, byte[]> before;
        try (Journal journal = Journal.open(ctx(dir)))
        {
            writer.appendRandom(journal.appender(), 60);
            assertTrue(journal.segmentCount() > 3);
            journal.appender().flush();
            before = image(dir);
            to = journal.committedPosition() + 8192;
            journal.resetTo(to, 7);
            assertEquals(to, journal.startPosition());
            assertEquals(to, journal.committedPosition());
            assertEquals(1, journal.segmentCount());
            assertEquals(7, journal.lastEpoch());
            assertTrue(readAll(journal).isEmpty());
        }
        assertOldSegmentsKept(before, dir);
        try (Journal journal = Journal.open(ctx(dir)))
        {
            assertEquals(to, journal.startPosition());
            assertTrue(readAll(journal).isEmpty());
            assertEquals(7, journal.lastEpoch(), "the epoch the reset started the log in, after a reopen too");
        }
    }

    @Test
    void truncatingBackToTheStartOfAResetLogGivesTheResetEpochInMemoryAndAfterAReopen() throws IOException
    {
        final Path dir = root.resolve("s");
        final long to = 1 << 20;
        try (Journal journal = Journal.open(ctx(dir)))
        {
            final RandomWriter writer = new RandomWriter(new Random(SEED + 1), 300);
            writer.appendRandom(journal.appender(), 5);
            journal.appender().flush();
            journal.resetTo(to, 7);
            writer.syncWith(journal);
            writer.epoch = 9;
            writer.appendRandom(journal.appender(), 5);
            journal.appender().flush();
            assertEquals(9, journal.lastEpoch());
            journal.truncate(to);
            assertEquals(to, journal.committedPosition());
            assertEquals(7, journal.lastEpoch(), "the epoch the reset started the log in");
        }
        try (Journal journal = Journal.open(ctx(dir)))
        {
            assertEquals(to, journal.committedPosition());
            assertEquals(7, journal.lastEpoch(), "the same after a reopen");
        }
    }

    /**
     * A crash after the intent file was written, at each point of the reset (nothing moved yet; the newest segments
     * moved; everything moved and the new segment created but the intent not yet deleted): the next open finishes
     * the reset, loses no old byte and leaves no empty segment behind in truncated/.
     */
    @Test
    void interruptedResetIsCompletedOnOpenWhereverTheCrashHappened() throws IOException
    {
        for (int stage = 0; stage < 3; stage++)
        {
            final Path dir = root.resolve("stage" + stage);
            final RandomWriter writer = new RandomWriter(new Random(SEED + stage), 1100);
            final long end;
            try (Journal journal = Journal.open(ctx(dir)))
            {
                writer.appendRandom(journal.appender(), 60);
                assertTrue(journal.segmentCount() > 3);
                journal.appender().flush();
                end = journal.committedPosition();
            }
            final Map<String, byte[]> before = image(dir);
            final long to = end + 4096;
            writeResetIntent(dir, to, 9);
            final List<Path> segments = segmentFiles(dir);
            if (stage >= 1)
            {
                // crash after the newest segments were moved aside (newest first: a prefix of the log remains)
                final int moved = stage == 1 ? segments.size() / 2 : segments.size();
                for (int i = segments.size() - 1; i >= segments.size() - moved; i--)
                {
                    final Path side = dir.resolve(Journal.TRUNCATED_DIR).resolve(segments.get(i).getFileName());
                    Files.createDirectories(side.getParent());
                    Files.move(segments.get(i), side);
                }
            }
            if (stage == 2)
            {
                // crash after the new, empty segment was created
                final Path scratch = root.resolve("scratch" + stage);
                try (Journal journal = Journal.open(ctx(scratch)))
                {
                    journal.resetTo(to, 9);
                }
                final Path fresh = segmentFiles(scratch).get(0);
                Files.copy(fresh, dir.resolve(fresh.getFileName()));
            }

            try (Journal journal = Journal.open(ctx(dir)))
            {
                assertFalse(Files.exists(dir.resolve(Journal.RESET_INTENT_FILE)), "stage " + stage);
                assertEquals(to, journal.startPosition(), "stage " + stage);
                assertEquals(to, journal.committedPosition(), "stage " + stage);
                assertEquals(1, journal.segmentCount(), "stage " + stage);
                assertTrue(readAll(journal).isEmpty(), "stage " + stage);
                writer.syncWith(journal);
                writer.written.clear();
                writer.appendRandom(journal.appender(), 5);
                assertEquals(writer.written, readAll(journal), "stage " + stage + ": appends after the reset");
            }
            assertOldSegmentsKept(before, dir);
            assertEquals(before.keySet().stream().filter(n -> n.startsWith(SegmentHeader.FILE_PREFIX)).count(),
                count(dir.resolve(Journal.TRUNCATED_DIR)),
                "stage " + stage + ": only the old segments in truncated/");
        }
    }

    @Test
    void interruptedResetIsNotSilentlyIgnoredByAReadOnlyOpen() throws IOException
    {
        final Path dir = root.resolve("ro");
        try (Journal journal = Journal.open(ctx(dir)))
        {
            new RandomWriter(new Random(SEED), 500).appendRandom(journal.appender(), 5);
        }
        writeResetIntent(dir, 1 << 20, 3);
        final JournalException ex = assertThrows(JournalException.class,
            () -> Journal.open(ctx(dir).readOnly(true)));
        assertTrue(ex.getMessage().contains(Journal.RESET_INTENT_FILE), ex.getMessage());
        assertFalse(Files.exists(dir.resolve(Journal.TRUNCATED_DIR)), "a read-only open changes nothing");
    }

    @Test
    void damagedResetIntentIsRefusedNamingTheFile() throws IOException
    {
        final Path dir = root.resolve("bad");
        try (Journal journal = Journal.open(ctx(dir)))
        {
            new RandomWriter(new Random(SEED), 500).appendRandom(journal.appender(), 5);
        }
        writeResetIntent(dir, 1 << 20, 3);
        final Path intent = dir.resolve(Journal.RESET_INTENT_FILE);
        final byte[] bytes = readBytes(intent);
        bytes[9] ^= 1;
        writeBytes(intent, bytes);
        final JournalCorruptedException ex = assertThrows(JournalCorruptedException.class,
            () -> Journal.open(ctx(dir)));
        assertTrue(ex.getMessage().contains(intent.toString()), ex.getMessage());
    }

    private static JournalContext ctx(final Path dir)
    {
        return context(dir, 8192, 1200, DurabilityPolicy.NONE);
    }

    private static void assertOldSegmentsKept(final Map<String, byte[]> before, final Path dir) throws IOException
    {
        final Map<String, byte[]> kept = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir.resolve(Journal.TRUNCATED_DIR)))
        {
            for (final Path file : (Iterable<Path>)files::iterator)
            {
                kept.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        }
        final List<String> missing = new ArrayList<>();
        for (final Map.Entry<String, byte[]> segment : before.entrySet())
        {
            if (!segment.getKey().startsWith(SegmentHeader.FILE_PREFIX))
            {
                continue;
            }
            final byte[] copy = kept.get(segment.getKey());
            if (null == copy || !java.util.Arrays.equals(segment.getValue(), copy))
            {
                missing.add(segment.getKey());
            }
        }
        assertTrue(missing.isEmpty(), "old segments not kept byte for byte under truncated/: " + missing +
            " (kept: " + kept.keySet() + ")");
    }

    private static long count(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.count();
        }
    }
}
