package io.keel.perf;

import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One operation in flight at a time: send, wait for its completion, send the next. Each operation is stamped
 * with its actual send time, so the histogram is the round-trip (service) time and the run's rate is whatever
 * the system sustains. It is the classic ping-pong, and it is NOT coordinated-omission corrected: a stall
 * costs one sample, not the operations that were not sent meanwhile. Use {@link OpenLoopGenerator} for
 * response time under load.
 */
public final class ClosedLoopGenerator
{
    private final NanoClock clock;
    private final IdleStrategy idleStrategy;

    /**
     * A generator that reads time from {@code clock} and waits for completions with {@code idleStrategy}.
     *
     * @param clock        time source.
     * @param idleStrategy how to wait for each completion.
     */
    public ClosedLoopGenerator(final NanoClock clock, final IdleStrategy idleStrategy)
    {
        this.clock = clock;
        this.idleStrategy = idleStrategy;
    }

    /**
     * Runs ping-pong from {@code startNs} until {@code endNs}.
     *
     * @param startNs        when to send the first operation.
     * @param endNs          no operation is sent at or after this time.
     * @param target         where operations go.
     * @param completedCount completions of the system under test.
     * @param sentCounter    published count of operations sent so far.
     * @return number of operations sent (all of them completed, unless the system stopped answering).
     */
    public long run(
        final long startNs,
        final long endNs,
        final LoadTarget target,
        final LongSupplier completedCount,
        final AtomicLong sentCounter)
    {
        final NanoClock clock = this.clock;
        final IdleStrategy idleStrategy = this.idleStrategy;
        while (clock.nanoTime() - startNs < 0)
        {
            idleStrategy.idle(target.poll());
        }
        idleStrategy.reset();

        final long completedBase = completedCount.getAsLong();
        long sent = 0;
        long nowNs;
        while ((nowNs = clock.nanoTime()) - endNs < 0)
        {
            target.send(nowNs);
            sent++;
            sentCounter.lazySet(sent);
            while (completedCount.getAsLong() - completedBase < sent)
            {
                if (clock.nanoTime() - endNs > LatencyRun.DRAIN_TIMEOUT_FLOOR_NS)
                {
                    return sent;
                }
                idleStrategy.idle(target.poll());
            }
            idleStrategy.reset();
        }
        return sent;
    }
}
