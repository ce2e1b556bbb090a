package io.keel.replication;

import io.keel.journal.Journal;
import io.keel.journal.JournalReader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The primary's answer to a handshake when its journal no longer starts at 0: a standby it can stream to (its log
 * ends at a group boundary the primary holds) streams; one that is empty elsewhere, or whose last frame is in a
 * deleted segment, gets the snapshot.
 */
class LogMatchingTest
{
    @TempDir
    Path dir;

    @Test
    void aStandbyOutsideTheRetainedJournalIsSentTheSnapshot()
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[1000]);
        try (Journal primary = Journal.open(TestNode.journalContext(dir)))
        {
            final List<long[]> frames = new ArrayList<>(); // position, epoch, crc, next
            for (int c = 1; c <= 1200; c++)
            {
                primary.appender().append(3, c, 1, c, 0, 0, 1, payload, 0, 1000, true);
            }
            primary.appender().flush();
            final long cutAt = primary.committedPosition() / 2;
            assertTrue(primary.deleteSegmentsBefore(cutAt) > 0);
            final long start = primary.startPosition();
            try (JournalReader reader = primary.reader(start))
            {
                while (reader.poll(f -> frames.add(new long[]{ f.position(), f.epoch(), f.crc(), f.nextPosition() }),
                    1024) > 0)
                {
                    // every frame
                }
            }
            final long[] decision = new long[2];
            final long[] inside = frames.get(10);

            LogMatching.decide(primary, 0, -1, 0, 0, decision);
            assertEquals(ReplicationMessage.ACTION_INSTALL_SNAPSHOT, decision[0], "empty at 0, the primary starts later");
            LogMatching.decide(primary, start, -1, 0, 0, decision);
            assertEquals(ReplicationMessage.ACTION_STREAM_FROM, decision[0], "empty at the primary's start");
            assertEquals(start, decision[1]);
            LogMatching.decide(primary, inside[3], -1, 0, 0, decision);
            assertEquals(ReplicationMessage.ACTION_STREAM_FROM, decision[0], "empty at a group end (an installed " +
                "snapshot's position)");
            assertEquals(inside[3], decision[1]);
            LogMatching.decide(primary, inside[3] + 8, -1, 0, 0, decision);
            assertEquals(ReplicationMessage.ACTION_INSTALL_SNAPSHOT, decision[0], "empty inside a frame");
            LogMatching.decide(primary, start, start - 1064, 3, 42, decision);
            assertEquals(ReplicationMessage.ACTION_INSTALL_SNAPSHOT, decision[0], "last frame in a deleted segment");
            LogMatching.decide(primary, inside[3], inside[0], inside[1], (int)inside[2], decision);
            assertEquals(ReplicationMessage.ACTION_STREAM_FROM, decision[0], "a matching frame inside: stream");
            assertEquals(3, LogMatching.epochBefore(primary, inside[3]));
        }
    }
}
