package io.keel.perf;

/**
 * When each operation of an open-loop run is meant to be sent: operation {@code i} at
 * {@code startNs + i / ratePerSecond} seconds, whatever happened to the operations before it.
 * <p>
 * Latency is measured from this intended time, not from the moment the operation was actually handed over,
 * which is what corrects coordinated omission: when the system under test stalls, every operation that should
 * have been sent during the stall is charged the time it waited, so a stall shows up as a ramp of samples.
 * <p>
 * Integer arithmetic only: no drift over long runs and no rounding of the period.
 */
public final class OpenLoopSchedule
{
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long startNs;
    private final long ratePerSecond;

    /**
     * A schedule of {@code ratePerSecond} operations per second starting at {@code startNs}.
     *
     * @param startNs       intended time of operation 0.
     * @param ratePerSecond offered load, at least 1 and at most 1e9 operations per second.
     */
    public OpenLoopSchedule(final long startNs, final long ratePerSecond)
    {
        if (ratePerSecond < 1 || ratePerSecond > NANOS_PER_SECOND)
        {
            throw new IllegalArgumentException("rate must be in [1, 1e9] per second, was: " + ratePerSecond);
        }
        this.startNs = startNs;
        this.ratePerSecond = ratePerSecond;
    }

    /**
     * Intended send time of an operation.
     *
     * @param index operation number, from 0.
     * @return intended send time in nanoseconds on the schedule's clock.
     */
    public long intendedTimeNs(final long index)
    {
        final long wholeSeconds = index / ratePerSecond;
        final long remainder = index - wholeSeconds * ratePerSecond;
        return startNs + wholeSeconds * NANOS_PER_SECOND + (remainder * NANOS_PER_SECOND) / ratePerSecond;
    }

    /**
     * Number of operations whose intended time falls before {@code endNs}.
     *
     * @param endNs end of the window, exclusive.
     * @return how many operations the schedule holds before {@code endNs}.
     */
    public long countBefore(final long endNs)
    {
        if (endNs <= startNs)
        {
            return 0;
        }
        final long spanNs = endNs - startNs;
        final long wholeSeconds = spanNs / NANOS_PER_SECOND;
        final long remainderNs = spanNs - wholeSeconds * NANOS_PER_SECOND;
        long count = wholeSeconds * ratePerSecond + (remainderNs * ratePerSecond) / NANOS_PER_SECOND;
        while (intendedTimeNs(count) < endNs)
        {
            count++;
        }
        while (count > 0 && intendedTimeNs(count - 1) >= endNs)
        {
            count--;
        }
        return count;
    }

    /**
     * Offered load.
     *
     * @return operations per second.
     */
    public long ratePerSecond()
    {
        return ratePerSecond;
    }

    /**
     * Intended time of operation 0.
     *
     * @return start time in nanoseconds.
     */
    public long startNs()
    {
        return startNs;
    }
}
