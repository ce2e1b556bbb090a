package io.keel.perf;

import org.agrona.concurrent.NoOpIdleStrategy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClosedLoopGeneratorTest
{
    @Test
    void sendsTheNextOperationOnlyAfterThePreviousCompleted()
    {
        final SimulatedClock clock = new SimulatedClock(0, 100);
        final AtomicLong completed = new AtomicLong();
        final List<Long> stamps = new ArrayList<>();
        final int[] inFlight = { 0 };
        final LoadTarget echo = new LoadTarget()
        {
            @Override
            public void send(final long intendedNs)
            {
                assertEquals(0, inFlight[0], "a second operation was sent before the first completed");
                inFlight[0]++;
                stamps.add(intendedNs);
            }

            @Override
            public int poll()
            {
                if (inFlight[0] > 0)
                {
                    clock.advance(10_000);
                    inFlight[0]--;
                    completed.incrementAndGet();
                    return 1;
                }
                return 0;
            }
        };

        final long sent = new ClosedLoopGenerator(clock, new NoOpIdleStrategy())
            .run(0, 1_000_000, echo, completed::get, new AtomicLong());

        assertEquals(sent, completed.get());
        assertTrue(sent > 50 && sent <= 100, "sent " + sent);
        for (int i = 1; i < stamps.size(); i++)
        {
            assertTrue(stamps.get(i) - stamps.get(i - 1) >= 10_000, "stamped with the actual send time");
        }
    }
}
