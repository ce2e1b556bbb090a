package io.keel.perf;

import io.keel.perf.report.RunReport;
import io.keel.perf.ring.RingScenario;

import java.util.Locale;

/**
 * The allocation check: steady-state runs of the harness alone and of the ring pipelines, reporting bytes
 * allocated per operation on the hot threads (load thread, business thread) from HotSpot's per-thread
 * allocation counters. The harness and the Disruptor path must not allocate; the queue baseline may (its
 * lock's condition waits allocate nodes). Run it under Epsilon GC to prove the point the hard way:
 * {@code KEEL_JAVA_OPTS="-XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -Xmx1g" ./keel bench alloc}.
 */
public final class AllocationScenario implements Scenario
{
    /**
     * Largest bytes per operation still counted as "allocation-free". A one-off allocation during the window
     * (a deoptimisation, a thread-local initialised late) shows as a few KB, i.e. a few hundredths of a byte
     * per operation over a few hundred thousand operations; a per-operation or per-batch allocation is at
     * least 16 bytes every few hundred operations and lands above this.
     */
    public static final double ALLOCATION_FREE_BYTES_PER_OP = 0.05;

    private int regressions;

    /**
     * Series that should have been allocation-free but allocated, in the last {@link #run}.
     *
     * @return the count, 0 when the check passed.
     */
    public int regressions()
    {
        return regressions;
    }

    @Override
    public String name()
    {
        return "alloc";
    }

    @Override
    public String description()
    {
        return "allocation check: bytes per operation on the hot threads of the harness and the ring pipelines";
    }

    @Override
    public long[] defaultRatesPerSecond(final BenchContext context)
    {
        return new long[]{ 100_000 };
    }

    @Override
    public void run(final BenchContext context, final RunReport report) throws Exception
    {
        RingScenario.checkThreads(context);
        regressions = 0;
        report.setting("idle", context.idleMode().label()).setting("wait", context.waitMode().label());
        if (!AllocationMeter.isSupported())
        {
            report.note("this JVM has no per-thread allocation counters: bytes/op are n/a");
        }
        final String gc = System.getProperty("keel.bench.gc", gcName());
        report.setting("gc", gc);

        final long rate = context.ratesOrDefault(defaultRatesPerSecond(context))[0];
        final LatencyResult floor = FloorScenario.measure(context, report, rate);
        report.add(floor);
        verdict(report, "harness (open-loop generator + recorder)", floor.allocatedBytesPerOp(), true);

        for (final String variant : new String[]{ RingScenario.DISRUPTOR_SP, RingScenario.QUEUE })
        {
            final boolean mustBeFree = !RingScenario.QUEUE.equals(variant);
            if (context.throughput())
            {
                final ThroughputResult throughput = RingScenario.measureThroughput(context, variant);
                report.add(throughput);
                verdict(report, variant + " throughput", throughput.allocatedBytesPerOp(), mustBeFree);
            }
            final LatencyResult latency = RingScenario.measureLatency(context, report, variant, rate);
            report.add(latency);
            verdict(report, variant + " open loop", latency.allocatedBytesPerOp(), mustBeFree);
        }
    }

    private void verdict(final RunReport report, final String what, final double bytesPerOp, final boolean mustBeFree)
    {
        if (Double.isNaN(bytesPerOp))
        {
            return;
        }
        final boolean free = bytesPerOp <= ALLOCATION_FREE_BYTES_PER_OP;
        final String text = String.format(
            Locale.ROOT, "allocation %s: %s, %.3f B/op%s", free ? "free" : "FOUND", what, bytesPerOp,
            !free && mustBeFree ? " (expected allocation-free: a regression)" : "");
        if (!free && mustBeFree)
        {
            regressions++;
        }
        report.note(text);
        System.err.println("keel bench alloc: " + text);
    }

    private static String gcName()
    {
        final StringBuilder sb = new StringBuilder();
        for (final java.lang.management.GarbageCollectorMXBean gc :
            java.lang.management.ManagementFactory.getGarbageCollectorMXBeans())
        {
            sb.append(sb.length() == 0 ? "" : "+").append(gc.getName().replace(' ', '_'));
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }
}
