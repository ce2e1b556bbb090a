package io.keel.journal;

import io.keel.journal.JournalTestSupport.Frame;
import io.keel.journal.JournalTestSupport.RandomWriter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * An aborted group (a command whose events are discarded) never reaches readers, the index or the file, whether
 * it was still staged, had overflowed the staging buffer into the file, or had rolled into a new segment.
 */
class AbortGroupTest
{
    @TempDir
    Path root;

    @Test
    void abortedGroupLeavesNoTraceWhetherStagedWrittenOrRolled()
    {
        // frames per aborted group: 2 stay staged, 6 overflow the 4 KiB staging buffer, 12 roll the 8 KiB segment
        for (final int abortedFrames : new int[]{ 2, 6, 12 })
        {
            final Path dir = root.resolve("abort" + abortedFrames);
            final JournalContext ctx = context(dir, 8192, 1000, DurabilityPolicy.BATCH).stagingBufferBytes(4096);
            final RandomWriter writer = new RandomWriter(new Random(abortedFrames), 300);
            final List<Frame> expected = new ArrayList<>();
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[900]);
            try (Journal journal = Journal.open(ctx))
            {
                final JournalAppender appender = journal.appender();
                writer.appendRandom(appender, 5);
                expected.addAll(writer.written);
                final long end = appender.position();
                final int segments = journal.segmentCount();
                final long version = journal.streamIndex().version(77);
                for (int i = 0; i < abortedFrames; i++)
                {
                    appender.append(writer.epoch, writer.timestampNs, 1, 5000, 77, version + 1 + i, 1, payload, 0,
                        900, false);
                }
                assertTrue(appender.inGroup());
                assertEquals(end, journal.committedPosition(), "readers never see an open group");
                appender.abortGroup();
                assertFalse(appender.inGroup());
                assertEquals(end, appender.position(), abortedFrames + " frames");
                assertEquals(segments, journal.segmentCount(), abortedFrames + " frames");
                assertEquals(version, journal.streamIndex().version(77));
                assertEquals(expected, readAll(journal));

                writer.written.clear();
                writer.appendRandom(appender, 10);
                expected.addAll(writer.written);
                assertEquals(expected, readAll(journal));
                IndexAgreesWithScanTest.assertIndexMatches(journal, expected);
            }
            try (Journal journal = Journal.open(ctx))
            {
                assertFalse(journal.recoveryReport().hadTornTail(), journal.recoveryReport().toString());
                assertEquals(expected, readAll(journal), abortedFrames + " frames");
            }
        }
    }

    @Test
    void closingWithAGroupOpenDropsThatGroupOnly()
    {
        final Path dir = root.resolve("close");
        final JournalContext ctx = context(dir, 8192, 1000, DurabilityPolicy.BATCH).stagingBufferBytes(2048);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[900]);
        final List<Frame> expected;
        try (Journal journal = Journal.open(ctx))
        {
            journal.appender().append(1, 1, 1, 1, 0, 0, 1, payload, 0, 100, true);
            for (int i = 0; i < 5; i++)
            {
                journal.appender().append(1, 2, 1, 2, 0, 0, 1, payload, 0, 900, false);
            }
            expected = readAll(journal).subList(0, 1);
        }
        try (Journal journal = Journal.open(ctx))
        {
            assertEquals(expected, readAll(journal));
        }
    }
}
