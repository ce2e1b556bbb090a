package io.keel.journal;

import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link JournalContext#truncatedRetainBytes}: what truncations and resets set aside under {@code truncated/} is kept
 * within a bound, the oldest files deleted first, and the latest cut always kept whole.
 */
class TruncatedRetentionTest
{
    private static final long SEED = Long.getLong("keel.test.seed", 0x7E7A1L);

    @TempDir
    Path root;

    @Test
    void oldestCutsGoFirstAndTheLatestIsAlwaysKept() throws IOException
    {
        final Path dir = root.resolve("j");
        final long retain = 6_000;
        final RandomWriter writer = new RandomWriter(new Random(SEED), 600);
        final List<Set<String>> cuts = new ArrayList<>(); // each cut's files, by content (names are reused)
        try (Journal journal = Journal.open(ctx(dir).truncatedRetainBytes(retain)))
        {
            writer.appendRandom(journal.appender(), 20);
            for (int i = 0; i < 8; i++)
            {
                journal.appender().flush();
                final long keep = journal.committedPosition();
                writer.appendRandom(journal.appender(), 6); // the tail each truncation cuts: ~2 KiB
                journal.appender().flush();
                final Set<String> before = contents(truncatedImage(dir));
                nextMillisecond();
                journal.truncate(keep);
                writer.syncWith(journal);
                final Map<String, byte[]> after = truncatedImage(dir);
                final Set<String> kept = contents(after);
                final Set<String> cut = new TreeSet<>(kept);
                cut.removeAll(before);
                assertFalse(cut.isEmpty(), "truncation " + i + " set its tail aside");
                cuts.add(cut);

                final long cutBytes = cut.stream().mapToLong(TruncatedRetentionTest::length).sum();
                assertTrue(bytes(after) <= retain || bytes(after) == cutBytes,
                    "truncated/ holds " + bytes(after) + " bytes, more than " + retain + " with older cuts in it");
                // oldest first: when any file of a cut is kept, every file of every later cut is too
                int oldestKept = cuts.size() - 1;
                for (int c = cuts.size() - 1; c >= 0; c--)
                {
                    if (cuts.get(c).stream().anyMatch(kept::contains))
                    {
                        oldestKept = c;
                    }
                }
                final Set<String> newer = new TreeSet<>();
                for (int c = oldestKept + 1; c < cuts.size(); c++)
                {
                    newer.addAll(cuts.get(c));
                }
                assertTrue(kept.containsAll(newer), "truncation " + i + ": a newer cut lost a file");
                assertTrue(cuts.get(oldestKept).containsAll(kept.stream().filter(k -> !newer.contains(k)).toList()),
                    "truncation " + i + ": kept files that are no cut's");
            }
            assertTrue(cuts.size() > contents(truncatedImage(dir)).size(), "older cuts were deleted");
            assertFalse(contents(truncatedImage(dir)).containsAll(cuts.get(0)), "the oldest cut was deleted");
        }
    }

    @Test
    void aResetLargerThanTheBoundIsKeptWholeAndEverythingOlderGoes() throws IOException
    {
        final Path dir = root.resolve("r");
        final RandomWriter writer = new RandomWriter(new Random(SEED), 1100);
        try (Journal journal = Journal.open(ctx(dir).truncatedRetainBytes(1000)))
        {
            writer.appendRandom(journal.appender(), 10);
            journal.appender().flush();
            final long keep = journal.committedPosition();
            writer.appendRandom(journal.appender(), 5);
            journal.appender().flush();
            nextMillisecond();
            journal.truncate(keep);
            writer.syncWith(journal);
            final Map<String, byte[]> firstCut = truncatedImage(dir);
            assertFalse(firstCut.isEmpty());

            writer.appendRandom(journal.appender(), 40);
            journal.appender().flush();
            final Map<String, byte[]> log = new TreeMap<>();
            for (final Path segment : segmentFiles(dir))
            {
                log.put(segment.getFileName().toString(), Files.readAllBytes(segment));
            }
            assertTrue(bytes(log) > 1000);
            nextMillisecond();
            journal.resetTo(journal.committedPosition(), 3);
            assertSameImage(log, truncatedImage(dir), "only the reset's old log is kept, whole");
        }
    }

    @Test
    void aWallClockSteppedBackDuringACutLeavesThatCutWhole() throws IOException
    {
        // the same log cut twice with a bound of 0 (only the latest cut may stay, whole): once with a steady clock,
        // once with a clock that steps back an hour (an NTP step) right after the cut starts
        final Map<String, byte[]> steady = cutOnce(root.resolve("steady"), null);
        assertFalse(steady.isEmpty());
        final long startMs = System.currentTimeMillis();
        final long[] reads = {0};
        final boolean[] armed = {false};
        final EpochClock steppingBack = () -> armed[0] && reads[0]++ > 0 ? startMs - 3_600_000 : startMs;
        final Map<String, byte[]> stepped = cutOnce(root.resolve("stepped"), () ->
        {
            armed[0] = true;
            return steppingBack;
        });
        assertTrue(reads[0] > 1, "the clock was read after the cut started");
        assertSameImage(steady, stepped, "the cut's own files taken for an older cut's and pruned");
    }

    @Test
    void anInterruptedResetCompletedAfterTheClockSteppedBackKeepsEveryFileItSetAside() throws IOException
    {
        final Path dir = root.resolve("interrupted");
        final long startMs = System.currentTimeMillis() - 600_000; // the reset's start, before the intent's writing
        final long steppedMs = startMs - 3_600_000;
        final int segments = resetInterruptedAfterItsFirstMove(dir, startMs, steppedMs); // a step back an hour
        try (Journal journal = Journal.open(context(dir, 8192, 1200, DurabilityPolicy.NONE)
            .truncatedRetainBytes(0).epochClock(() -> steppedMs)))
        {
            assertEquals(1 << 20, journal.startPosition(), "the next open completed the reset");
        }
        assertEquals(segments, truncatedImage(dir).size(),
            "every old segment kept: the reset's time is its intent's, and the file moved before the crash is not " +
            "older than it");
    }

    @Test
    void onAFilesystemThatKeepsWholeSecondsATruncationKeepsItsOwnFiles() throws IOException
    {
        // a truncation that starts half way through a second, with a bound of 0 (only the latest cut may stay,
        // whole), on a filesystem that keeps whole seconds: the cut's own stamps read back earlier than its start
        final long secondMs = System.currentTimeMillis() / 1000 * 1000;
        final Map<String, byte[]> steady = cutOnce(root.resolve("steady"), null);
        final Path truncated = root.resolve("truncated");
        assertSameImage(steady, cutOnce(truncated, () -> wholeSeconds(truncated, () -> secondMs + 500)),
            "a truncation's files taken for an older cut's and pruned");
    }

    @Test
    void onAFilesystemThatKeepsWholeSecondsAResetKeepsItsOwnFiles() throws IOException
    {
        // as above for a reset, after a truncation whose cut it may prune
        final long secondMs = System.currentTimeMillis() / 1000 * 1000;
        final Path dir = root.resolve("reset");
        final long[] nowMs = {secondMs + 500};
        final RandomWriter writer = new RandomWriter(new Random(SEED), 1100);
        try (Journal journal = Journal.open(ctx(dir).truncatedRetainBytes(0)
            .epochClock(wholeSeconds(dir, () -> nowMs[0]))))
        {
            writer.appendRandom(journal.appender(), 10);
            journal.appender().flush();
            final long keep = journal.committedPosition();
            writer.appendRandom(journal.appender(), 5);
            journal.appender().flush();
            journal.truncate(keep);
            writer.syncWith(journal);
            assertFalse(truncatedImage(dir).isEmpty());

            writer.appendRandom(journal.appender(), 40);
            journal.appender().flush();
            final Map<String, byte[]> log = new TreeMap<>();
            for (final Path segment : segmentFiles(dir))
            {
                log.put(segment.getFileName().toString(), Files.readAllBytes(segment));
            }
            nowMs[0] = secondMs + 1500;
            journal.resetTo(journal.committedPosition(), 3);
            assertSameImage(log, truncatedImage(dir), "the reset's old log is kept whole, the truncation's cut goes");
        }
    }

    @Test
    void anInterruptedResetCompletedOnAFilesystemThatKeepsWholeSecondsKeepsEveryFileItSetAside() throws IOException
    {
        // the files set aside before the crash are known by their stamps alone: the intent's time, the start the
        // next open reads, is rounded down as they are. A guard of that stamp path (it passes without the files known
        // by name): it fails if the start were read at a finer grain than the files' stamps
        final Path dir = root.resolve("interrupted");
        final long startMs = System.currentTimeMillis() / 1000 * 1000 + 500;
        final int segments = resetInterruptedAfterItsFirstMove(dir, startMs, startMs);
        roundDownToWholeSeconds(dir); // the intent file with them
        roundDownToWholeSeconds(dir.resolve(Journal.TRUNCATED_DIR));
        try (Journal journal = Journal.open(ctx(dir).truncatedRetainBytes(0)
            .epochClock(wholeSeconds(dir, () -> startMs + 300))))
        {
            assertEquals(1 << 20, journal.startPosition(), "the next open completed the reset");
        }
        assertEquals(segments, truncatedImage(dir).size(), "every old segment kept");
    }

    /**
     * A clock on a filesystem that keeps modification times in whole seconds (ext3, HFS+, some network filesystems):
     * each read first rounds down the time of every file under {@code truncated/} to its second. A cut reads the
     * clock before it stamps each file it sets aside and, in a reset, after the last (the new segment's creation
     * time), so pruning sees all but at most the last stamp of a cut as such a filesystem keeps them.
     */
    private static EpochClock wholeSeconds(final Path dir, final LongSupplier timeMs)
    {
        return () ->
        {
            final Path sideDir = dir.resolve(Journal.TRUNCATED_DIR);
            if (Files.isDirectory(sideDir))
            {
                try
                {
                    roundDownToWholeSeconds(sideDir);
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            }
            return timeMs.getAsLong();
        };
    }

    /** Every file in the folder gets its modification time rounded down to a whole second. */
    private static void roundDownToWholeSeconds(final Path folder) throws IOException
    {
        try (Stream<Path> files = Files.list(folder))
        {
            for (final Path file : (Iterable<Path>)files::iterator)
            {
                final long modifiedMs = Files.getLastModifiedTime(file).toMillis();
                Files.setLastModifiedTime(file, FileTime.fromMillis(modifiedMs / 1000 * 1000));
            }
        }
    }

    /**
     * A reset of a log of several segments, interrupted after it set the first one aside: from the reset on the
     * clock reads the cut's start, then the first file's stamp, then fails (standing in for a kill -9 after that
     * file's move).
     *
     * @return how many segments the log had.
     */
    private static int resetInterruptedAfterItsFirstMove(final Path dir, final long startMs, final long firstFileMs)
        throws IOException
    {
        final int[] reads = {0};
        final boolean[] armed = {false};
        final EpochClock failing = () ->
        {
            if (!armed[0])
            {
                return startMs;
            }
            reads[0]++;
            if (reads[0] > 2)
            {
                throw new IllegalStateException("crash");
            }
            return 1 == reads[0] ? startMs : firstFileMs;
        };
        final int segments;
        try (Journal journal = Journal.open(ctx(dir).epochClock(failing)))
        {
            new RandomWriter(new Random(SEED), 1100).appendRandom(journal.appender(), 60);
            journal.appender().flush();
            segments = segmentFiles(dir).size();
            assertTrue(segments > 2);
            armed[0] = true;
            assertThrows(JournalException.class, () -> journal.resetTo(1 << 20, 3));
        }
        assertEquals(1, truncatedImage(dir).size(), "one file set aside before the crash");
        return segments;
    }

    /**
     * @param clock null: the system clock; else supplies the clock just before the cut (it is read through the
     *              context from then on).
     * @return truncated/ after one truncation of a seeded log with a bound of 0.
     */
    private static Map<String, byte[]> cutOnce(final Path dir, final java.util.function.Supplier<EpochClock> clock)
        throws IOException
    {
        final RandomWriter writer = new RandomWriter(new Random(SEED), 1100);
        final EpochClock[] current = {SystemEpochClock.INSTANCE};
        try (Journal journal = Journal.open(ctx(dir).truncatedRetainBytes(0).epochClock(() -> current[0].time())))
        {
            writer.appendRandom(journal.appender(), 10);
            journal.appender().flush();
            final long keep = journal.committedPosition();
            writer.appendRandom(journal.appender(), 30); // a tail over more than one segment
            journal.appender().flush();
            if (null != clock)
            {
                current[0] = clock.get();
            }
            journal.truncate(keep);
            writer.syncWith(journal);
        }
        return truncatedImage(dir);
    }

    @Test
    void minusOneKeepsEverything() throws IOException
    {
        final Path dir = root.resolve("all");
        final RandomWriter writer = new RandomWriter(new Random(SEED), 600);
        final Map<String, byte[]> all = new TreeMap<>();
        try (Journal journal = Journal.open(ctx(dir).truncatedRetainBytes(-1)))
        {
            writer.appendRandom(journal.appender(), 5);
            for (int i = 0; i < 5; i++)
            {
                journal.appender().flush();
                final long keep = journal.committedPosition();
                writer.appendRandom(journal.appender(), 6);
                journal.appender().flush();
                nextMillisecond();
                journal.truncate(keep);
                writer.syncWith(journal);
                all.putAll(truncatedImage(dir));
            }
        }
        assertSameImage(all, truncatedImage(dir), "every cut kept");
        assertThrows(IllegalArgumentException.class,
            () -> Journal.open(ctx(root.resolve("bad")).truncatedRetainBytes(-2)));
    }

    /** Cuts in different milliseconds: a file's modification time (ms) orders the cuts. */
    private static void nextMillisecond()
    {
        final long now = System.currentTimeMillis();
        while (System.currentTimeMillis() <= now)
        {
            Thread.onSpinWait();
        }
    }

    private static Map<String, byte[]> truncatedImage(final Path dir) throws IOException
    {
        final Map<String, byte[]> image = new TreeMap<>();
        final Path sideDir = dir.resolve(Journal.TRUNCATED_DIR);
        if (!Files.isDirectory(sideDir))
        {
            return image;
        }
        try (Stream<Path> files = Files.list(sideDir))
        {
            for (final Path file : (Iterable<Path>)files::iterator)
            {
                image.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        }
        return image;
    }

    /** @return each file's content as a key: its length, a colon, its SHA-256 in hex. */
    private static Set<String> contents(final Map<String, byte[]> image)
    {
        final Set<String> keys = new TreeSet<>();
        for (final byte[] bytes : image.values())
        {
            try
            {
                keys.add(bytes.length + ":" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
            }
            catch (final NoSuchAlgorithmException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
        return keys;
    }

    private static long length(final String contentKey)
    {
        return Long.parseLong(contentKey.substring(0, contentKey.indexOf(':')));
    }

    private static long bytes(final Map<String, byte[]> image)
    {
        return image.values().stream().mapToLong(b -> b.length).sum();
    }

    private static JournalContext ctx(final Path dir)
    {
        return context(dir, 8192, 1200, DurabilityPolicy.NONE);
    }
}
