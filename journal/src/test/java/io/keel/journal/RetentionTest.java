package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.keel.journal.JournalTestSupport.context;
import static io.keel.journal.JournalTestSupport.readFrom;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retention deletes whole segments before a position and the journal keeps working, across reopen: it starts
 * later, its index is partial (histories start mid-stream), and it still refuses a broken version sequence. A reset
 * starts an empty log at a snapshot's position.
 */
class RetentionTest
{
    private static final int SEGMENT = 4096;
    private static final int STREAMS = 4;
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[200]);

    @TempDir
    Path dir;

    private JournalContext ctx()
    {
        return context(dir, SEGMENT, SEGMENT - SegmentHeader.LENGTH, DurabilityPolicy.BATCH);
    }

    /** One event per group, streams 1..STREAMS in turn; returns the position after it. */
    private long append(final Journal journal, final long command, final long[] versions)
    {
        final int stream = (int)(command % STREAMS) + 1;
        versions[stream]++;
        journal.appender().append(1, command, 7, command, stream, versions[stream], 3, payload, 0, 200, true);
        journal.appender().flush();
        return journal.committedPosition();
    }

    @Test
    void segmentsBeforeAPositionAreDeletedAndTheJournalReopensPartial()
    {
        final long[] versions = new long[STREAMS + 1];
        final long cut;
        final long end;
        try (Journal journal = Journal.open(ctx()))
        {
            long mid = 0;
            for (int c = 0; c < 200; c++)
            {
                final long position = append(journal, c, versions);
                if (c == 120)
                {
                    mid = position;
                }
            }
            final int before = journal.segmentCount();
            assertTrue(before > 5, "several segments: " + before);
            final int deleted = journal.deleteSegmentsBefore(mid);
            assertTrue(deleted > 0 && journal.segmentCount() == before - deleted);
            assertTrue(journal.startPosition() > 0 && journal.startPosition() <= mid);
            assertTrue(journal.streamIndex().isPartial());
            cut = journal.startPosition();
            end = journal.committedPosition();
            assertEquals(0, journal.deleteSegmentsBefore(0), "nothing before the start");
            assertEquals(0, journal.deleteSegmentsBefore(cut), "the segment holding the position is kept");
        }
        try (Journal journal = Journal.open(ctx()))
        {
            assertEquals(cut, journal.startPosition());
            assertEquals(end, journal.committedPosition());
            final StreamIndex index = journal.streamIndex();
            assertTrue(index.isPartial());
            for (int stream = 1; stream <= STREAMS; stream++)
            {
                assertEquals(versions[stream], index.version(stream), "stream " + stream + " version");
                final long first = index.firstIndexedVersion(stream);
                assertTrue(first > 1, "stream " + stream + " history starts mid-stream at " + first);
                assertEquals(-1, index.positionOf(stream, first - 1), "deleted history has no position");
                assertTrue(index.positionOf(stream, first) >= cut);
            }
            assertEquals(readFrom(journal, cut).size(), index.eventCount());
            // appending goes on with the next versions
            append(journal, 1_000, versions);
            assertThrows(IllegalArgumentException.class, () -> journal.appender().append(1, 2_000, 7, 2_000, 1,
                versions[1] + 5, 3, payload, 0, 200, true), "a gap in a known stream is still refused");
        }
    }

    @Test
    void aResetStartsAnEmptyLogAtAPositionThatSurvivesReopen()
    {
        final long[] versions = new long[STREAMS + 1];
        final long at;
        try (Journal journal = Journal.open(ctx()))
        {
            for (int c = 0; c < 30; c++)
            {
                append(journal, c, versions);
            }
            at = journal.committedPosition() + 4096; // a snapshot position past this node's log
            journal.resetTo(at, 9);
            assertEquals(at, journal.startPosition());
            assertEquals(at, journal.committedPosition());
            assertEquals(1, journal.segmentCount());
            assertEquals(0, journal.streamIndex().eventCount());
            journal.streamIndex().seed(1, 40);
            journal.appender().append(9, 5_000, 7, 5_000, 1, 41, 3, payload, 0, 200, true);
            journal.appender().append(9, 5_001, 7, 5_001, 2, 17, 3, payload, 0, 200, true);
            journal.appender().flush();
        }
        try (Journal journal = Journal.open(ctx()))
        {
            assertEquals(at, journal.startPosition());
            assertEquals(2, readFrom(journal, at).size());
            assertEquals(41, journal.streamIndex().version(1));
            assertEquals(17, journal.streamIndex().version(2));
            assertEquals(9, journal.lastEpoch());
        }
    }

    @Test
    void aCompleteIndexRefusesSeedsAndMidStreamStarts()
    {
        try (Journal journal = Journal.open(ctx()))
        {
            assertFalse(journal.streamIndex().isPartial());
            assertThrows(IllegalStateException.class, () -> journal.streamIndex().seed(1, 5));
            assertThrows(IllegalArgumentException.class, () -> journal.appender().append(1, 1, 7, 1, 1, 5, 3, payload,
                0, 200, true));
        }
    }
}
