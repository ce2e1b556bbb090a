package io.keel.perf;

import io.keel.perf.ring.WaitMode;

import java.io.File;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Settings of a benchmark session, Aeron-style: fields with defaults (overridable by {@code keel.bench.*}
 * system properties), fluent setters, and {@link #conclude()} which validates and fails naming the setting.
 * {@link #quick()} and {@link #full()} are the two standard profiles.
 */
public final class BenchContext
{
    private String profile = "custom";
    private File outputDirectory = new File(System.getProperty("keel.bench.dir", "perf/results"));
    private long warmupNs = TimeUnit.SECONDS.toNanos(Long.getLong("keel.bench.warmup.s", 2));
    private long durationNs = TimeUnit.SECONDS.toNanos(Long.getLong("keel.bench.duration.s", 10));
    private long intervalNs = TimeUnit.SECONDS.toNanos(1);
    private long[] ratesPerSecond;
    private IdleMode idleMode = IdleMode.parse(System.getProperty("keel.bench.idle", "yield"));
    private WaitMode waitMode = WaitMode.parse(System.getProperty("keel.bench.wait", "yielding"));
    private int messageSizeBytes = Integer.getInteger("keel.bench.message.size", 32);
    private int ringSizeEvents = 1 << 16;
    private int throughputWarmupIterations = 2;
    private int throughputIterations = 5;
    private long throughputIterationNs = TimeUnit.MILLISECONDS.toNanos(500);
    private boolean throughput = true;
    private boolean closedLoop = true;
    private boolean pongThread = Boolean.getBoolean("keel.bench.pong.thread");
    private int cores = Runtime.getRuntime().availableProcessors();

    /**
     * The quick profile: every scenario small, the whole set in well under five minutes.
     *
     * @return a new context.
     */
    public static BenchContext quick()
    {
        return new BenchContext()
            .profile("quick")
            .warmupNs(TimeUnit.SECONDS.toNanos(1))
            .durationNs(TimeUnit.SECONDS.toNanos(3))
            .throughputWarmupIterations(2)
            .throughputIterations(4)
            .throughputIterationNs(TimeUnit.MILLISECONDS.toNanos(300));
    }

    /**
     * The full profile: longer runs and rate sweeps.
     *
     * @return a new context.
     */
    public static BenchContext full()
    {
        return new BenchContext()
            .profile("full")
            .warmupNs(TimeUnit.SECONDS.toNanos(5))
            .durationNs(TimeUnit.SECONDS.toNanos(20))
            .throughputWarmupIterations(3)
            .throughputIterations(10)
            .throughputIterationNs(TimeUnit.SECONDS.toNanos(1));
    }

    /**
     * Is this the full profile (scenarios use their longer rate sweeps)?
     *
     * @return true for {@code full}.
     */
    public boolean isFull()
    {
        return "full".equals(profile);
    }

    /**
     * Profile name recorded in summaries: {@code quick}, {@code full} or {@code custom}.
     *
     * @return the name.
     */
    public String profile()
    {
        return profile;
    }

    /**
     * Sets the profile name.
     *
     * @param profile the name.
     * @return this.
     */
    public BenchContext profile(final String profile)
    {
        this.profile = profile;
        return this;
    }

    /**
     * Folder that receives one sub-folder per scenario run.
     *
     * @return the folder (default {@code perf/results}, property {@code keel.bench.dir}).
     */
    public File outputDirectory()
    {
        return outputDirectory;
    }

    /**
     * Sets the output folder.
     *
     * @param outputDirectory the folder.
     * @return this.
     */
    public BenchContext outputDirectory(final File outputDirectory)
    {
        this.outputDirectory = outputDirectory;
        return this;
    }

    /**
     * Warm-up time of each latency run, discarded.
     *
     * @return nanoseconds.
     */
    public long warmupNs()
    {
        return warmupNs;
    }

    /**
     * Sets the warm-up time.
     *
     * @param warmupNs nanoseconds.
     * @return this.
     */
    public BenchContext warmupNs(final long warmupNs)
    {
        this.warmupNs = warmupNs;
        return this;
    }

    /**
     * Measured time of each latency run.
     *
     * @return nanoseconds.
     */
    public long durationNs()
    {
        return durationNs;
    }

    /**
     * Sets the measured time.
     *
     * @param durationNs nanoseconds.
     * @return this.
     */
    public BenchContext durationNs(final long durationNs)
    {
        this.durationNs = durationNs;
        return this;
    }

    /**
     * Reporting interval (one {@code .hlog} entry, one progress update).
     *
     * @return nanoseconds.
     */
    public long intervalNs()
    {
        return intervalNs;
    }

    /**
     * Sets the reporting interval.
     *
     * @param intervalNs nanoseconds.
     * @return this.
     */
    public BenchContext intervalNs(final long intervalNs)
    {
        this.intervalNs = intervalNs;
        return this;
    }

    /**
     * Open-loop rates to run, or the scenario's defaults for the profile when none were set.
     *
     * @param scenarioDefaults the scenario's defaults.
     * @return operations per second, ascending.
     */
    public long[] ratesOrDefault(final long[] scenarioDefaults)
    {
        return null == ratesPerSecond ? scenarioDefaults.clone() : ratesPerSecond.clone();
    }

    /**
     * Sets the open-loop rates (a single rate, or a sweep).
     *
     * @param ratesPerSecond operations per second.
     * @return this.
     */
    public BenchContext ratesPerSecond(final long... ratesPerSecond)
    {
        this.ratesPerSecond = null == ratesPerSecond ? null : ratesPerSecond.clone();
        if (null != this.ratesPerSecond)
        {
            Arrays.sort(this.ratesPerSecond);
        }
        return this;
    }

    /**
     * Idle strategy of load threads, echo agents and the media driver.
     *
     * @return the mode (property {@code keel.bench.idle}).
     */
    public IdleMode idleMode()
    {
        return idleMode;
    }

    /**
     * Sets the idle mode.
     *
     * @param idleMode the mode.
     * @return this.
     */
    public BenchContext idleMode(final IdleMode idleMode)
    {
        this.idleMode = idleMode;
        return this;
    }

    /**
     * Wait strategy of the Disruptor consumer.
     *
     * @return the mode (property {@code keel.bench.wait}).
     */
    public WaitMode waitMode()
    {
        return waitMode;
    }

    /**
     * Sets the Disruptor wait strategy.
     *
     * @param waitMode the mode.
     * @return this.
     */
    public BenchContext waitMode(final WaitMode waitMode)
    {
        this.waitMode = waitMode;
        return this;
    }

    /**
     * Message size for transport scenarios.
     *
     * @return bytes (property {@code keel.bench.message.size}).
     */
    public int messageSizeBytes()
    {
        return messageSizeBytes;
    }

    /**
     * Sets the message size.
     *
     * @param messageSizeBytes bytes, at least 16.
     * @return this.
     */
    public BenchContext messageSizeBytes(final int messageSizeBytes)
    {
        this.messageSizeBytes = messageSizeBytes;
        return this;
    }

    /**
     * Ring size, and the capacity of the queue baseline.
     *
     * @return entries, a power of two.
     */
    public int ringSizeEvents()
    {
        return ringSizeEvents;
    }

    /**
     * Sets the ring size.
     *
     * @param ringSizeEvents entries, a power of two.
     * @return this.
     */
    public BenchContext ringSizeEvents(final int ringSizeEvents)
    {
        this.ringSizeEvents = ringSizeEvents;
        return this;
    }

    /**
     * Throughput warm-up iterations, discarded.
     *
     * @return the count.
     */
    public int throughputWarmupIterations()
    {
        return throughputWarmupIterations;
    }

    /**
     * Sets the throughput warm-up iterations.
     *
     * @param iterations the count.
     * @return this.
     */
    public BenchContext throughputWarmupIterations(final int iterations)
    {
        this.throughputWarmupIterations = iterations;
        return this;
    }

    /**
     * Throughput measured iterations.
     *
     * @return the count.
     */
    public int throughputIterations()
    {
        return throughputIterations;
    }

    /**
     * Sets the throughput measured iterations.
     *
     * @param iterations the count.
     * @return this.
     */
    public BenchContext throughputIterations(final int iterations)
    {
        this.throughputIterations = iterations;
        return this;
    }

    /**
     * Sending time of one throughput iteration.
     *
     * @return nanoseconds.
     */
    public long throughputIterationNs()
    {
        return throughputIterationNs;
    }

    /**
     * Sets the sending time of one throughput iteration.
     *
     * @param iterationNs nanoseconds.
     * @return this.
     */
    public BenchContext throughputIterationNs(final long iterationNs)
    {
        this.throughputIterationNs = iterationNs;
        return this;
    }

    /**
     * Run closed-loop maximum-throughput measurements?
     *
     * @return true by default.
     */
    public boolean throughput()
    {
        return throughput;
    }

    /**
     * Turns throughput measurements on or off.
     *
     * @param throughput on or off.
     * @return this.
     */
    public BenchContext throughput(final boolean throughput)
    {
        this.throughput = throughput;
        return this;
    }

    /**
     * Run closed-loop (ping-pong RTT) latency measurements where a scenario has them?
     *
     * @return true by default.
     */
    public boolean closedLoop()
    {
        return closedLoop;
    }

    /**
     * Turns closed-loop latency measurements on or off.
     *
     * @param closedLoop on or off.
     * @return this.
     */
    public BenchContext closedLoop(final boolean closedLoop)
    {
        this.closedLoop = closedLoop;
        return this;
    }

    /**
     * Give the Aeron echo (pong) side its own thread instead of sharing the load thread's duty cycle.
     *
     * @return false by default (two hot threads: driver and client).
     */
    public boolean pongThread()
    {
        return pongThread;
    }

    /**
     * Sets whether the echo side gets its own thread.
     *
     * @param pongThread on or off.
     * @return this.
     */
    public BenchContext pongThread(final boolean pongThread)
    {
        this.pongThread = pongThread;
        return this;
    }

    /**
     * Cores available, the budget for spinning threads.
     *
     * @return the count.
     */
    public int cores()
    {
        return cores;
    }

    /**
     * Overrides the core count (tests).
     *
     * @param cores the count.
     * @return this.
     */
    public BenchContext cores(final int cores)
    {
        this.cores = cores;
        return this;
    }

    /**
     * Fails when more threads would busy-spin than there are cores: they would starve each other and the
     * numbers would measure the scheduler.
     *
     * @param spinningThreads threads that would spin with the current settings.
     * @param what            the scenario, for the message.
     */
    public void checkSpinningThreads(final int spinningThreads, final String what)
    {
        if (spinningThreads > cores)
        {
            throw new IllegalArgumentException(what + " would busy-spin " + spinningThreads + " threads on " + cores +
                " cores; choose --idle yield|backoff or a non-spinning --wait");
        }
    }

    /**
     * Validates every setting.
     *
     * @return this.
     * @throws IllegalArgumentException naming the setting at fault.
     */
    public BenchContext conclude()
    {
        if (warmupNs < 0)
        {
            throw new IllegalArgumentException("warmup must be >= 0s");
        }
        if (durationNs < TimeUnit.MILLISECONDS.toNanos(100))
        {
            throw new IllegalArgumentException("duration must be >= 0.1s");
        }
        if (intervalNs < TimeUnit.MILLISECONDS.toNanos(10) || intervalNs > durationNs)
        {
            throw new IllegalArgumentException("interval must be in [10ms, duration]");
        }
        if (null != ratesPerSecond)
        {
            for (final long rate : ratesPerSecond)
            {
                if (rate < 1 || rate > 100_000_000L)
                {
                    throw new IllegalArgumentException("rate must be in [1, 1e8] per second, was: " + rate);
                }
            }
        }
        if (messageSizeBytes < 16 || messageSizeBytes > 1 << 20)
        {
            throw new IllegalArgumentException("message size must be in [16, 1MiB] bytes, was: " + messageSizeBytes);
        }
        if (Integer.bitCount(ringSizeEvents) != 1 || ringSizeEvents < 2)
        {
            throw new IllegalArgumentException("ring size must be a power of two >= 2, was: " + ringSizeEvents);
        }
        if (throughputIterations < 1 || throughputWarmupIterations < 0)
        {
            throw new IllegalArgumentException("throughput iterations must be >= 1 (warm-up >= 0)");
        }
        if (cores < 1)
        {
            throw new IllegalArgumentException("cores must be >= 1");
        }
        return this;
    }

    /**
     * A latency run spec pre-filled with this context's timing and idle settings.
     *
     * @return a new spec.
     */
    public LatencyRun.Spec latencySpec()
    {
        return new LatencyRun.Spec()
            .warmupNs(warmupNs)
            .durationNs(durationNs)
            .intervalNs(intervalNs)
            .idleMode(idleMode);
    }

    /**
     * A throughput run spec pre-filled with this context's iteration settings.
     *
     * @return a new spec.
     */
    public ThroughputRun.Spec throughputSpec()
    {
        return new ThroughputRun.Spec()
            .warmupIterations(throughputWarmupIterations)
            .iterations(throughputIterations)
            .iterationNs(throughputIterationNs);
    }
}
