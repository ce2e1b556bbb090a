package io.keel.perf.gateway;

import io.keel.journal.DurabilityPolicy;
import io.keel.perf.BenchContext;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.Role;
import io.keel.perf.Scenario;
import io.keel.perf.cluster.ClusterEcho;
import io.keel.perf.report.RunReport;

import java.util.Locale;

/**
 * The gateway round trip beside a single-node Aeron Cluster echo service of the same message size, in the same
 * run: open loop at 10k/s by default (latency from the intended send time) and closed loop (RTT). The cluster echo is
 * what a replicated round trip will be compared with: a sequenced, archived log delivered to one service, answered
 * on the egress. Both keep files unsynced by default (cluster {@code fileSyncLevel} 0, Keel fsync {@code none});
 * {@code -Dkeel.bench.cluster.fileSyncLevel=1|2} and {@code -Dkeel.bench.gateway.fsync=batch|always} change that.
 */
public final class ClusterScenario implements Scenario
{
    /** Series name of the cluster echo. */
    public static final String CLUSTER_SERIES_PREFIX = "aeron-cluster-echo-";

    /** Threads an Aeron Cluster echo keeps busy: driver, archive, consensus module, service, client (load). */
    static final int CLUSTER_HOT_THREADS = 5;

    private static final int PRIMING_ROUND_TRIPS = 20_000;

    @Override
    public String name()
    {
        return "cluster";
    }

    @Override
    public String description()
    {
        return "gateway round trip beside a single-node Aeron Cluster echo service (embedded, 127.0.0.1), same size";
    }

    @Override
    public long[] defaultRatesPerSecond(final BenchContext context)
    {
        return new long[]{ 10_000 };
    }

    @Override
    public void run(final BenchContext context, final RunReport report) throws Exception
    {
        context.checkSpinningThreads(context.idleMode().isSpinning() ? CLUSTER_HOT_THREADS : 0, "aeron cluster echo");
        final int fileSyncLevel = Integer.getInteger("keel.bench.cluster.fileSyncLevel", 0);
        final DurabilityPolicy fsync = DurabilityPolicy.valueOf(
            System.getProperty("keel.bench.gateway.fsync", "none").toUpperCase(Locale.ROOT));
        final int window = Integer.getInteger("keel.bench.gateway.window", 1024);
        final int messageSize = GatewayRoundTrip.responseMessageLength();
        final String baseline = CLUSTER_SERIES_PREFIX + messageSize + "B";
        report.setting("idle", context.idleMode().label())
            .setting("clusterFileSyncLevel", fileSyncLevel)
            .setting("fsync", fsync.name().toLowerCase(Locale.ROOT))
            .setting("window", window)
            .setting("messageSizeBytes", messageSize)
            .setting("cluster", "1 node, embedded: media driver SHARED, archive SHARED, consensus module, service " +
                "container, client sharing the cluster's driver; log on udp 127.0.0.1");
        final long[] rates = context.ratesOrDefault(defaultRatesPerSecond(context));

        final LatencyRecorder clusterRecorder = LatencyRecorder.singleWriter();
        try (ClusterEcho echo = ClusterEcho.launch(messageSize, context.idleMode(), fileSyncLevel, clusterRecorder))
        {
            GatewayScenario.prime(echo, PRIMING_ROUND_TRIPS);
            GatewayScenario.measure(context, report, baseline, Role.BASELINE, echo, clusterRecorder, rates, window);
        }

        report.pair(GatewayScenario.SERIES, baseline);
        GatewayScenario.runGateway(context, report, GatewayScenario.SERIES, new GatewayRoundTrip.Settings()
            .idle(context.idleMode()).fsync(fsync).window(window)
            .clientOwnDriver(!"shared".equals(System.getProperty("keel.bench.gateway.client.driver", "own"))),
            rates, window);
    }
}
