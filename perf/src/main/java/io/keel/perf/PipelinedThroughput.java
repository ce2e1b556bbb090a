package io.keel.perf;

import org.agrona.concurrent.IdleStrategy;

/**
 * A {@link ThroughputRun.Iteration} for request/response systems: keep up to {@code window} operations in flight
 * (pipelining), send the next one as soon as one completes, stop sending after the iteration time, then wait for
 * every answer. Works for any {@link SystemUnderTest}, so a scenario and its baseline are pushed the same way.
 */
public final class PipelinedThroughput implements ThroughputRun.Iteration
{
    private static final long DRAIN_TIMEOUT_NS = 10_000_000_000L;

    private final SystemUnderTest system;
    private final int window;
    private final IdleStrategy idle;

    /**
     * @param system the system, started.
     * @param window operations in flight at most.
     * @param idle   how the calling thread waits when the window is full.
     */
    public PipelinedThroughput(final SystemUnderTest system, final int window, final IdleStrategy idle)
    {
        if (window < 1)
        {
            throw new IllegalArgumentException("window must be >= 1, was: " + window);
        }
        this.system = system;
        this.window = window;
        this.idle = idle;
    }

    @Override
    public long run(final long iterationNs)
    {
        final long base = system.completedCount();
        final long endNs = System.nanoTime() + iterationNs;
        long sent = 0;
        long nowNs;
        while ((nowNs = System.nanoTime()) - endNs < 0)
        {
            if (sent - (system.completedCount() - base) < window)
            {
                system.send(nowNs);
                sent++;
                if ((sent & 15) == 0)
                {
                    system.poll();
                }
            }
            else
            {
                idle.idle(system.poll());
            }
        }
        idle.reset();
        final long deadlineNs = System.nanoTime() + DRAIN_TIMEOUT_NS;
        while (system.completedCount() - base < sent)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException((sent - (system.completedCount() - base)) +
                    " operations did not complete within 10s of the end of a throughput iteration");
            }
            idle.idle(system.poll());
        }
        idle.reset();
        return sent;
    }
}
