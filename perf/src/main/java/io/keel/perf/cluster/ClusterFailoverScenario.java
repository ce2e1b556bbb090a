package io.keel.perf.cluster;

import io.keel.perf.BenchContext;
import io.keel.perf.Scenario;
import io.keel.perf.report.RunReport;
import io.keel.perf.report.TextTable;
import org.HdrHistogram.Histogram;

import java.io.File;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The failover baseline: a 3-member Aeron Cluster echo, each member in a JVM of its own, under open-loop load; the
 * leader's JVM is killed with SIGKILL, and the client-seen gap (last echo before the kill → first echo from the new
 * leader) is measured, {@code rounds} times per leader heartbeat timeout (default 1000 ms and 250 ms, the latter
 * comparable with Keel's 250 ms failure timeout in the demo). See {@link ClusterFailover}.
 * <p>
 * Saved beside the usual run files: {@code gaps-<system>.hgrm} (ms) and, in {@code summary.json}, a {@code failover}
 * array with one object per system: {@code system, members, heartbeatTimeoutMs, electionTimeoutMs, rounds, gapsMs,
 * gapP50Ms, gapP99Ms, gapMaxMs, gapMeanMs, newLeaderNoticeMs, roundsWithClientReconnect, freshRestarts}; the first
 * system's {@code system, heartbeatTimeoutMs, gapsMs, gapP50Ms, gapP99Ms, gapMaxMs} also at the top level, named as
 * {@code keel bench failover} names Keel's, so the two summaries sit side by side.
 * Settings: {@code keel.bench.failover.rounds} (default 5; 3 in {@code bench quick}, 20 in {@code bench full}),
 * {@code keel.bench.failover.heartbeatTimeoutsMs} (comma list, default {@code 1000,250}); the rate is the first
 * {@code --rate} (default 2k/s).
 */
public final class ClusterFailoverScenario implements Scenario
{
    /** Members of the cluster. */
    public static final int MEMBERS = 3;

    @Override
    public String name()
    {
        return "cluster-failover";
    }

    @Override
    public String description()
    {
        return "3-member Aeron Cluster echo (a JVM per member) under load: client-seen gap when the leader is kill -9ed";
    }

    @Override
    public long[] defaultRatesPerSecond(final BenchContext context)
    {
        return new long[]{ 2_000 };
    }

    @Override
    public void run(final BenchContext context, final RunReport report) throws Exception
    {
        context.checkSpinningThreads(context.idleMode().isSpinning() ? 4 * MEMBERS + 1 : 0, name());
        // bench quick keeps the whole suite near five minutes: 3 kills per timeout there, 5 on its own, 20 in full
        final int rounds = Integer.getInteger("keel.bench.failover.rounds",
            context.isFull() ? 20 : "quick".equals(context.profile()) ? 3 : 5);
        final String[] timeouts =
            System.getProperty("keel.bench.failover.heartbeatTimeoutsMs", "1000,250").split(",");
        final long rate = context.ratesOrDefault(defaultRatesPerSecond(context))[0];
        report.setting("idle", context.idleMode().label())
            .setting("members", MEMBERS)
            .setting("rounds", rounds)
            .setting("ratePerSecond", rate)
            .setting("messageSizeBytes", 68)
            .setting("layout", "each member in its own JVM (own media driver, archive, consensus module, service; " +
                "127.0.0.1 ports), the client in the bench JVM on its own driver (SHARED thread + conductor thread); the leader's JVM is " +
                "killed with SIGKILL, then restarted on its folders and caught up before the next round");

        final List<Result> results = new ArrayList<>();
        for (final String timeout : timeouts)
        {
            final long timeoutMs = Long.parseLong(timeout.trim());
            final String system = "aeron-cluster-" + MEMBERS + "-hb" + timeoutMs + "ms";
            System.err.printf(Locale.ROOT, "cluster-failover: %s: %d rounds at %d/s%n", system, rounds, rate);
            try (ClusterFailover failover = ClusterFailover.launch(new ClusterFailover.Settings()
                .memberCount(MEMBERS).idle(context.idleMode()).leaderHeartbeatTimeoutMs(timeoutMs)
                .ratePerSecond(rate)))
            {
                final Result result = new Result(system, timeoutMs, failover.electionTimeoutMs(),
                    failover.run(rounds, System.err));
                result.freshRestarts = failover.freshRestarts();
                if (failover.freshRestarts() > 0)
                {
                    report.note(system + ": " + failover.freshRestarts() + " killed member(s) could not restart on " +
                        "their own folders (Aeron Archive refuses a recording torn by the kill) and were started empty");
                }
                if (failover.reconnects() > 0)
                {
                    report.note(system + ": the client closed and connected again " + failover.reconnects() +
                        " time(s); " + result.reconnectedRounds() + " round(s) include a reconnect in their gap");
                }
                results.add(result);
                try (PrintStream hgrm = new PrintStream(new FileOutputStream(
                    new File(report.directory(), "gaps-" + system + ".hgrm")), false, StandardCharsets.UTF_8))
                {
                    result.histogram.outputPercentileDistribution(hgrm, 5, 1e6);
                }
            }
        }

        report.section("failover", json ->
        {
            json.beginArray();
            for (final Result r : results)
            {
                json.beginObject()
                    .field("system", r.system)
                    .field("members", MEMBERS)
                    .field("heartbeatTimeoutMs", r.heartbeatTimeoutMs)
                    .field("electionTimeoutMs", r.electionTimeoutMs)
                    .field("rounds", r.rounds.size());
                json.name("gapsMs").beginArray();
                for (final ClusterFailover.Round round : r.rounds)
                {
                    json.value(round.gapNs / 1e6);
                }
                json.endArray();
                json.field("gapP50Ms", r.percentileMs(50))
                    .field("gapP99Ms", r.percentileMs(99))
                    .field("gapMaxMs", r.histogram.getMaxValue() / 1e6)
                    .field("gapMeanMs", r.histogram.getMean() / 1e6);
                json.name("newLeaderNoticeMs").beginArray();
                for (final ClusterFailover.Round round : r.rounds)
                {
                    json.value(round.newLeaderNoticeNs / 1e6);
                }
                json.endArray()
                    .field("roundsWithClientReconnect", r.reconnectedRounds())
                    .field("freshRestarts", r.freshRestarts)
                    .field("hgrm", "gaps-" + r.system + ".hgrm")
                    .endObject();
            }
            json.endArray();
        });

        if (!results.isEmpty())
        {
            // the first system's figures at the top level too, named as keel bench failover names Keel's
            final Result first = results.get(0);
            report.section("system", json -> json.value(first.system))
                .section("heartbeatTimeoutMs", json -> json.value(first.heartbeatTimeoutMs))
                .section("gapsMs", json ->
                {
                    json.beginArray();
                    for (final ClusterFailover.Round round : first.rounds)
                    {
                        json.value(round.gapNs / 1e6);
                    }
                    json.endArray();
                })
                .section("gapP50Ms", json -> json.value(first.percentileMs(50)))
                .section("gapP99Ms", json -> json.value(first.percentileMs(99)))
                .section("gapMaxMs", json -> json.value(first.histogram.getMaxValue() / 1e6));
        }

        final TextTable table = new TextTable("failover (client-seen gap)", "heartbeat timeout", "rounds", "p50",
            "p99", "max", "gaps");
        for (final Result r : results)
        {
            final StringBuilder gaps = new StringBuilder();
            for (final ClusterFailover.Round round : r.rounds)
            {
                gaps.append(gaps.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.0f", round.gapNs / 1e6));
            }
            table.row(r.system, r.heartbeatTimeoutMs + " ms", Integer.toString(r.rounds.size()),
                String.format(Locale.ROOT, "%.1f ms", r.percentileMs(50)),
                String.format(Locale.ROOT, "%.1f ms", r.percentileMs(99)),
                String.format(Locale.ROOT, "%.1f ms", r.histogram.getMaxValue() / 1e6), gaps + " ms");
            report.note(String.format(Locale.ROOT, "%s: gap p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d kills " +
                "(heartbeat timeout %d ms, election timeout %d ms)", r.system, r.percentileMs(50), r.percentileMs(99),
                r.histogram.getMaxValue() / 1e6, r.rounds.size(), r.heartbeatTimeoutMs, r.electionTimeoutMs));
        }
        table.print(System.out);
    }

    private static final class Result
    {
        final String system;
        final long heartbeatTimeoutMs;
        final long electionTimeoutMs;
        final List<ClusterFailover.Round> rounds;
        final Histogram histogram = new Histogram(3_600_000_000_000L, 3);
        int freshRestarts;

        Result(final String system, final long heartbeatTimeoutMs, final long electionTimeoutMs,
            final List<ClusterFailover.Round> rounds)
        {
            this.system = system;
            this.heartbeatTimeoutMs = heartbeatTimeoutMs;
            this.electionTimeoutMs = electionTimeoutMs;
            this.rounds = rounds;
            for (final ClusterFailover.Round round : rounds)
            {
                histogram.recordValue(Math.max(1, round.gapNs));
            }
        }

        long reconnectedRounds()
        {
            return rounds.stream().filter(round -> round.clientReconnected).count();
        }

        double percentileMs(final double percentile)
        {
            return histogram.getValueAtPercentile(percentile) / 1e6;
        }
    }
}
