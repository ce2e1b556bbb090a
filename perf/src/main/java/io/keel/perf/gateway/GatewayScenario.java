package io.keel.perf.gateway;

import io.keel.journal.DurabilityPolicy;
import io.keel.perf.AllocationMeter;
import io.keel.perf.BenchContext;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.LatencyRun;
import io.keel.perf.PipelinedThroughput;
import io.keel.perf.Role;
import io.keel.perf.Scenario;
import io.keel.perf.SystemUnderTest;
import io.keel.perf.ThroughputRun;
import io.keel.perf.aeron.AeronPingPong;
import io.keel.perf.report.RunReport;

import java.util.List;
import java.util.Locale;

/**
 * Client → gateway → engine → gateway → client over Aeron UDP on 127.0.0.1, beside a raw Aeron UDP ping-pong of
 * the same message size and the same idle strategies, in the same run: open loop at fixed rates (latency from the
 * intended send time), closed loop (RTT), and maximum throughput with a bounded pipelining window. The ratio
 * gateway / raw Aeron is the headline: what the gateway, the engine and the journal add to the transport.
 * <p>
 * Gateway-only settings are system properties: {@code keel.bench.gateway.fsync} (none|batch|always, default
 * none), {@code keel.bench.gateway.window} (in-flight window for throughput, default 1024),
 * {@code keel.bench.gateway.client.driver} (own, default: the client embeds its own driver, as a separate client
 * process would; shared: the client uses the node's media driver) and {@code keel.bench.gateway.variants}
 * (comma list, default {@code invoker,one-thread}: {@code invoker}: drivers run inside the gateway's and the
 * client's duty cycles, the business logic on its own thread; {@code one-thread}: the business logic also runs in
 * the gateway's duty cycle ({@code --engine-threading gateway}), series {@code gateway-1thread};
 * {@code threads}: each driver on a thread of its own, the layout before, series {@code gateway-driver-threads};
 * {@code metrics-off} and {@code metrics-on}: the invoker layout without the node's counters file, error file and
 * latency histogram, then with them and the Prometheus endpoint scraped once a second, series
 * {@code gateway-metrics-off} / {@code gateway-metrics-on}, paired so the report shows the ratio on / off).
 */
public final class GatewayScenario implements Scenario
{
    /** Series name of the gateway round trip. */
    public static final String SERIES = "gateway";

    private static final int PRIMING_ROUND_TRIPS = 20_000;

    @Override
    public String name()
    {
        return "gateway";
    }

    @Override
    public String description()
    {
        return "client -> node (gateway + engine + journal) -> client over Aeron UDP vs raw Aeron ping-pong, same size";
    }

    @Override
    public long[] defaultRatesPerSecond(final BenchContext context)
    {
        return new long[]{ 10_000, 50_000, 100_000 };
    }

    @Override
    public void run(final BenchContext context, final RunReport report) throws Exception
    {
        final DurabilityPolicy fsync = DurabilityPolicy.valueOf(
            System.getProperty("keel.bench.gateway.fsync", "none").toUpperCase(Locale.ROOT));
        final int window = Integer.getInteger("keel.bench.gateway.window", 1024);
        final boolean ownDriver = !"shared".equals(System.getProperty("keel.bench.gateway.client.driver", "own"));
        final String[] variants = System.getProperty("keel.bench.gateway.variants", "invoker,one-thread").split(",");
        final int messageSize = GatewayRoundTrip.responseMessageLength();
        final String baseline = "aeron-udp-" + messageSize + "B";
        context.checkSpinningThreads(context.idleMode().isSpinning() ? 3 : 0, "gateway round trip");
        report.setting("idle", context.idleMode().label())
            .setting("fsync", fsync.name().toLowerCase(Locale.ROOT))
            .setting("window", window)
            .setting("clientDriver", ownDriver ? "own (as a separate client process)" : "shared with the node")
            .setting("messageSizeBytes", messageSize);

        final long[] rates = context.ratesOrDefault(defaultRatesPerSecond(context));

        final LatencyRecorder baseRecorder = LatencyRecorder.singleWriter();
        try (AeronPingPong pingPong = AeronPingPong.launch(messageSize, context.idleMode(), false, baseRecorder))
        {
            pingPong.prime(PRIMING_ROUND_TRIPS);
            measure(context, report, baseline, Role.BASELINE, pingPong, baseRecorder, rates, window);
        }

        for (final String variant : variants)
        {
            final String name = variant.trim();
            final boolean threadPerDriver = "threads".equals(name);
            final String metrics = name.startsWith("metrics-") ? name.substring("metrics-".length()) : "default";
            final boolean oneThread = "one-thread".equals(name);
            final String series = threadPerDriver ? SERIES + "-driver-threads" : oneThread ? SERIES + "-1thread" :
                name.startsWith("metrics-") ? SERIES + "-" + name : SERIES;
            if ("on".equals(metrics))
            {
                report.pair(series, SERIES + "-metrics-off");
            }
            else
            {
                report.pair(series, baseline);
            }
            final GatewayRoundTrip.Settings settings = new GatewayRoundTrip.Settings()
                .idle(context.idleMode()).fsync(fsync).window(window).clientOwnDriver(ownDriver)
                .threadPerDriver(threadPerDriver).engineInGateway(oneThread).metrics(metrics);
            runGateway(context, report, series, settings, rates, window);
        }
    }

    static void runGateway(
        final BenchContext context,
        final RunReport report,
        final String series,
        final GatewayRoundTrip.Settings settings,
        final long[] rates,
        final int window) throws Exception
    {
        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        try (GatewayRoundTrip roundTrip = GatewayRoundTrip.launch(settings, recorder))
        {
            report.setting("commandMessageBytes", roundTrip.commandMessageLength());
            report.note(series + ": hot threads besides the load thread: " + threadNames(roundTrip.serviceThreads()));
            prime(roundTrip);
            final Thread gateway = roundTrip.gatewayThread();
            final Thread engine = roundTrip.engineThread();
            final long gatewayBefore = null == gateway ? -1 : AllocationMeter.allocatedBytes(gateway);
            final long engineBefore = null == engine ? -1 : AllocationMeter.allocatedBytes(engine);
            final long commandsBefore = roundTrip.completedCount();
            measure(context, report, series, Role.SCENARIO, roundTrip, recorder, rates, window);
            final long commands = roundTrip.completedCount() - commandsBefore;
            if (commands > 0 && gatewayBefore >= 0)
            {
                final double gatewayBytes = (AllocationMeter.allocatedBytes(gateway) - gatewayBefore) / (double)commands;
                report.setting(series + ".gatewayThreadBytesPerCommand", round(gatewayBytes));
                if (engineBefore >= 0)
                {
                    final double engineBytes = (AllocationMeter.allocatedBytes(engine) - engineBefore) / (double)commands;
                    report.setting(series + ".engineThreadBytesPerCommand", round(engineBytes));
                    report.note(String.format(Locale.ROOT, "%s: node allocation over %,d commands: gateway thread " +
                        "%.3f B/command, engine thread %.3f B/command", series, commands, gatewayBytes, engineBytes));
                }
                else
                {
                    report.note(String.format(Locale.ROOT, "%s: node allocation over %,d commands: gateway thread " +
                        "(engine included) %.3f B/command", series, commands, gatewayBytes));
                }
            }
            if (roundTrip.scrapes() > 0)
            {
                report.note(String.format(Locale.ROOT, "%s: metrics endpoint scraped %d times (last %,d bytes)",
                    series, roundTrip.scrapes(), roundTrip.lastScrapeBytes()));
            }
            if (roundTrip.failedCount() > 0)
            {
                report.note(series + ": " + roundTrip.failedCount() + " commands failed (timed out or refused)");
            }
        }
    }

    static void measure(
        final BenchContext context,
        final RunReport report,
        final String series,
        final Role role,
        final SystemUnderTest system,
        final LatencyRecorder recorder,
        final long[] rates,
        final int window) throws Exception
    {
        for (final long rate : rates)
        {
            final LatencyRun.Spec spec = context.latencySpec().name(series).role(role).openLoop(rate);
            spec.hlogFile(report.hlogFile(series, spec.group()));
            report.add(LatencyRun.run(spec, system, recorder));
        }
        if (context.closedLoop())
        {
            final LatencyRun.Spec spec = context.latencySpec().name(series).role(role).closedLoop();
            spec.hlogFile(report.hlogFile(series, spec.group()));
            report.add(LatencyRun.run(spec, system, recorder));
        }
        if (context.throughput())
        {
            report.add(ThroughputRun.run(context.throughputSpec().name(series).role(role),
                new PipelinedThroughput(system, window, context.idleMode().newIdleStrategy()),
                system.serviceThreads()));
        }
    }

    private static void prime(final GatewayRoundTrip roundTrip)
    {
        prime(roundTrip, PRIMING_ROUND_TRIPS);
    }

    static void prime(final SystemUnderTest system, final int roundTrips)
    {
        final PipelinedThroughput closedLoop = new PipelinedThroughput(system, 1,
            new org.agrona.concurrent.YieldingIdleStrategy());
        final long deadlineNs = System.nanoTime() + 20_000_000_000L;
        long done = 0;
        while (done < roundTrips && System.nanoTime() - deadlineNs < 0)
        {
            done += closedLoop.run(1_000_000);
        }
    }

    private static double round(final double value)
    {
        return Math.round(value * 1000) / 1000.0;
    }

    private static String threadNames(final List<Thread> threads)
    {
        final StringBuilder names = new StringBuilder();
        for (final Thread thread : threads)
        {
            names.append(names.length() > 0 ? ", " : "").append(thread.getName());
        }
        return names.toString();
    }
}
