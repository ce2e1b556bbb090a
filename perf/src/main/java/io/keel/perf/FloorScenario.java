package io.keel.perf;

import io.keel.perf.report.RunReport;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The harness measuring nothing: the open-loop generator paces operations and each "send" records its own
 * latency from the intended time straight away. What remains is the pacing jitter of the load thread, the
 * recording cost and the machine's scheduling stalls: the floor under every other figure on this machine,
 * and the allocation check of the harness itself.
 */
public final class FloorScenario implements Scenario
{
    /**
     * Series name.
     */
    public static final String SERIES = "harness";

    @Override
    public String name()
    {
        return "floor";
    }

    @Override
    public String description()
    {
        return "the harness measuring nothing: pacing jitter + recording cost, the floor of this machine";
    }

    @Override
    public long[] defaultRatesPerSecond(final BenchContext context)
    {
        return context.isFull() ? new long[]{ 10_000, 100_000, 1_000_000 } : new long[]{ 100_000 };
    }

    @Override
    public void run(final BenchContext context, final RunReport report) throws Exception
    {
        context.checkSpinningThreads(context.idleMode().isSpinning() ? 1 : 0, "floor");
        report.setting("idle", context.idleMode().label());
        for (final long rate : context.ratesOrDefault(defaultRatesPerSecond(context)))
        {
            report.add(measure(context, report, rate));
        }
    }

    /**
     * One open-loop run of the empty system.
     *
     * @param context       the settings.
     * @param report        the run folder.
     * @param ratePerSecond offered load.
     * @return the result.
     * @throws Exception when the run fails.
     */
    public static LatencyResult measure(final BenchContext context, final RunReport report, final long ratePerSecond)
        throws Exception
    {
        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        try (NullSystem system = new NullSystem(recorder))
        {
            final LatencyRun.Spec spec = context.latencySpec().name(SERIES).role(Role.FLOOR).openLoop(ratePerSecond);
            spec.hlogFile(report.hlogFile(SERIES, spec.group()));
            return LatencyRun.run(spec, system, recorder);
        }
    }

    /**
     * Completes every operation in {@link #send(long)} itself.
     */
    static final class NullSystem implements SystemUnderTest
    {
        private final LatencyRecorder recorder;
        private final AtomicLong completed = new AtomicLong();
        private long completedCount;

        NullSystem(final LatencyRecorder recorder)
        {
            this.recorder = recorder;
        }

        @Override
        public void send(final long intendedNs)
        {
            recorder.recordLatencyNs(System.nanoTime() - intendedNs);
            completed.lazySet(++completedCount);
        }

        @Override
        public long completedCount()
        {
            return completed.get();
        }

        @Override
        public List<Thread> serviceThreads()
        {
            return List.of();
        }

        @Override
        public void close()
        {
        }
    }
}
