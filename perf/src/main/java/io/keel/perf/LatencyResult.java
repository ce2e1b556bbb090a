package io.keel.perf;

import org.HdrHistogram.Histogram;

/**
 * Outcome of one {@link LatencyRun}: the measured histogram (warm-up excluded), rates, per-interval figures
 * for the latency-over-time plot, and bytes allocated per operation on the hot threads.
 */
public final class LatencyResult
{
    private final String name;
    private final Role role;
    private final String group;
    private final LatencyRun.Mode mode;
    private final long offeredRatePerSecond;
    private final double achievedRatePerSecond;
    private final long measuredCount;
    private final long missingCount;
    private final Histogram histogram;
    private final double[] intervalEndS;
    private final double[] intervalP50Us;
    private final double[] intervalP99Us;
    private final double[] intervalMaxUs;
    private final double allocatedBytesPerOp;

    LatencyResult(
        final String name,
        final Role role,
        final String group,
        final LatencyRun.Mode mode,
        final long offeredRatePerSecond,
        final double achievedRatePerSecond,
        final long measuredCount,
        final long missingCount,
        final Histogram histogram,
        final double[][] intervals,
        final double allocatedBytesPerOp)
    {
        this.name = name;
        this.role = role;
        this.group = group;
        this.mode = mode;
        this.offeredRatePerSecond = offeredRatePerSecond;
        this.achievedRatePerSecond = achievedRatePerSecond;
        this.measuredCount = measuredCount;
        this.missingCount = missingCount;
        this.histogram = histogram;
        this.intervalEndS = intervals[0];
        this.intervalP50Us = intervals[1];
        this.intervalP99Us = intervals[2];
        this.intervalMaxUs = intervals[3];
        this.allocatedBytesPerOp = allocatedBytesPerOp;
    }

    /**
     * Series name, e.g. {@code disruptor-sp}.
     *
     * @return the name.
     */
    public String name()
    {
        return name;
    }

    /**
     * Scenario, baseline or floor.
     *
     * @return the role.
     */
    public Role role()
    {
        return role;
    }

    /**
     * Series that share a group are directly comparable (same mode, same offered rate), e.g. {@code open@100000}.
     *
     * @return the group key.
     */
    public String group()
    {
        return group;
    }

    /**
     * Open or closed loop.
     *
     * @return the mode.
     */
    public LatencyRun.Mode mode()
    {
        return mode;
    }

    /**
     * Offered rate of an open-loop run; 0 for a closed-loop run.
     *
     * @return operations per second.
     */
    public long offeredRatePerSecond()
    {
        return offeredRatePerSecond;
    }

    /**
     * Completions per second during the measured window.
     *
     * @return operations per second.
     */
    public double achievedRatePerSecond()
    {
        return achievedRatePerSecond;
    }

    /**
     * Samples in the measured histogram.
     *
     * @return count.
     */
    public long measuredCount()
    {
        return measuredCount;
    }

    /**
     * Operations sent but never completed before the drain deadline (0 in a healthy run). They are not in the
     * histogram, so a non-zero value means the percentiles understate the truth.
     *
     * @return count.
     */
    public long missingCount()
    {
        return missingCount;
    }

    /**
     * Latency histogram of the measured window, in nanoseconds.
     *
     * @return the histogram.
     */
    public Histogram histogram()
    {
        return histogram;
    }

    /**
     * End of each reporting interval, in seconds from the start of measurement.
     *
     * @return one entry per interval.
     */
    public double[] intervalEndS()
    {
        return intervalEndS;
    }

    /**
     * Median latency of each interval.
     *
     * @return microseconds, one entry per interval.
     */
    public double[] intervalP50Us()
    {
        return intervalP50Us;
    }

    /**
     * 99th percentile latency of each interval.
     *
     * @return microseconds, one entry per interval.
     */
    public double[] intervalP99Us()
    {
        return intervalP99Us;
    }

    /**
     * Largest latency of each interval.
     *
     * @return microseconds, one entry per interval.
     */
    public double[] intervalMaxUs()
    {
        return intervalMaxUs;
    }

    /**
     * Bytes allocated per completed operation on the load and service threads during the measured window.
     *
     * @return bytes per operation, NaN when the JVM cannot tell.
     */
    public double allocatedBytesPerOp()
    {
        return allocatedBytesPerOp;
    }

    /**
     * A latency percentile.
     *
     * @param percentile e.g. 99.9.
     * @return microseconds.
     */
    public double percentileUs(final double percentile)
    {
        return histogram.getValueAtPercentile(percentile) / 1000.0;
    }
}
