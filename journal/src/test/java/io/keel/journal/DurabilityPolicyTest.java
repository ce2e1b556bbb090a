package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The durable position (what may be acknowledged) moves as each policy promises: NONE once written to the file,
 * BATCH only on flush (one fsync per batch), ALWAYS at every group.
 */
class DurabilityPolicyTest
{
    @TempDir
    Path dir;

    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[400]);

    private Journal open(final DurabilityPolicy policy)
    {
        return Journal.open(JournalTestSupport.context(dir.resolve(policy.name()), 16384, 500, policy)
            .stagingBufferBytes(1200));
    }

    private static void group(final JournalAppender appender, final int frames, final int payloadLength,
        final UnsafeBuffer payload)
    {
        for (int i = 0; i < frames; i++)
        {
            appender.append(1, 1, 1, 1, 0, 0, 1, payload, 0, payloadLength, i == frames - 1);
        }
    }

    @Test
    void noneCountsWhatIsWrittenToTheFileAsDurable()
    {
        try (Journal journal = open(DurabilityPolicy.NONE))
        {
            final JournalAppender appender = journal.appender();
            group(appender, 1, 100, payload);
            assertEquals(0, journal.durablePosition(), "staged only: not written yet");
            assertEquals(0, journal.committedPosition());
            group(appender, 3, 400, payload); // overflows the staging buffer: the first group is written
            assertTrue(journal.committedPosition() > 0);
            assertEquals(journal.committedPosition(), journal.durablePosition(), "written = durable under NONE");
            assertEquals(appender.position(), appender.flush());
            assertEquals(appender.position(), journal.durablePosition());
        }
    }

    @Test
    void batchCountsOnlyFlushedGroupsAsDurable()
    {
        try (Journal journal = open(DurabilityPolicy.BATCH))
        {
            final JournalAppender appender = journal.appender();
            for (int i = 0; i < 5; i++)
            {
                group(appender, 1 + i % 3, 400, payload); // overflows staging: written, not fsynced
            }
            assertTrue(journal.committedPosition() > 0, "readers see written groups");
            assertEquals(0, journal.durablePosition(), "nothing durable before flush");
            final long end = appender.position();
            assertEquals(end, appender.flush());
            assertEquals(end, journal.durablePosition());
            assertEquals(end, journal.committedPosition());
            group(appender, 2, 100, payload);
            assertEquals(end, journal.durablePosition(), "the next batch waits for its flush");
        }
    }

    @Test
    void alwaysMakesEveryGroupDurableAtItsEnd()
    {
        try (Journal journal = open(DurabilityPolicy.ALWAYS))
        {
            final JournalAppender appender = journal.appender();
            long previous = 0;
            for (int i = 0; i < 20; i++)
            {
                final int frames = 1 + i % 4;
                for (int f = 0; f < frames - 1; f++)
                {
                    appender.append(1, 1, 1, 1, 0, 0, 1, payload, 0, 300, false);
                    assertEquals(previous, journal.durablePosition(), "mid-group frames are not durable");
                }
                appender.append(1, 1, 1, 1, 0, 0, 1, payload, 0, 300, true);
                assertEquals(appender.position(), journal.durablePosition(), "group " + i);
                assertEquals(appender.position(), journal.committedPosition(), "group " + i);
                assertTrue(journal.durablePosition() > previous);
                previous = journal.durablePosition();
            }
            assertTrue(journal.segmentCount() > 1);
        }
    }

    @Test
    void durablePositionAfterReopenIsTheRecoveredEnd()
    {
        final long end;
        try (Journal journal = open(DurabilityPolicy.BATCH))
        {
            group(journal.appender(), 3, 200, payload);
            journal.appender().flush();
            end = journal.durablePosition();
        }
        try (Journal journal = open(DurabilityPolicy.BATCH))
        {
            assertEquals(end, journal.durablePosition());
            assertEquals(end, journal.committedPosition());
        }
    }
}
