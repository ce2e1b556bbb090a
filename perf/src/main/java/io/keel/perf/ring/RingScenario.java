package io.keel.perf.ring;

import com.lmax.disruptor.dsl.ProducerType;
import io.keel.perf.BenchContext;
import io.keel.perf.Format;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.LatencyResult;
import io.keel.perf.LatencyRun;
import io.keel.perf.Role;
import io.keel.perf.Scenario;
import io.keel.perf.ThroughputResult;
import io.keel.perf.ThroughputRun;
import io.keel.perf.report.RunReport;

import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * "Ring → business thread (in-process)": a Disruptor ring feeding one business thread that applies a small
 * ledger update and records latency, against an {@link java.util.concurrent.ArrayBlockingQueue} pipeline doing
 * the same work. Series: {@code disruptor-sp} (single-producer sequencer), {@code disruptor-mp} (multi-producer
 * sequencer, one publishing thread: the CAS claim cost without oversubscribing a 2-core machine) and the
 * baseline {@code abq}. Each gets a closed-loop throughput run and open-loop latency runs at every rate.
 */
public final class RingScenario implements Scenario
{
    /**
     * Series name of the single-producer Disruptor pipeline.
     */
    public static final String DISRUPTOR_SP = "disruptor-sp";

    /**
     * Series name of the multi-producer Disruptor pipeline.
     */
    public static final String DISRUPTOR_MP = "disruptor-mp";

    /**
     * Series name of the ArrayBlockingQueue baseline.
     */
    public static final String QUEUE = "abq";

    private static final List<String> VARIANTS = List.of(DISRUPTOR_SP, DISRUPTOR_MP, QUEUE);

    @Override
    public String name()
    {
        return "ring";
    }

    @Override
    public String description()
    {
        return "Disruptor ring (single/multi-producer) -> business thread vs ArrayBlockingQueue pipeline, same ledger work";
    }

    @Override
    public long[] defaultRatesPerSecond(final BenchContext context)
    {
        return context.isFull() ?
            new long[]{ 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_000_000 } :
            new long[]{ 10_000, 100_000, 1_000_000 };
    }

    @Override
    public void run(final BenchContext context, final RunReport report) throws Exception
    {
        checkThreads(context);
        report.setting("wait", context.waitMode().label())
            .setting("idle", context.idleMode().label())
            .setting("ringSize", context.ringSizeEvents())
            .pair(DISRUPTOR_SP, QUEUE)
            .pair(DISRUPTOR_MP, QUEUE)
            .note("abq consumer uses take() (lock + condition), whatever --wait says; --wait sets the Disruptor's");

        if (context.throughput())
        {
            for (final String variant : VARIANTS)
            {
                report.add(measureThroughput(context, variant));
            }
        }
        for (final long rate : context.ratesOrDefault(defaultRatesPerSecond(context)))
        {
            for (final String variant : VARIANTS)
            {
                report.add(measureLatency(context, report, variant, rate));
            }
        }
    }

    /**
     * Fails when the settings would busy-spin more threads than there are cores.
     *
     * @param context the settings.
     */
    public static void checkThreads(final BenchContext context)
    {
        context.checkSpinningThreads(
            (context.idleMode().isSpinning() ? 1 : 0) + (context.waitMode().isSpinning() ? 1 : 0), "ring");
    }

    /**
     * Closed-loop maximum throughput of one pipeline.
     *
     * @param context the settings.
     * @param variant {@link #DISRUPTOR_SP}, {@link #DISRUPTOR_MP} or {@link #QUEUE}.
     * @return the result.
     */
    public static ThroughputResult measureThroughput(final BenchContext context, final String variant)
    {
        try (RingPipeline pipeline = newPipeline(context, variant, LatencyRecorder.singleWriter()))
        {
            final ThroughputResult result = ThroughputRun.run(
                context.throughputSpec().name(variant).role(role(variant)),
                pipeline::throughputIteration,
                pipeline.serviceThreads());
            checkLedger(pipeline, variant);
            return result;
        }
    }

    /**
     * Open-loop latency of one pipeline at one rate.
     *
     * @param context       the settings.
     * @param report        the run folder (for the interval log).
     * @param variant       {@link #DISRUPTOR_SP}, {@link #DISRUPTOR_MP} or {@link #QUEUE}.
     * @param ratePerSecond offered load.
     * @return the result.
     * @throws IOException          when the interval log cannot be written.
     * @throws InterruptedException when interrupted.
     */
    public static LatencyResult measureLatency(
        final BenchContext context, final RunReport report, final String variant, final long ratePerSecond)
        throws IOException, InterruptedException
    {
        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        try (RingPipeline pipeline = newPipeline(context, variant, recorder))
        {
            final LatencyRun.Spec spec = context.latencySpec().name(variant).role(role(variant)).openLoop(ratePerSecond);
            spec.hlogFile(report.hlogFile(variant, spec.group()));
            final LatencyResult result = LatencyRun.run(spec, pipeline, recorder);
            checkLedger(pipeline, variant);
            return result;
        }
    }

    private static Role role(final String variant)
    {
        return QUEUE.equals(variant) ? Role.BASELINE : Role.SCENARIO;
    }

    private static RingPipeline newPipeline(
        final BenchContext context, final String variant, final LatencyRecorder recorder)
    {
        switch (variant)
        {
            case DISRUPTOR_SP:
                return new DisruptorPipeline(ProducerType.SINGLE, context.waitMode(), context.ringSizeEvents(), recorder);
            case DISRUPTOR_MP:
                return new DisruptorPipeline(ProducerType.MULTI, context.waitMode(), context.ringSizeEvents(), recorder);
            case QUEUE:
                return new QueuePipeline(context.ringSizeEvents(), recorder);
            default:
                throw new IllegalArgumentException("unknown ring variant: " + variant);
        }
    }

    private static void checkLedger(final RingPipeline pipeline, final String variant)
    {
        final long completed = pipeline.completedCount();
        final long total = pipeline.ledgerTotal();
        if (total != completed)
        {
            throw new IllegalStateException(String.format(
                Locale.ROOT, "%s: ledger total %d != commands applied %d (%s)",
                variant, total, completed, Format.count(completed)));
        }
    }
}
