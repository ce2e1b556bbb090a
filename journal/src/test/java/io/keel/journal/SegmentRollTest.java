package io.keel.journal;

import io.keel.journal.JournalTestSupport.Frame;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Segment rolls: at the exact boundary, in the middle of a group, and torn tails around them.
 */
class SegmentRollTest
{
    private static final int SEGMENT = 4096;
    private static final int CAPACITY = SEGMENT - SegmentHeader.LENGTH; // 4032

    @TempDir
    Path dir;

    private JournalContext ctx()
    {
        return context(dir, SEGMENT, CAPACITY, DurabilityPolicy.BATCH);
    }

    private static List<Frame> group(final JournalAppender appender, final long command, final int... payloadLengths)
    {
        final List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < payloadLengths.length; i++)
        {
            final byte[] payload = new byte[payloadLengths[i]];
            Arrays.fill(payload, (byte)(command * 7 + i));
            final boolean end = i == payloadLengths.length - 1;
            final long position = appender.append(1, 1000 + command, 5, command, 0, 0, 2, new UnsafeBuffer(payload), 0,
                payload.length, end);
            frames.add(new Frame(position, encode(position, 1, 1000 + command, 5, command, 0, 0, 2, end, payload)));
        }
        return frames;
    }

    @Test
    void frameThatExactlyFillsASegmentStaysInItAndTheNextFrameRolls()
    {
        final List<Frame> log = new ArrayList<>();
        try (Journal journal = Journal.open(ctx()))
        {
            log.addAll(group(journal.appender(), 1, CAPACITY - FrameDescriptor.HEADER_LENGTH));
            journal.appender().flush();
            assertEquals(1, journal.segmentCount(), "an exactly fitting frame does not roll");
            assertEquals(SEGMENT, readBytes(segmentFiles(dir).get(0)).length);
            log.addAll(group(journal.appender(), 2, 0));
            journal.appender().flush();
            assertEquals(2, journal.segmentCount());
            assertEquals(CAPACITY, baseOf(segmentFiles(dir).get(1)));
            assertEquals(log, readAll(journal));
        }
        try (Journal journal = Journal.open(ctx()))
        {
            assertFalse(journal.recoveryReport().hadTornTail());
            assertEquals(log, readAll(journal));
            log.addAll(group(journal.appender(), 3, 10));
        }
        try (Journal journal = Journal.open(ctx()))
        {
            assertEquals(log, readAll(journal));
        }
    }

    @Test
    void frameOneAlignmentShortOfTheBoundaryLeavesAGapAndPositionsStayContiguous()
    {
        final List<Frame> log = new ArrayList<>();
        try (Journal journal = Journal.open(ctx()))
        {
            log.addAll(group(journal.appender(), 1, CAPACITY - FrameDescriptor.HEADER_LENGTH - 8));
            log.addAll(group(journal.appender(), 2, 0)); // 72 bytes do not fit in the 8 left
            journal.appender().flush();
            assertEquals(2, journal.segmentCount());
            assertEquals(CAPACITY - 8, log.get(1).position);
            assertEquals(CAPACITY - 8, baseOf(segmentFiles(dir).get(1)));
        }
        try (Journal journal = Journal.open(ctx()))
        {
            assertEquals(log, readAll(journal));
        }
    }

    @Test
    void groupSpanningARollIsReadWholeAndSurvivesReopen()
    {
        final List<Frame> log = new ArrayList<>();
        try (Journal journal = Journal.open(ctx()))
        {
            log.addAll(group(journal.appender(), 1, 1500, 1500, 1500, 1500)); // 4 * 1576 > 4032: rolls inside
            journal.appender().flush();
            assertEquals(2, journal.segmentCount());
            assertEquals(log, readAll(journal));
        }
        try (Journal journal = Journal.open(ctx()))
        {
            assertFalse(journal.recoveryReport().hadTornTail());
            assertEquals(log, readAll(journal));
        }
    }

    /** Cut the second segment of a group spanning a roll at several offsets: the whole group goes. */
    @Test
    void tornTailInAGroupSpanningARollCutsTheWholeGroupFromBothSegments()
    {
        for (final int cut : new int[]{ 0, 10, 63, 64, 100, 64 + 1576 - 1, 64 + 1576, 64 + 1576 + 72 })
        {
            final Path jdir = dir.resolve("cut" + cut);
            final JournalContext ctx = context(jdir, SEGMENT, CAPACITY, DurabilityPolicy.BATCH);
            final List<Frame> first;
            try (Journal journal = Journal.open(ctx))
            {
                first = group(journal.appender(), 1, 100);
                group(journal.appender(), 2, 1500, 1500, 1500, 1500); // 2 frames in each segment
                journal.appender().flush();
                assertEquals(2, journal.segmentCount());
            }
            final List<Path> segments = segmentFiles(jdir);
            final byte[] firstSegment = readBytes(segments.get(0));
            final byte[] secondSegment = readBytes(segments.get(1));
            writeBytes(segments.get(1), Arrays.copyOf(secondSegment, cut));
            final String where = "second segment cut at " + cut;

            try (Journal journal = Journal.open(ctx))
            {
                final RecoveryReport report = journal.recoveryReport();
                assertTrue(report.hadTornTail() || cut < SegmentHeader.LENGTH, where + ": " + report);
                assertEquals(first, readAll(journal), where);
                assertEquals(first.get(0).nextPosition(), report.endPosition(), where);
                final long cutOffset = SegmentHeader.LENGTH + first.get(0).nextPosition();
                assertArrayEquals(Arrays.copyOf(firstSegment, (int)cutOffset), readBytes(segments.get(0)), where);
                assertArrayEquals(Arrays.copyOfRange(firstSegment, (int)cutOffset, firstSegment.length),
                    readBytes(jdir.resolve("torn").resolve(segments.get(0).getFileName() + "." + cutOffset)), where);
                assertArrayEquals(Arrays.copyOf(secondSegment, cut),
                    readBytes(jdir.resolve("torn").resolve(segments.get(1).getFileName())), where);
                assertFalse(Files.exists(segments.get(1)), where);
                first.addAll(group(journal.appender(), 3, 1500, 1500, 1500));
            }
            try (Journal journal = Journal.open(ctx))
            {
                assertFalse(journal.recoveryReport().hadTornTail(), where);
                assertEquals(first, readAll(journal), where);
            }
        }
    }

    /**
     * A crash can cut the last frame's alignment padding only (the CRC does not cover it): the frame is whole. The
     * appender continues at the aligned end; if its next frame rolls, the short segment must still open.
     */
    @Test
    void lastFrameCutInsideItsPaddingSurvivesAndARollAfterItReopens()
    {
        final List<Frame> log = new ArrayList<>();
        try (Journal journal = Journal.open(ctx()))
        {
            for (int i = 0; i < 3; i++)
            {
                log.addAll(group(journal.appender(), i, 1001)); // 1073 bytes, 1080 aligned
            }
        }
        final Path first = segmentFiles(dir).get(0);
        final byte[] bytes = readBytes(first);
        assertEquals(SegmentHeader.LENGTH + 3 * 1080, bytes.length);
        writeBytes(first, Arrays.copyOf(bytes, bytes.length - 7));
        try (Journal journal = Journal.open(ctx()))
        {
            assertEquals(log, readAll(journal));
            assertEquals(3 * 1080, journal.appender().position());
            log.addAll(group(journal.appender(), 9, 1000)); // does not fit: rolls
            assertEquals(2, journal.segmentCount());
        }
        try (Journal journal = Journal.open(ctx()))
        {
            assertFalse(journal.recoveryReport().hadTornTail(), journal.recoveryReport().toString());
            assertEquals(log, readAll(journal));
        }
    }
}
