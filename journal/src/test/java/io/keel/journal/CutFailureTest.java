package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Random;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A reset that fails after its intent file refuses later writes (they would land in a file already set aside and be
 * lost when the next open completes the reset); a crash between moving a segment aside and anything after it does
 * not let the bound on truncated/ delete that segment (its time is set before the move). Found in review.
 */
class CutFailureTest
{
    @TempDir
    Path root;

    private static JournalContext ctx(final Path dir)
    {
        return context(dir, 8192, 1200, DurabilityPolicy.NONE);
    }

    @Test
    void aFailedResetRefusesLaterWritesAndTheNextOpenCompletesIt() throws IOException
    {
        final Path dir = root.resolve("k");
        try (Journal journal = Journal.open(ctx(dir)))
        {
            final RandomWriter writer = new RandomWriter(new Random(2), 100);
            writer.appendRandom(journal.appender(), 3);
            // makes createSegment fail after the set-aside (stands in for ENOSPC or EIO)
            Files.createDirectory(dir.resolve(SegmentHeader.fileName(0) + Journal.TEMP_SUFFIX));
            assertThrows(JournalException.class, () -> journal.resetTo(0, 3));
            assertThrows(JournalException.class, () ->
            {
                journal.appender().append(writer.epoch, writer.timestampNs + 1, 1, 999, 0, 0, 1,
                    new UnsafeBuffer(new byte[16]), 0, 16, true);
                journal.appender().flush();
            }, "a write after the failed reset is refused, not accepted into a file set aside");
            Files.deleteIfExists(dir.resolve(SegmentHeader.fileName(0) + Journal.TEMP_SUFFIX));
        }
        try (Journal journal = Journal.open(ctx(dir)))
        {
            assertEquals(0, journal.startPosition());
            assertEquals(0, journal.committedPosition(), "the next open completed the reset");
        }
    }

    @Test
    void aTruncationThatFailsAfterItsIntentLeavesReadersAtThePositionAndTheNextOpenCompletesIt() throws IOException
    {
        final Path dir = root.resolve("t");
        final long to;
        final List<Frame> kept = new java.util.ArrayList<>();
        try (Journal journal = Journal.open(ctx(dir)))
        {
            final RandomWriter writer = new RandomWriter(new Random(3), 200);
            writer.appendRandom(journal.appender(), 30);
            journal.appender().flush();
            long middle = -1;
            for (final Frame frame : writer.written)
            {
                if (frame.endOfGroup() && frame.nextPosition() >= journal.committedPosition() / 2 && middle < 0)
                {
                    middle = frame.nextPosition();
                }
            }
            to = middle;
            for (final Frame frame : writer.written)
            {
                if (frame.position < to)
                {
                    kept.add(frame);
                }
            }
            final long end = journal.committedPosition();
            assertTrue(to > 0 && to < end);
            // makes the copy of the cut bytes fail after the intent file (stands in for ENOSPC or EIO)
            Files.write(dir.resolve(Journal.TRUNCATED_DIR), new byte[1]);
            assertThrows(JournalException.class, () -> journal.truncate(to));
            // from the intent on, files may be half cut (here the copy of the cut bytes failed before any cut):
            // a reader on another thread must not read past the position any more, nor may anything be appended
            assertEquals(to, journal.committedPosition(), "readers stop where the truncation was going");
            assertTrue(journal.durablePosition() <= to, "nothing past the position is released as durable");
            assertFramesEqual(kept, readAll(journal), "a reader sees the kept frames only");
            assertThrows(JournalException.class, () ->
            {
                journal.appender().append(7, 1, 1, 999, 0, 0, 1, new UnsafeBuffer(new byte[16]), 0, 16, true);
                journal.appender().flush();
            }, "no write until the next open has completed the truncation");
            Files.delete(dir.resolve(Journal.TRUNCATED_DIR));
        }
        try (Journal journal = Journal.open(ctx(dir)))
        {
            assertEquals(to, journal.committedPosition(), "the next open completed the truncation");
            assertFramesEqual(kept, readAll(journal), "the kept frames, whole");
        }
    }

    @Test
    void aTruncationThatFailsWritingItsIntentCutsNothingAndTheJournalGoesOn() throws IOException
    {
        final Path dir = root.resolve("u");
        final long after;
        try (Journal journal = Journal.open(ctx(dir)))
        {
            final RandomWriter writer = new RandomWriter(new Random(4), 200);
            writer.appendRandom(journal.appender(), 20);
            journal.appender().flush();
            final List<Frame> all = readAll(journal);
            final long end = journal.committedPosition();
            long to = -1;
            for (final Frame frame : writer.written)
            {
                if (frame.endOfGroup() && to < 0 && frame.nextPosition() >= end / 2)
                {
                    to = frame.nextPosition();
                }
            }
            // makes writing the intent fail before anything is cut (stands in for ENOSPC or EIO)
            Files.createDirectory(dir.resolve(Journal.TRUNCATE_INTENT_FILE + Journal.TEMP_SUFFIX));
            final long cutTo = to;
            assertThrows(JournalException.class, () -> journal.truncate(cutTo));
            assertEquals(end, journal.committedPosition(), "nothing was cut: readers read the whole log again");
            assertEquals(end, journal.durablePosition());
            assertFramesEqual(all, readAll(journal), "the whole log");
            Files.delete(dir.resolve(Journal.TRUNCATE_INTENT_FILE + Journal.TEMP_SUFFIX));
            writer.syncWith(journal);
            writer.appendRandom(journal.appender(), 2); // writes go on
            journal.appender().flush();
            after = journal.committedPosition();
            assertTrue(after > end);
        }
        try (Journal journal = Journal.open(ctx(dir)))
        {
            assertEquals(after, journal.committedPosition(), "no truncation on the next open either");
        }
    }

    private static void assertFramesEqual(final List<Frame> expected, final List<Frame> actual, final String what)
    {
        assertEquals(expected.size(), actual.size(), what + ": frames");
        for (int i = 0; i < expected.size(); i++)
        {
            assertEquals(expected.get(i).position, actual.get(i).position, what + ": position of frame " + i);
            assertArrayEquals(expected.get(i).bytes, actual.get(i).bytes, what + ": bytes of frame " + i);
        }
    }

    @Test
    void aSegmentMovedAsideJustBeforeACrashIsNotPrunedAsOld() throws IOException
    {
        final Path dir = root.resolve("j");
        try (Journal journal = Journal.open(ctx(dir)))
        {
            new RandomWriter(new Random(1), 1100).appendRandom(journal.appender(), 60);
            journal.appender().flush();
        }
        final long now = System.currentTimeMillis();
        final List<Path> segments = segmentFiles(dir);
        long cutBytes = 0;
        for (final Path segment : segments)
        {
            Files.setLastModifiedTime(segment, FileTime.fromMillis(now - 7_200_000)); // written long ago
            cutBytes += Files.size(segment);
        }
        final Path sideDir = dir.resolve(Journal.TRUNCATED_DIR);
        Files.createDirectories(sideDir);
        final Path olderCut = sideDir.resolve("segment-older-cut");
        Files.write(olderCut, new byte[4096]);
        Files.setLastModifiedTime(olderCut, FileTime.fromMillis(now - 3_600_000));
        writeResetIntent(dir, 1 << 20, 3);
        // the reset's first move, as Journal does it (time, then move), then kill -9
        final Path newest = segments.get(segments.size() - 1);
        final Path moved = sideDir.resolve(newest.getFileName());
        Files.setLastModifiedTime(newest, FileTime.fromMillis(System.currentTimeMillis()));
        Files.move(newest, moved);
        try (Journal journal = Journal.open(ctx(dir).truncatedRetainBytes(cutBytes)))
        {
            assertEquals(1 << 20, journal.startPosition());
        }
        assertTrue(Files.exists(moved), "a segment of the latest cut was pruned");
        assertFalse(Files.exists(olderCut), "the older cut went first");
    }
}
