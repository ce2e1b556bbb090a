package io.keel.perf;

import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends operations at the times an {@link OpenLoopSchedule} prescribes, whether or not the system under test
 * keeps up. When sending falls behind (a stall in the system, the JVM or the scheduler), the late operations
 * go out back to back, each stamped with its own intended time, so their latency includes the time they
 * should already have been in flight: coordinated omission is corrected at the source.
 * <p>
 * Waiting for the next send time uses the given idle strategy, interleaved with {@link LoadTarget#poll()}.
 * The loop allocates nothing.
 */
public final class OpenLoopGenerator
{
    private final NanoClock clock;
    private final IdleStrategy idleStrategy;

    /**
     * A generator that reads time from {@code clock} and waits with {@code idleStrategy}.
     *
     * @param clock        time source; also the clock the intended times are on.
     * @param idleStrategy how to wait for the next send time.
     */
    public OpenLoopGenerator(final NanoClock clock, final IdleStrategy idleStrategy)
    {
        this.clock = clock;
        this.idleStrategy = idleStrategy;
    }

    /**
     * Sends every operation of {@code schedule} whose intended time is before {@code endNs}.
     *
     * @param schedule    the intended send times.
     * @param endNs       end of the run, exclusive, on the generator's clock.
     * @param target      where operations go.
     * @param sentCounter published count of operations sent so far (for progress and draining).
     * @return number of operations sent.
     */
    public long run(
        final OpenLoopSchedule schedule, final long endNs, final LoadTarget target, final AtomicLong sentCounter)
    {
        final NanoClock clock = this.clock;
        final IdleStrategy idleStrategy = this.idleStrategy;
        long sent = 0;
        while (true)
        {
            final long intendedNs = schedule.intendedTimeNs(sent);
            if (intendedNs - endNs >= 0)
            {
                break;
            }

            while (clock.nanoTime() - intendedNs < 0)
            {
                idleStrategy.idle(target.poll());
            }
            idleStrategy.reset();

            target.send(intendedNs);
            sent++;
            sentCounter.lazySet(sent);
        }
        return sent;
    }
}
