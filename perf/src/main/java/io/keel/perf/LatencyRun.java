package io.keel.perf;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.agrona.concurrent.IdleStrategy;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One timed latency measurement against a {@link SystemUnderTest}: a load thread sends (open or closed loop)
 * for warm-up plus duration; the calling thread is the reporter. At the end of warm-up the reporter throws the
 * recorded samples away; afterwards, every interval, it takes the interval histogram, appends it to the
 * {@code .hlog}, adds it to the run's histogram and refreshes the progress line. Only the load thread and the
 * system's own threads touch the hot path, and they do not allocate; the reporter may.
 */
public final class LatencyRun
{
    /**
     * How load is offered.
     */
    public enum Mode
    {
        /**
         * Fixed rate, latency from the intended send time (coordinated omission corrected).
         */
        OPEN_LOOP("open"),

        /**
         * One operation in flight, latency from the actual send time (round-trip time).
         */
        CLOSED_LOOP("closed");

        private final String label;

        Mode(final String label)
        {
            this.label = label;
        }

        /**
         * Short label used in group keys and reports.
         *
         * @return {@code open} or {@code closed}.
         */
        public String label()
        {
            return label;
        }
    }

    /**
     * Minimum time allowed after the end of sending for outstanding operations to complete.
     */
    static final long DRAIN_TIMEOUT_FLOOR_NS = TimeUnit.SECONDS.toNanos(5);

    private static final long START_DELAY_NS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long REPORTER_SLICE_NS = TimeUnit.MILLISECONDS.toNanos(50);

    /**
     * What to run: fluent settings with defaults, validated by {@link #conclude()}.
     */
    public static final class Spec
    {
        private String name = "unnamed";
        private Role role = Role.SCENARIO;
        private Mode mode = Mode.OPEN_LOOP;
        private long ratePerSecond = 10_000;
        private long warmupNs = TimeUnit.SECONDS.toNanos(1);
        private long durationNs = TimeUnit.SECONDS.toNanos(5);
        private long intervalNs = TimeUnit.SECONDS.toNanos(1);
        private IdleMode idleMode = IdleMode.YIELD;
        private File hlogFile;
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
         * Open loop at a fixed rate.
         *
         * @param ratePerSecond offered load.
         * @return this.
         */
        public Spec openLoop(final long ratePerSecond)
        {
            this.mode = Mode.OPEN_LOOP;
            this.ratePerSecond = ratePerSecond;
            return this;
        }

        /**
         * Closed loop, one operation in flight.
         *
         * @return this.
         */
        public Spec closedLoop()
        {
            this.mode = Mode.CLOSED_LOOP;
            this.ratePerSecond = 0;
            return this;
        }

        /**
         * Warm-up time whose samples are discarded.
         *
         * @param warmupNs nanoseconds, 0 or more.
         * @return this.
         */
        public Spec warmupNs(final long warmupNs)
        {
            this.warmupNs = warmupNs;
            return this;
        }

        /**
         * Measured time.
         *
         * @param durationNs nanoseconds, more than 0.
         * @return this.
         */
        public Spec durationNs(final long durationNs)
        {
            this.durationNs = durationNs;
            return this;
        }

        /**
         * Length of one measured interval (one {@code .hlog} line, one point of the latency-over-time plot).
         *
         * @param intervalNs nanoseconds, at least 10 ms.
         * @return this.
         */
        public Spec intervalNs(final long intervalNs)
        {
            this.intervalNs = intervalNs;
            return this;
        }

        /**
         * How the load thread waits for the next send time or a reply.
         *
         * @param idleMode the idle mode.
         * @return this.
         */
        public Spec idleMode(final IdleMode idleMode)
        {
            this.idleMode = idleMode;
            return this;
        }

        /**
         * Where to write the interval log, or null for none.
         *
         * @param hlogFile the {@code .hlog} file.
         * @return this.
         */
        public Spec hlogFile(final File hlogFile)
        {
            this.hlogFile = hlogFile;
            return this;
        }

        /**
         * Where the progress line goes, or null for silence.
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
         * Group key: series with the same key ran the same mode at the same offered rate.
         *
         * @return e.g. {@code open@50k} or {@code closed}.
         */
        public String group()
        {
            return Mode.OPEN_LOOP == mode ? "open@" + Format.rateLabel(ratePerSecond) : mode.label();
        }

        /**
         * Validates the settings.
         *
         * @return this.
         * @throws IllegalArgumentException naming the setting at fault.
         */
        public Spec conclude()
        {
            if (Mode.OPEN_LOOP == mode && (ratePerSecond < 1 || ratePerSecond > 1_000_000_000L))
            {
                throw new IllegalArgumentException("rate must be in [1, 1e9] per second, was: " + ratePerSecond);
            }
            if (warmupNs < 0)
            {
                throw new IllegalArgumentException("warmup must be >= 0, was: " + warmupNs + "ns");
            }
            if (durationNs <= 0)
            {
                throw new IllegalArgumentException("duration must be > 0, was: " + durationNs + "ns");
            }
            if (intervalNs < TimeUnit.MILLISECONDS.toNanos(10))
            {
                throw new IllegalArgumentException("interval must be >= 10ms, was: " + intervalNs + "ns");
            }
            if (null == idleMode)
            {
                throw new IllegalArgumentException("idle mode must be set");
            }
            return this;
        }
    }

    private LatencyRun()
    {
    }

    /**
     * Runs one measurement. Blocks for warm-up + duration (+ drain).
     *
     * @param spec     what to run.
     * @param system   the system under test, already started; it records completions into {@code recorder}.
     * @param recorder the recorder the system records into.
     * @return the result.
     * @throws IOException          when the interval log cannot be written.
     * @throws InterruptedException when interrupted while waiting for the load thread.
     */
    public static LatencyResult run(
        final Spec spec, final SystemUnderTest system, final LatencyRecorder recorder)
        throws IOException, InterruptedException
    {
        spec.conclude();
        final Progress progress = null == spec.progressOut ?
            null : new Progress(spec.progressOut, spec.name + " " + spec.group());

        final long startNs = System.nanoTime() + START_DELAY_NS;
        final long measureStartNs = startNs + spec.warmupNs;
        final long endNs = measureStartNs + spec.durationNs;
        final long drainDeadlineNs = endNs + Math.max(DRAIN_TIMEOUT_FLOOR_NS, spec.durationNs);
        final LoadThread loadThread = new LoadThread(spec, system, startNs, endNs, drainDeadlineNs);
        loadThread.start();

        long nowNs;
        while ((nowNs = System.nanoTime()) - measureStartNs < 0)
        {
            if (null != progress)
            {
                progress.warmup(nowNs, (measureStartNs - nowNs) / 1e9);
            }
            LockSupport.parkNanos(Math.min(REPORTER_SLICE_NS, measureStartNs - nowNs));
        }

        Histogram interval = recorder.intervalHistogram(null);
        final long measureStartSampleNs = System.nanoTime();
        final long completedAtStart = system.completedCount();
        final List<Thread> hotThreads = new ArrayList<>();
        hotThreads.add(loadThread);
        hotThreads.addAll(system.serviceThreads());
        final long allocatedAtStart = AllocationMeter.allocatedBytes(hotThreads);

        final HistogramLogWriter logWriter = null == spec.hlogFile ? null : openLog(spec);
        final Histogram accumulated = LatencyRecorder.newHistogram();
        final List<double[]> intervals = new ArrayList<>();
        long nextIntervalNs = measureStartNs + spec.intervalNs;
        long completedAtEnd = -1;
        long endSampleNs = -1;
        try
        {
            while (true)
            {
                nowNs = System.nanoTime();
                final boolean drained = loadThread.drained;
                if (completedAtEnd < 0 && nowNs - endNs >= 0)
                {
                    completedAtEnd = system.completedCount();
                    endSampleNs = nowNs;
                }

                if (nowNs - nextIntervalNs >= 0 || drained)
                {
                    interval = recorder.intervalHistogram(interval);
                    if (null != logWriter)
                    {
                        logWriter.outputIntervalHistogram(interval);
                    }
                    accumulated.add(interval);
                    final double intervalS = Math.max(1, interval.getEndTimeStamp() - interval.getStartTimeStamp()) / 1e3;
                    intervals.add(new double[]
                    {
                        (nowNs - measureStartNs) / 1e9,
                        interval.getValueAtPercentile(50) / 1e3,
                        interval.getValueAtPercentile(99) / 1e3,
                        interval.getMaxValue() / 1e3
                    });
                    while (nextIntervalNs - nowNs <= 0)
                    {
                        nextIntervalNs += spec.intervalNs;
                    }
                    if (null != progress)
                    {
                        final double rate = nowNs - endNs < 0 ?
                            interval.getTotalCount() / intervalS :
                            accumulated.getTotalCount() / (spec.durationNs / 1e9);
                        progress.measuring(nowNs, rate, accumulated, (endNs - nowNs) / 1e9, drained);
                    }
                }

                if (drained)
                {
                    break;
                }
                LockSupport.parkNanos(Math.max(1, Math.min(REPORTER_SLICE_NS, nextIntervalNs - System.nanoTime())));
            }
        }
        finally
        {
            if (null != logWriter)
            {
                logWriter.close();
            }
        }

        final long allocatedAtEnd = AllocationMeter.allocatedBytes(hotThreads);
        final long completedAfterDrain = system.completedCount();
        loadThread.released = true;
        LockSupport.unpark(loadThread);
        loadThread.join();
        if (null != loadThread.failure)
        {
            throw new IllegalStateException("load thread failed in " + spec.name, loadThread.failure);
        }
        if (completedAtEnd < 0)
        {
            completedAtEnd = completedAfterDrain;
            endSampleNs = System.nanoTime();
        }

        final long measuredOps = completedAfterDrain - completedAtStart;
        final double achievedRate = (completedAtEnd - completedAtStart) / ((endSampleNs - measureStartSampleNs) / 1e9);
        final long missing = Math.max(0, loadThread.sent - (completedAfterDrain - loadThread.completedBase));
        final double bytesPerOp = allocatedAtStart < 0 || allocatedAtEnd < 0 || measuredOps <= 0 ?
            Double.NaN : (double)(allocatedAtEnd - allocatedAtStart) / measuredOps;
        if (null != progress)
        {
            progress.done();
            if (missing > 0)
            {
                progress.message(missing + " operations never completed: percentiles understate latency");
            }
        }

        final double[][] columns = new double[4][intervals.size()];
        for (int i = 0; i < intervals.size(); i++)
        {
            for (int c = 0; c < 4; c++)
            {
                columns[c][i] = intervals.get(i)[c];
            }
        }
        return new LatencyResult(
            spec.name, spec.role, spec.group(), spec.mode, spec.ratePerSecond, achievedRate,
            accumulated.getTotalCount(), missing, accumulated, columns, bytesPerOp);
    }

    private static HistogramLogWriter openLog(final Spec spec) throws IOException
    {
        final File parent = spec.hlogFile.getAbsoluteFile().getParentFile();
        if (null != parent && !parent.isDirectory() && !parent.mkdirs())
        {
            throw new IOException("cannot create directory " + parent);
        }
        final HistogramLogWriter writer = new HistogramLogWriter(spec.hlogFile);
        final long nowMs = System.currentTimeMillis();
        writer.outputComment("keel bench " + spec.name + " " + spec.group() + ", values in ns");
        writer.outputLogFormatVersion();
        writer.outputStartTime(nowMs);
        writer.setBaseTime(nowMs);
        writer.outputLegend();
        return writer;
    }

    private static final class LoadThread extends Thread
    {
        private final Spec spec;
        private final SystemUnderTest system;
        private final long startNs;
        private final long endNs;
        private final long drainDeadlineNs;
        private final AtomicLong sentCounter = new AtomicLong();
        private final long completedBase;
        private volatile boolean drained;
        private volatile boolean released;
        private volatile long sent;
        private volatile Throwable failure;

        LoadThread(
            final Spec spec,
            final SystemUnderTest system,
            final long startNs,
            final long endNs,
            final long drainDeadlineNs)
        {
            super("keel-perf-load");
            setDaemon(true);
            this.spec = spec;
            this.system = system;
            this.startNs = startNs;
            this.endNs = endNs;
            this.drainDeadlineNs = drainDeadlineNs;
            this.completedBase = system.completedCount();
        }

        @Override
        public void run()
        {
            final IdleStrategy idleStrategy = spec.idleMode.newIdleStrategy();
            try
            {
                final long sentNow;
                if (Mode.OPEN_LOOP == spec.mode)
                {
                    sentNow = new OpenLoopGenerator(NanoClock.SYSTEM, idleStrategy)
                        .run(new OpenLoopSchedule(startNs, spec.ratePerSecond), endNs, system, sentCounter);
                }
                else
                {
                    sentNow = new ClosedLoopGenerator(NanoClock.SYSTEM, idleStrategy)
                        .run(startNs, endNs, system, system::completedCount, sentCounter);
                }
                sent = sentNow;

                while (system.completedCount() - completedBase < sentNow && System.nanoTime() - drainDeadlineNs < 0)
                {
                    idleStrategy.idle(system.poll());
                }
            }
            catch (final Throwable t)
            {
                failure = t;
                sent = sentCounter.get();
            }
            finally
            {
                drained = true;
            }

            while (!released)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
        }
    }
}
