package io.keel.perf;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Closed-loop maximum throughput: the calling thread runs warm-up iterations (discarded) and then measured
 * iterations of a body that pushes operations as fast as the system takes them and returns once all of them
 * have completed. Each iteration yields one ops/s figure; the result keeps all of them and their median.
 * Allocation is measured on the calling thread around the bodies only (so the progress printing between
 * iterations is excluded) and on the system's service threads across the measured iterations.
 */
public final class ThroughputRun
{
    /**
     * One iteration of a throughput run.
     */
    @FunctionalInterface
    public interface Iteration
    {
        /**
         * Pushes operations for about {@code iterationNs}, then waits until every one of them has completed.
         *
         * @param iterationNs how long to keep sending.
         * @return number of operations sent and completed.
         */
        long run(long iterationNs);
    }

    /**
     * What to run: fluent settings with defaults, validated by {@link #conclude()}.
     */
    public static final class Spec
    {
        private String name = "unnamed";
        private Role role = Role.SCENARIO;
        private int warmupIterations = 2;
        private int iterations = 5;
        private long iterationNs = TimeUnit.MILLISECONDS.toNanos(500);
        private PrintStream progressOut = System.err;

        /**
         * Series name.
         *
         * @param name e.g. {@code disruptor-sp}.
         * @return this.
         */
        public Spec name(final String name)
        {
            this.name = name;
            return this;
        }

        /**
         * Role of the series in its run.
         *
         * @param role scenario, baseline or floor.
         * @return this.
         */
        public Spec role(final Role role)
        {
            this.role = role;
            return this;
        }

        /**
         * Iterations run first and discarded.
         *
         * @param warmupIterations 0 or more.
         * @return this.
         */
        public Spec warmupIterations(final int warmupIterations)
        {
            this.warmupIterations = warmupIterations;
            return this;
        }

        /**
         * Iterations measured.
         *
         * @param iterations 1 or more.
         * @return this.
         */
        public Spec iterations(final int iterations)
        {
            this.iterations = iterations;
            return this;
        }

        /**
         * Sending time of each iteration.
         *
         * @param iterationNs nanoseconds, at least 1 ms.
         * @return this.
         */
        public Spec iterationNs(final long iterationNs)
        {
            this.iterationNs = iterationNs;
            return this;
        }

        /**
         * Where progress goes, or null for silence.
         *
         * @param progressOut a stream, usually stderr.
         * @return this.
         */
        public Spec progressOut(final PrintStream progressOut)
        {
            this.progressOut = progressOut;
            return this;
        }

        /**
         * Validates the settings.
         *
         * @return this.
         * @throws IllegalArgumentException naming the setting at fault.
         */
        public Spec conclude()
        {
            if (warmupIterations < 0)
            {
                throw new IllegalArgumentException("warmup iterations must be >= 0, was: " + warmupIterations);
            }
            if (iterations < 1)
            {
                throw new IllegalArgumentException("iterations must be >= 1, was: " + iterations);
            }
            if (iterationNs < TimeUnit.MILLISECONDS.toNanos(1))
            {
                throw new IllegalArgumentException("iteration time must be >= 1ms, was: " + iterationNs + "ns");
            }
            return this;
        }
    }

    private ThroughputRun()
    {
    }

    /**
     * Runs warm-up and measured iterations on the calling thread.
     *
     * @param spec           what to run.
     * @param body           one iteration.
     * @param serviceThreads the system's own hot threads, for the allocation check.
     * @return the result.
     */
    public static ThroughputResult run(final Spec spec, final Iteration body, final List<Thread> serviceThreads)
    {
        spec.conclude();
        final Progress progress = null == spec.progressOut ? null : new Progress(spec.progressOut, spec.name + " throughput");
        final int total = spec.warmupIterations + spec.iterations;
        final double[] opsPerSecond = new double[spec.iterations];
        long ownAllocatedBytes = 0;
        long serviceAllocatedAtStart = -1;
        long measuredOps = 0;
        for (int i = 0; i < total; i++)
        {
            final boolean measured = i >= spec.warmupIterations;
            if (measured && i == spec.warmupIterations)
            {
                serviceAllocatedAtStart = AllocationMeter.allocatedBytes(serviceThreads);
            }

            final long allocatedBefore = AllocationMeter.currentThreadAllocatedBytes();
            final long startNs = System.nanoTime();
            final long ops = body.run(spec.iterationNs);
            final long elapsedNs = System.nanoTime() - startNs;
            final long allocatedAfter = AllocationMeter.currentThreadAllocatedBytes();

            final double rate = ops / (elapsedNs / 1e9);
            if (measured)
            {
                opsPerSecond[i - spec.warmupIterations] = rate;
                ownAllocatedBytes += allocatedAfter - allocatedBefore;
                measuredOps += ops;
            }
            if (null != progress)
            {
                progress.message(String.format(
                    "%s %d/%d  %s ops/s",
                    measured ? "iteration" : "warm-up",
                    measured ? i - spec.warmupIterations + 1 : i + 1,
                    measured ? spec.iterations : spec.warmupIterations,
                    Format.count(rate)));
            }
        }
        final long serviceAllocatedAtEnd = AllocationMeter.allocatedBytes(serviceThreads);

        final boolean allocationKnown = AllocationMeter.isSupported() && serviceAllocatedAtStart >= 0 &&
            serviceAllocatedAtEnd >= 0 && measuredOps > 0;
        final double bytesPerOp = allocationKnown ?
            (double)(ownAllocatedBytes + serviceAllocatedAtEnd - serviceAllocatedAtStart) / measuredOps : Double.NaN;
        return new ThroughputResult(spec.name, spec.role, opsPerSecond, bytesPerOp);
    }

    /**
     * Median of some values (mean of the middle two for an even count).
     *
     * @param values the values; not modified.
     * @return the median, NaN when empty.
     */
    static double median(final double[] values)
    {
        if (0 == values.length)
        {
            return Double.NaN;
        }
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        final int mid = sorted.length / 2;
        return 0 == (sorted.length & 1) ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[mid];
    }
}
