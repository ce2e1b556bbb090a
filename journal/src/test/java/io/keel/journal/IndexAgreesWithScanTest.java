package io.keel.journal;

import io.keel.journal.JournalTestSupport.Frame;
import io.keel.journal.JournalTestSupport.RandomWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The stream index answers exactly what a full scan of the log answers: live, after reopen, after truncation.
 */
class IndexAgreesWithScanTest
{
    private static final long BASE_SEED = Long.getLong("keel.test.seed", 0x1DEAL);

    @TempDir
    Path root;

    /** Compare every question the index answers with the answer computed from the frames. */
    static void assertIndexMatches(final Journal journal, final List<Frame> log)
    {
        assertEquals(log, readAll(journal), "log content");
        final Map<Long, List<Frame>> streams = new HashMap<>();
        for (final Frame frame : log)
        {
            if (frame.streamId() != FrameDescriptor.NO_STREAM)
            {
                streams.computeIfAbsent(frame.streamId(), k -> new ArrayList<>()).add(frame);
            }
        }
        final StreamIndex index = journal.streamIndex();
        assertEquals(streams.size(), index.streamCount(), "stream count");
        assertEquals(streams.values().stream().mapToLong(List::size).sum(), index.eventCount(), "event count");
        index.forEachStream((id, version) -> assertEquals(streams.get(id).size(), version, "stream " + id));
        for (final Map.Entry<Long, List<Frame>> e : streams.entrySet())
        {
            final long stream = e.getKey();
            final List<Frame> events = e.getValue();
            assertEquals(events.size(), index.version(stream), "version of stream " + stream);
            assertEquals(-1, index.positionOf(stream, 0));
            assertEquals(-1, index.positionOf(stream, events.size() + 1));
            assertEquals(0, index.versionAt(stream, events.get(0).timestampNs() - 1), "before the first event");
            for (int v = 1; v <= events.size(); v++)
            {
                final Frame frame = events.get(v - 1);
                assertEquals(v, frame.streamVersion(), "versions in the log are contiguous");
                assertEquals(frame.position, index.positionOf(stream, v), "position of " + stream + "@" + v);
                long expectedVersion = 0;
                for (final Frame f : events)
                {
                    if (f.timestampNs() <= frame.timestampNs())
                    {
                        expectedVersion = f.streamVersion();
                    }
                }
                assertEquals(expectedVersion, index.versionAt(stream, frame.timestampNs()),
                    "version of " + stream + " at " + frame.timestampNs());
            }
            assertEquals(events.get(events.size() - 1).timestampNs(), index.lastTimestampNs(stream));
        }
        assertEquals(0, index.version(424242));
        assertEquals(-1, index.positionOf(424242, 1));
    }

    @Test
    void indexEqualsFullScanAfterAppendsReopenTruncationAndReopen()
    {
        for (int i = 0; i < 30; i++)
        {
            final long seed = BASE_SEED + i;
            final Random random = new Random(seed);
            final Path dir = root.resolve("j" + seed);
            final JournalContext ctx = context(dir, 8192, 600, DurabilityPolicy.NONE);
            final RandomWriter writer = new RandomWriter(random, 500);
            writer.streams = 1 + random.nextInt(12);
            try
            {
                final List<Frame> log;
                try (Journal journal = Journal.open(ctx))
                {
                    writer.appendRandom(journal.appender(), 20 + random.nextInt(150));
                    log = new ArrayList<>(writer.written);
                    assertIndexMatches(journal, log);
                }
                final List<Frame> truncated;
                try (Journal journal = Journal.open(ctx))
                {
                    assertIndexMatches(journal, log);
                    final List<Long> ends = new ArrayList<>();
                    ends.add(0L);
                    for (final Frame f : log)
                    {
                        if (f.endOfGroup())
                        {
                            ends.add(f.nextPosition());
                        }
                    }
                    final long to = ends.get(random.nextInt(ends.size()));
                    journal.truncate(to);
                    truncated = new ArrayList<>();
                    for (final Frame f : log)
                    {
                        if (f.position < to)
                        {
                            truncated.add(f);
                        }
                    }
                    assertIndexMatches(journal, truncated);
                    writer.syncWith(journal);
                    writer.written.clear();
                    writer.appendRandom(journal.appender(), random.nextInt(40));
                    truncated.addAll(writer.written);
                    assertIndexMatches(journal, truncated);
                }
                try (Journal journal = Journal.open(ctx))
                {
                    assertIndexMatches(journal, truncated);
                }
            }
            catch (final AssertionError | RuntimeException ex)
            {
                throw new AssertionError("seed " + seed + ": " + ex, ex);
            }
        }
    }
}
