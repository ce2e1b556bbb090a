package io.keel.journal;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Design promise 6 for the stream index: appending events to streams that already exist allocates nothing on the
 * Java heap of the appending thread (the engine's business thread), measured over a long run rather than by
 * pre-growing anything. A behaviour test of allocation, not a timing test.
 */
class StreamIndexAllocationTest
{
    private static final int STREAMS = 1_000;
    private static final int EVENTS = 1_000_000;

    @Test
    void appendingToExistingStreamsAllocatesLessThanOneBytePerEvent()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "this JVM measures allocation per thread");
        threads.setThreadAllocatedMemoryEnabled(true);
        final long threadId = Thread.currentThread().getId();

        final StreamIndex index = new StreamIndex();
        long position = 0;
        long timestampNs = 1_000;

        // warm-up: every code path once (new streams, new blocks, new chunks) on streams the run does not use,
        // then the streams of the run each get their first event; nothing is sized for what follows
        for (int i = 0; i < 2_000_000; i++)
        {
            index.add(-1 - (i & 7), 1 + (i >>> 3), position, timestampNs);
            position += 64;
            timestampNs += 1_000;
        }
        for (int s = 0; s < STREAMS; s++)
        {
            index.add(s, 1, position, timestampNs);
            position += 64;
        }
        index.version(0);
        index.lastTimestampNs(0);
        threads.getThreadAllocatedBytes(threadId);

        final long before = threads.getThreadAllocatedBytes(threadId);
        long sink = 0;
        for (int i = 0; i < EVENTS; i++)
        {
            final long stream = (i * 7919L) % STREAMS; // visit the streams in a scattered order
            final long version = index.version(stream) + 1;
            if (index.lastTimestampNs(stream) > timestampNs)
            {
                sink++;
            }
            index.add(stream, version, position, timestampNs);
            position += 64;
            timestampNs += (i & 3) == 0 ? 1_000 : 0; // some equal timestamps, as in one command's group
        }
        final long allocatedBytes = threads.getThreadAllocatedBytes(threadId) - before;

        final double bytesPerEvent = (double)allocatedBytes / EVENTS;
        System.out.printf("StreamIndex: %d events to %d existing streams allocated %d bytes (%.4f B/event)%n",
            EVENTS, STREAMS, allocatedBytes, bytesPerEvent);
        assertEquals(0, sink);
        assertEquals(STREAMS + 8, index.streamCount());
        assertEquals(1 + EVENTS / STREAMS, index.version(STREAMS - 1));
        assertTrue(bytesPerEvent < 1.0, "allocated " + bytesPerEvent + " B/event on the appending thread");
    }
}
