package io.keel.perf;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.concurrent.TimeUnit;

/**
 * Records latencies in nanoseconds into an HdrHistogram recorder without allocating, and hands out interval
 * histograms to a reporting thread. Values are clamped to [0, {@link #HIGHEST_TRACKABLE_NS}] so a wild value
 * can never throw on the hot path.
 */
public final class LatencyRecorder
{
    /**
     * Largest latency a histogram tracks: one hour. Larger values are recorded as this.
     */
    public static final long HIGHEST_TRACKABLE_NS = TimeUnit.HOURS.toNanos(1);

    /**
     * Significant decimal digits kept: 3, i.e. 0.1% value resolution.
     */
    public static final int SIGNIFICANT_DIGITS = 3;

    private final SingleWriterRecorder singleWriter;
    private final Recorder multiWriter;

    private LatencyRecorder(final boolean concurrentWriters)
    {
        if (concurrentWriters)
        {
            multiWriter = new Recorder(1, HIGHEST_TRACKABLE_NS, SIGNIFICANT_DIGITS);
            singleWriter = null;
        }
        else
        {
            singleWriter = new SingleWriterRecorder(1, HIGHEST_TRACKABLE_NS, SIGNIFICANT_DIGITS);
            multiWriter = null;
        }
    }

    /**
     * A recorder written by exactly one thread at a time (the cheapest).
     *
     * @return a new recorder.
     */
    public static LatencyRecorder singleWriter()
    {
        return new LatencyRecorder(false);
    }

    /**
     * A recorder that several threads may write concurrently.
     *
     * @return a new recorder.
     */
    public static LatencyRecorder concurrentWriters()
    {
        return new LatencyRecorder(true);
    }

    /**
     * A histogram with the same range and precision as the recorder's, for accumulating intervals.
     *
     * @return a new empty histogram.
     */
    public static Histogram newHistogram()
    {
        return new Histogram(1, HIGHEST_TRACKABLE_NS, SIGNIFICANT_DIGITS);
    }

    /**
     * Records one latency. Allocation-free.
     *
     * @param latencyNs latency in nanoseconds.
     */
    public void recordLatencyNs(final long latencyNs)
    {
        final long value = latencyNs < 0 ? 0 : Math.min(latencyNs, HIGHEST_TRACKABLE_NS);
        if (null != singleWriter)
        {
            singleWriter.recordValue(value);
        }
        else
        {
            multiWriter.recordValue(value);
        }
    }

    /**
     * Everything recorded since the previous call (or since creation); resets the interval.
     *
     * @param recycle a histogram returned by an earlier call, to reuse, or null.
     * @return the interval histogram, with start and end time stamps in epoch milliseconds.
     */
    public Histogram intervalHistogram(final Histogram recycle)
    {
        return null != singleWriter ?
            singleWriter.getIntervalHistogram(recycle) : multiWriter.getIntervalHistogram(recycle);
    }
}
