package io.keel.perf.gateway;

import io.keel.journal.DurabilityPolicy;
import io.keel.perf.BenchContext;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.LatencyResult;
import io.keel.perf.LatencyRun;
import io.keel.perf.Role;
import io.keel.perf.Scenario;
import io.keel.perf.cluster.ClusterEcho;
import io.keel.perf.report.RunReport;
import io.keel.replication.AckMode;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The replicated round trip, side by side in one run: the same client ({@code KeelClient} on its own embedded
 * driver in INVOKER mode, run by the load thread), the same 68 B answer and the same idle strategies against
 * (a) one unreplicated {@code KeelNode}, (b) a {@code ReplicatedNode} pair acking {@code sync} (an answer only
 * once the standby has the command), (c) the pair acking {@code async}, (d) a 1-member and (e) a 3-member Aeron
 * Cluster echo service (their client on its own INVOKER driver too). Open loop at 10k/s and 50k/s by default
 * (latency from the intended send time) and closed loop (RTT). Throughput is left out (see the gateway and cluster
 * scenarios).
 * <p>
 * Layout: every node or member runs in this JVM with its own embedded media driver, directories and ports on
 * 127.0.0.1, as in the gateway and cluster scenarios. Hot threads (all on the idle strategy, yield by default):
 * single node 2 + load 1; pair 4 + 1; Aeron Cluster 4 per member (driver, archive, consensus module, service) + 1,
 * so 5 and 13. Only one system runs at a time.
 * <p>
 * Targets (issue #7), printed met or missed and kept in {@code summary.json}: sync p99 ≤ 2 × unreplicated p99 at
 * 50k/s; sync p50 ≤ the 1-member Aeron Cluster echo's p50 (closed loop, and at each open-loop rate as context).
 * Settings: {@code keel.bench.gateway.fsync} (default none, like the cluster's {@code fileSyncLevel} 0),
 * {@code keel.bench.replicated.failureTimeoutMs} (the pair's failure timeout, default 250),
 * {@code keel.bench.replicated.series} (comma list of series to run, default all).
 */
public final class ReplicatedScenario implements Scenario
{
    /** Unreplicated single node. */
    public static final String SINGLE = "keel-single";
    /** Replicated pair, SYNC acks. */
    public static final String SYNC = "keel-pair-sync";
    /** Replicated pair, SYNC acks, the business logic in each node's gateway thread (one hot thread per node). */
    public static final String SYNC_1THREAD = "keel-pair-sync-1thread";
    /** Replicated pair, ASYNC acks. */
    public static final String ASYNC = "keel-pair-async";
    /** 1-member Aeron Cluster echo. */
    public static final String CLUSTER_1 = "aeron-cluster-1-echo";
    /** 3-member Aeron Cluster echo. */
    public static final String CLUSTER_3 = "aeron-cluster-3-echo";

    private static final int PRIMING_ROUND_TRIPS = 20_000;
    private static final int CLUSTER_MEMBER_HOT_THREADS = 4;

    private final int primingRoundTrips;

    /**
     * The scenario as {@code keel bench} runs it: 20,000 closed-loop round trips prime each system (JIT, page
     * faults) before its warm-up.
     */
    public ReplicatedScenario()
    {
        this(PRIMING_ROUND_TRIPS);
    }

    /**
     * @param primingRoundTrips closed-loop round trips before each system's first warm-up (tests use few).
     */
    public ReplicatedScenario(final int primingRoundTrips)
    {
        this.primingRoundTrips = primingRoundTrips;
    }

    @Override
    public String name()
    {
        return "replicated";
    }

    @Override
    public String description()
    {
        return "round trip: single node vs replicated pair (sync, async) vs 1- and 3-member Aeron Cluster echo";
    }

    @Override
    public long[] defaultRatesPerSecond(final BenchContext context)
    {
        return new long[]{ 10_000, 50_000 };
    }

    @Override
    public void run(final BenchContext context, final RunReport report) throws Exception
    {
        context.checkSpinningThreads(context.idleMode().isSpinning() ? 3 * CLUSTER_MEMBER_HOT_THREADS + 1 : 0,
            "replicated round trip beside a 3-member Aeron Cluster");
        final DurabilityPolicy fsync = DurabilityPolicy.valueOf(
            System.getProperty("keel.bench.gateway.fsync", "none").toUpperCase(Locale.ROOT));
        final long failureTimeoutMs = Long.getLong("keel.bench.replicated.failureTimeoutMs", 250);
        final String series = "," + System.getProperty("keel.bench.replicated.series",
            String.join(",", SINGLE, SYNC, SYNC_1THREAD, ASYNC, CLUSTER_1, CLUSTER_3)) + ",";
        final int window = 1024; // the client's in-flight bound (open loop at 50k/s keeps far fewer in flight)
        final int messageSize = GatewayRoundTrip.responseMessageLength();
        final long[] rates = context.ratesOrDefault(defaultRatesPerSecond(context));
        report.setting("idle", context.idleMode().label())
            .setting("fsync", fsync.name().toLowerCase(Locale.ROOT))
            .setting("clusterFileSyncLevel", 0)
            .setting("messageSizeBytes", messageSize)
            .setting("pairFailureTimeoutMs", failureTimeoutMs)
            .setting("layout", "every node/member in this JVM with its own embedded media driver, folders and " +
                "127.0.0.1 ports; clients on their own INVOKER driver run by the load thread; hot threads: single 2, " +
                "pair 4, Aeron Cluster 4 per member, + the load thread");

        report.pair(SYNC, SINGLE).pair(SYNC_1THREAD, SINGLE).pair(ASYNC, SINGLE).pair(SYNC, CLUSTER_1)
            .pair(SYNC_1THREAD, CLUSTER_1).pair(SYNC, CLUSTER_3).pair(CLUSTER_3, CLUSTER_1);

        final GatewayRoundTrip.Settings keel = new GatewayRoundTrip.Settings()
            .idle(context.idleMode()).fsync(fsync).window(window).failureTimeoutMs(failureTimeoutMs);
        if (series.contains("," + SINGLE + ","))
        {
            runKeel(context, report, SINGLE, keel.replicated(null), rates);
        }
        if (series.contains("," + SYNC + ","))
        {
            runKeel(context, report, SYNC, keel.replicated(AckMode.SYNC), rates);
        }
        if (series.contains("," + SYNC_1THREAD + ","))
        {
            runKeel(context, report, SYNC_1THREAD, keel.replicated(AckMode.SYNC).engineInGateway(true), rates);
            keel.engineInGateway(false);
        }
        if (series.contains("," + ASYNC + ","))
        {
            runKeel(context, report, ASYNC, keel.replicated(AckMode.ASYNC), rates);
        }
        if (series.contains("," + CLUSTER_1 + ","))
        {
            runCluster(context, report, CLUSTER_1, 1, messageSize, rates);
        }
        if (series.contains("," + CLUSTER_3 + ","))
        {
            runCluster(context, report, CLUSTER_3, 3, messageSize, rates);
        }
        judge(report, rates);
    }

    private void runKeel(
        final BenchContext context,
        final RunReport report,
        final String name,
        final GatewayRoundTrip.Settings settings,
        final long[] rates) throws Exception
    {
        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        try (GatewayRoundTrip roundTrip = GatewayRoundTrip.launch(settings, recorder))
        {
            GatewayScenario.prime(roundTrip, primingRoundTrips);
            measure(context, report, name, SINGLE.equals(name) ? Role.BASELINE : Role.SCENARIO,
                roundTrip, recorder, rates);
            if (roundTrip.failedCount() > 0)
            {
                report.note(name + ": " + roundTrip.failedCount() + " commands failed (timed out or refused)");
            }
            if (roundTrip.primaryChanged())
            {
                report.note(name + ": the pair changed primary during the run: its figures include a failover");
            }
        }
    }

    private void runCluster(
        final BenchContext context,
        final RunReport report,
        final String name,
        final int members,
        final int messageSize,
        final long[] rates) throws Exception
    {
        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        try (ClusterEcho echo = ClusterEcho.launch(new ClusterEcho.Settings().memberCount(members)
            .messageSizeBytes(messageSize).idle(context.idleMode()).fileSyncLevel(0).clientOwnDriver(true)
            .leaderHeartbeatTimeoutNs(TimeUnit.SECONDS.toNanos(10)), recorder))
        {
            GatewayScenario.prime(echo, primingRoundTrips);
            measure(context, report, name, Role.BASELINE, echo, recorder, rates);
        }
    }

    private static void measure(
        final BenchContext context,
        final RunReport report,
        final String series,
        final Role role,
        final io.keel.perf.SystemUnderTest system,
        final LatencyRecorder recorder,
        final long[] rates) throws Exception
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
    }

    /**
     * Adds the issue's targets for the series that ran.
     *
     * @param report the run.
     * @param rates  the open-loop rates that ran.
     */
    static void judge(final RunReport report, final long[] rates)
    {
        judge(report, rates, SYNC, "sync");
        judge(report, rates, SYNC_1THREAD, "sync (1 thread)");
    }

    private static void judge(final RunReport report, final long[] rates, final String series, final String label)
    {
        final String at50k = "open@" + io.keel.perf.Format.rateLabel(50_000);
        final LatencyResult sync50k = find(report, series, at50k);
        final LatencyResult single50k = find(report, SINGLE, at50k);
        if (null != sync50k && null != single50k)
        {
            report.target(new RunReport.Target(label + " p99 <= 2 x unreplicated p99, open loop 50k/s",
                sync50k.percentileUs(99), 2 * single50k.percentileUs(99)));
        }
        final LatencyResult syncClosed = find(report, series, "closed");
        final LatencyResult clusterClosed = find(report, CLUSTER_1, "closed");
        if (null != syncClosed && null != clusterClosed)
        {
            report.target(new RunReport.Target(label + " p50 <= 1-member Aeron Cluster echo p50, closed loop (RTT)",
                syncClosed.percentileUs(50), clusterClosed.percentileUs(50)));
        }
        for (final long rate : rates)
        {
            final String group = "open@" + io.keel.perf.Format.rateLabel(rate);
            final LatencyResult sync = find(report, series, group);
            final LatencyResult cluster = find(report, CLUSTER_1, group);
            if (null != sync && null != cluster)
            {
                report.target(new RunReport.Target(label + " p50 <= 1-member Aeron Cluster echo p50, open loop " +
                    io.keel.perf.Format.rateLabel(rate) + "/s (context)",
                    sync.percentileUs(50), cluster.percentileUs(50)));
            }
        }
    }

    private static LatencyResult find(final RunReport report, final String name, final String group)
    {
        for (final LatencyResult result : report.latencyResults())
        {
            if (result.name().equals(name) && result.group().equals(group))
            {
                return result;
            }
        }
        return null;
    }
}
