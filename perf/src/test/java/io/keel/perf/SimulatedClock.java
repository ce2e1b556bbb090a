package io.keel.perf;

/**
 * A clock that moves only when read (by a fixed step) or when a test advances it: deterministic time for the
 * load generators.
 */
final class SimulatedClock implements NanoClock
{
    private final long stepNs;
    private long nowNs;

    SimulatedClock(final long startNs, final long stepNs)
    {
        this.nowNs = startNs;
        this.stepNs = stepNs;
    }

    @Override
    public long nanoTime()
    {
        final long t = nowNs;
        nowNs += stepNs;
        return t;
    }

    long peek()
    {
        return nowNs;
    }

    void advance(final long ns)
    {
        nowNs += ns;
    }
}
