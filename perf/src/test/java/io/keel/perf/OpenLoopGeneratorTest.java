package io.keel.perf;

import org.HdrHistogram.Histogram;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenLoopGeneratorTest
{
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void sendsEveryScheduledOperationStampedWithItsIntendedTime()
    {
        final SimulatedClock clock = new SimulatedClock(0, 1_000);
        final OpenLoopSchedule schedule = new OpenLoopSchedule(0, 10_000);
        final List<Long> stamps = new ArrayList<>();
        final AtomicLong sentCounter = new AtomicLong();

        final long sent = new OpenLoopGenerator(clock, new NoOpIdleStrategy())
            .run(schedule, 10 * MS, stamps::add, sentCounter);

        assertEquals(100, sent);
        assertEquals(100, sentCounter.get());
        for (int i = 0; i < stamps.size(); i++)
        {
            assertEquals(schedule.intendedTimeNs(i), stamps.get(i));
        }
    }

    @Test
    void neverSendsBeforeTheIntendedTime()
    {
        final SimulatedClock clock = new SimulatedClock(0, 10_000);
        final List<long[]> sends = new ArrayList<>();

        new OpenLoopGenerator(clock, new NoOpIdleStrategy())
            .run(new OpenLoopSchedule(0, 1_000), 20 * MS, intendedNs -> sends.add(new long[]{ intendedNs, clock.peek() }),
                new AtomicLong());

        assertEquals(20, sends.size());
        for (final long[] send : sends)
        {
            assertTrue(send[1] >= send[0], "sent at " + send[1] + " before intended " + send[0]);
        }
    }

    @Test
    void stallShowsUpAsALatencyRampNotOneSample()
    {
        // 1000 ops/s for 100 ms; the system stalls for 20 ms while handling operation 10.
        final SimulatedClock clock = new SimulatedClock(0, 1_000);
        final Histogram fromIntended = new Histogram(3);
        final Histogram fromActualSend = new Histogram(3);
        final List<Long> latenciesNs = new ArrayList<>();
        final long[] index = { 0 };
        final LoadTarget stallingSystem = intendedNs ->
        {
            final long actualSendNs = clock.peek();
            if (index[0]++ == 10)
            {
                clock.advance(20 * MS);
            }
            final long completedNs = clock.peek();
            latenciesNs.add(completedNs - intendedNs);
            fromIntended.recordValue(completedNs - intendedNs);
            fromActualSend.recordValue(completedNs - actualSendNs);
        };

        new OpenLoopGenerator(clock, new NoOpIdleStrategy())
            .run(new OpenLoopSchedule(0, 1_000), 100 * MS, stallingSystem, new AtomicLong());

        assertEquals(100, latenciesNs.size());
        // Timed from the actual send, the stall is a single bad sample: coordinated omission.
        assertEquals(1, fromActualSend.getCountBetweenValues(MS, Long.MAX_VALUE / 2));
        // Timed from the intended send, every operation that should have gone out during the stall pays for it.
        assertEquals(20, fromIntended.getCountBetweenValues(MS, Long.MAX_VALUE / 2));
        for (int i = 11; i < 30; i++)
        {
            assertTrue(latenciesNs.get(i) < latenciesNs.get(i - 1), "ramp must fall at operation " + i);
            final long expectedNs = (30 - i) * MS;
            assertTrue(Math.abs(latenciesNs.get(i) - expectedNs) < 50_000,
                "operation " + i + " waited " + latenciesNs.get(i) + "ns, expected about " + expectedNs);
        }
        assertTrue(latenciesNs.get(10) >= 20 * MS);
        assertTrue(latenciesNs.get(31) < MS, "back on schedule after the backlog is sent");
    }
}
