package io.keel.cli;

import io.keel.perf.AllocationScenario;
import io.keel.perf.Bench;
import io.keel.perf.BenchContext;
import io.keel.perf.Format;
import io.keel.perf.IdleMode;
import io.keel.perf.Scenario;
import io.keel.perf.report.Compare;
import io.keel.perf.ring.WaitMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code keel bench}: the performance suite. {@code quick} and {@code full} run every scenario; a scenario name
 * runs one; {@code compare} prints ratios between two runs. Results go to {@code perf/results/<time>-<scenario>/}.
 */
@Command(
    name = "bench",
    description = {
        "Benchmarks: open-loop latency (coordinated-omission corrected), throughput, side-by-side baselines.",
        "Each run writes .hgrm, .hlog, summary.json and PNG plots to perf/results/<yyyy-MM-dd-HHmmss>-<scenario>/."
    },
    mixinStandardHelpOptions = true,
    subcommands = {
        BenchCommand.Quick.class,
        BenchCommand.Full.class,
        BenchCommand.Floor.class,
        BenchCommand.Ring.class,
        BenchCommand.AeronPingPong.class,
        BenchCommand.Gateway.class,
        BenchCommand.ClusterEcho.class,
        BenchCommand.Replicated.class,
        BenchCommand.ClusterFailover.class,
        BenchCommand.Alloc.class,
        BenchCommand.JournalBench.class,
        BenchCommand.CodecBenchCommand.class,
        BenchCommand.CompareRuns.class,
        BenchCommand.Failover.class
    })
public final class BenchCommand implements Runnable
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "Missing subcommand: quick, full, floor, ring, aeron, gateway, cluster, replicated, cluster-failover, alloc, journal, codec " +
            "or compare");
    }

    /**
     * Options shared by every run subcommand; unset options keep the profile's values.
     */
    static final class RunOptions
    {
        @Option(names = { "--rate", "--rates" }, split = ",", paramLabel = "R",
            description = "Open-loop rate(s) per second, e.g. 50k or 10k,100k,1M (a sweep). Default: the scenario's.")
        List<String> rates;

        @Option(names = "--duration", paramLabel = "D", description = "Measured time per latency run: 10, 10s, 500ms, 2m.")
        String duration;

        @Option(names = "--warmup", paramLabel = "W", description = "Warm-up time per latency run, discarded.")
        String warmup;

        @Option(names = "--interval", paramLabel = "I", description = "Reporting interval (hlog line, plot point). Default 1s.")
        String interval;

        @Option(names = "--idle", paramLabel = "yield|backoff|spin",
            description = "Idle strategy of load threads, echo agents and the media driver. Default yield.")
        String idle;

        @Option(names = "--wait", paramLabel = "yielding|busy-spin|blocking|sleeping",
            description = "Disruptor consumer wait strategy. Default yielding.")
        String wait;

        @Option(names = "--size", paramLabel = "BYTES", description = "Message size for transport scenarios. Default 32.")
        Integer messageSizeBytes;

        @Option(names = "--ring-size", paramLabel = "N", description = "Ring size and queue capacity (power of two).")
        Integer ringSize;

        @Option(names = "--iterations", paramLabel = "N", description = "Measured throughput iterations.")
        Integer iterations;

        @Option(names = "--warmup-iterations", paramLabel = "N", description = "Discarded throughput iterations.")
        Integer warmupIterations;

        @Option(names = "--iteration-time", paramLabel = "T", description = "Sending time of one throughput iteration.")
        String iterationTime;

        @Option(names = "--no-throughput", description = "Skip closed-loop throughput runs.")
        boolean noThroughput;

        @Option(names = "--no-closed-loop", description = "Skip closed-loop (RTT) latency runs.")
        boolean noClosedLoop;

        @Option(names = "--pong-thread", description = "Aeron: run the echo on its own thread (3 hot threads).")
        boolean pongThread;

        @Option(names = "--out", paramLabel = "DIR", description = "Results folder. Default perf/results.")
        File out;

        BenchContext applyTo(final BenchContext context)
        {
            if (null != rates && !rates.isEmpty())
            {
                final long[] values = new long[rates.size()];
                for (int i = 0; i < values.length; i++)
                {
                    values[i] = Format.parseRate(rates.get(i));
                }
                context.ratesPerSecond(values);
            }
            if (null != duration)
            {
                context.durationNs(parseDurationNs(duration, "--duration"));
            }
            if (null != warmup)
            {
                context.warmupNs(parseDurationNs(warmup, "--warmup"));
            }
            if (null != interval)
            {
                context.intervalNs(parseDurationNs(interval, "--interval"));
            }
            if (null != idle)
            {
                context.idleMode(IdleMode.parse(idle));
            }
            if (null != wait)
            {
                context.waitMode(WaitMode.parse(wait));
            }
            if (null != messageSizeBytes)
            {
                context.messageSizeBytes(messageSizeBytes);
            }
            if (null != ringSize)
            {
                context.ringSizeEvents(ringSize);
            }
            if (null != iterations)
            {
                context.throughputIterations(iterations);
            }
            if (null != warmupIterations)
            {
                context.throughputWarmupIterations(warmupIterations);
            }
            if (null != iterationTime)
            {
                context.throughputIterationNs(parseDurationNs(iterationTime, "--iteration-time"));
            }
            if (noThroughput)
            {
                context.throughput(false);
            }
            if (noClosedLoop)
            {
                context.closedLoop(false);
            }
            if (pongThread)
            {
                context.pongThread(true);
            }
            if (null != out)
            {
                context.outputDirectory(out);
            }
            if (context.intervalNs() > context.durationNs())
            {
                context.intervalNs(context.durationNs());
            }
            return context.conclude();
        }
    }

    /**
     * Parses {@code 10}, {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1.5s}.
     *
     * @param text    the duration.
     * @param setting option name for the error message.
     * @return nanoseconds.
     */
    static long parseDurationNs(final String text, final String setting)
    {
        final String t = text.trim().toLowerCase(Locale.ROOT);
        try
        {
            if (t.endsWith("ms"))
            {
                return Math.round(Double.parseDouble(t.substring(0, t.length() - 2)) * 1e6);
            }
            if (t.endsWith("s"))
            {
                return Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1e9);
            }
            if (t.endsWith("m"))
            {
                return Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 60e9);
            }
            return Math.round(Double.parseDouble(t) * TimeUnit.SECONDS.toNanos(1));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(setting + " must look like 10, 10s, 500ms or 2m, was: " + text);
        }
    }

    abstract static class RunCommand implements Callable<Integer>
    {
        @Mixin
        RunOptions options = new RunOptions();

        abstract BenchContext profile();

        abstract List<Scenario> scenarios();

        @Override
        public Integer call() throws Exception
        {
            final BenchContext context = options.applyTo(profile());
            final List<Scenario> scenarios = scenarios();
            Bench.run(context, scenarios, System.out);
            int regressions = 0;
            for (final Scenario scenario : scenarios)
            {
                if (scenario instanceof AllocationScenario)
                {
                    regressions += ((AllocationScenario)scenario).regressions();
                }
            }
            if (regressions > 0)
            {
                System.err.println("keel bench: " + regressions + " allocation-free path(s) allocated");
                return 1;
            }
            return 0;
        }
    }

    @Command(name = "quick", mixinStandardHelpOptions = true,
        description = {
            "Every scenario, small: about 5 minutes.",
            "1s warm-up and 3s per latency point; 3 leader kills per heartbeat timeout in cluster-failover."
        })
    static final class Quick extends RunCommand
    {
        @Override
        BenchContext profile()
        {
            return BenchContext.quick();
        }

        @Override
        List<Scenario> scenarios()
        {
            return Bench.scenarios();
        }
    }

    @Command(name = "full", mixinStandardHelpOptions = true,
        description = {
            "Every scenario with rate sweeps: tens of minutes.",
            "5s warm-up and 20s per latency point; 20 leader kills per heartbeat timeout in cluster-failover."
        })
    static final class Full extends RunCommand
    {
        @Override
        BenchContext profile()
        {
            return BenchContext.full();
        }

        @Override
        List<Scenario> scenarios()
        {
            return Bench.scenarios();
        }
    }

    abstract static class SingleScenario extends RunCommand
    {
        @Option(names = "--full", description = "Start from the full profile's settings instead of the quick one's.")
        boolean full;

        abstract String scenarioName();

        @Override
        BenchContext profile()
        {
            return (full ? BenchContext.full() : BenchContext.quick()).profile(full ? "full" : "custom");
        }

        @Override
        List<Scenario> scenarios()
        {
            final List<Scenario> scenarios = new ArrayList<>();
            scenarios.add(Bench.scenario(scenarioName()));
            return scenarios;
        }
    }

    @Command(name = "floor", mixinStandardHelpOptions = true,
        description = "The harness measuring nothing: pacing jitter and recording cost, the floor of this machine.")
    static final class Floor extends SingleScenario
    {
        @Override
        String scenarioName()
        {
            return "floor";
        }
    }

    @Command(name = "ring", mixinStandardHelpOptions = true,
        description = "Disruptor ring (single/multi-producer) -> business thread vs an ArrayBlockingQueue pipeline.")
    static final class Ring extends SingleScenario
    {
        @Override
        String scenarioName()
        {
            return "ring";
        }
    }

    @Command(name = "aeron", mixinStandardHelpOptions = true,
        description = "Raw Aeron UDP ping-pong on 127.0.0.1, open and closed loop: the transport floor.")
    static final class AeronPingPong extends SingleScenario
    {
        @Override
        String scenarioName()
        {
            return "aeron";
        }
    }

    @Command(name = "gateway", mixinStandardHelpOptions = true,
        description = {
            "Client -> node -> client over Aeron UDP (gateway, engine, journal) beside raw Aeron ping-pong of the same size.",
            "JVM properties: keel.bench.gateway.fsync=none|batch|always, keel.bench.gateway.window=N,",
            "keel.bench.gateway.client.driver=shared|own (set with KEEL_JAVA_OPTS=-D...)."
        })
    static final class Gateway extends SingleScenario
    {
        @Override
        String scenarioName()
        {
            return "gateway";
        }
    }

    @Command(name = "cluster", mixinStandardHelpOptions = true,
        description = {
            "Gateway round trip beside a single-node Aeron Cluster echo service (embedded, 127.0.0.1), same message size:",
            "open loop (10k/s by default) and closed loop (RTT). JVM properties: keel.bench.cluster.fileSyncLevel=0|1|2",
            "(default 0), keel.bench.gateway.fsync=none|batch|always (set with KEEL_JAVA_OPTS=-D...)."
        })
    static final class ClusterEcho extends SingleScenario
    {
        @Override
        String scenarioName()
        {
            return "cluster";
        }
    }

    @Command(name = "replicated", mixinStandardHelpOptions = true,
        description = {
            "Replicated round trip beside its baselines, in one run (about 1.5 min).",
            "Same KeelClient path, 68 B answers and idle strategy for: an unreplicated",
            "node (keel-single), a replicated pair acking sync (keel-pair-sync) and",
            "async (keel-pair-async), a 1- and a 3-member Aeron Cluster echo",
            "(aeron-cluster-1-echo, aeron-cluster-3-echo). Every node or member runs in",
            "this JVM with its own embedded media driver, folders and 127.0.0.1 ports.",
            "Open loop at 10k/s and 50k/s (coordinated-omission corrected) and closed",
            "loop (RTT). Prints the targets met or missed: sync p99 <= 2 x unreplicated",
            "p99 at 50k/s; sync p50 <= 1-member cluster echo p50.",
            "JVM properties (KEEL_JAVA_OPTS=-D...): keel.bench.gateway.fsync=none|batch|",
            "always, keel.bench.replicated.failureTimeoutMs=250,",
            "keel.bench.replicated.series=keel-single,keel-pair-sync,..."
        })
    static final class Replicated extends SingleScenario
    {
        @Override
        String scenarioName()
        {
            return "replicated";
        }
    }

    @Command(name = "cluster-failover", mixinStandardHelpOptions = true,
        description = {
            "Failover baseline: Aeron Cluster leader killed with SIGKILL (about 70 s).",
            "A 3-member Aeron Cluster echo, each member in a JVM of its own (127.0.0.1),",
            "under open-loop load (--rate, default 2k/s). The leader's JVM is killed and",
            "the client-seen gap (last echo before the kill -> first echo from the new",
            "leader) measured; the member is restarted and caught up; --rounds times for",
            "each leader heartbeat timeout. Saves gaps-<system>.hgrm and, in",
            "summary.json, gapsMs, gapP50Ms, gapP99Ms, gapMaxMs per system."
        })
    static final class ClusterFailover extends SingleScenario
    {
        @Option(names = "--rounds", paramLabel = "N",
            description = "Kills per heartbeat timeout. Default 5 (3 in bench quick, 20 with --full and in bench full).")
        Integer rounds;

        @Option(names = "--heartbeat-timeout", split = ",", paramLabel = "MS",
            description = "Leader heartbeat timeout(s) in ms, each a fresh cluster. Default 1000,250.")
        List<Long> heartbeatTimeoutsMs;

        @Override
        String scenarioName()
        {
            return "cluster-failover";
        }

        @Override
        public Integer call() throws Exception
        {
            if (null != rounds)
            {
                if (rounds < 1)
                {
                    throw new IllegalArgumentException("--rounds must be >= 1, was: " + rounds);
                }
                System.setProperty("keel.bench.failover.rounds", Integer.toString(rounds));
            }
            if (null != heartbeatTimeoutsMs && !heartbeatTimeoutsMs.isEmpty())
            {
                final StringBuilder list = new StringBuilder();
                for (final long ms : heartbeatTimeoutsMs)
                {
                    if (ms < 20)
                    {
                        throw new IllegalArgumentException("--heartbeat-timeout must be >= 20 ms, was: " + ms);
                    }
                    list.append(list.length() == 0 ? "" : ",").append(ms);
                }
                System.setProperty("keel.bench.failover.heartbeatTimeoutsMs", list.toString());
            }
            return super.call();
        }
    }

    @Command(name = "alloc", mixinStandardHelpOptions = true,
        description = "Allocation check: bytes per operation on the hot threads (exit 1 if a zero-allocation path allocates).")
    static final class Alloc extends SingleScenario
    {
        @Override
        String scenarioName()
        {
            return "alloc";
        }
    }

    @Command(name = "journal", mixinStandardHelpOptions = true,
        description = "Journal append/replay beside raw FileChannel and Chronicle Queue (the journal's own program).")
    static final class JournalBench implements Callable<Integer>
    {
        @Option(names = "--quick", description = "Smaller event counts and fewer iterations.")
        boolean quick;

        @Option(names = "--dir", paramLabel = "DIR", description = "Working folder for the journals.")
        String dir;

        @Option(names = { "--results", "--out" }, paramLabel = "DIR", description = "Results folder.")
        String results;

        @Override
        public Integer call() throws Exception
        {
            final List<String> args = new ArrayList<>();
            if (quick)
            {
                args.add("--quick");
            }
            if (null != dir)
            {
                args.add("--dir");
                args.add(dir);
            }
            if (null != results)
            {
                args.add("--results");
                args.add(results);
            }
            io.keel.perf.journal.JournalBenchmark.main(args.toArray(new String[0]));
            return 0;
        }
    }

    @Command(name = "codec", mixinStandardHelpOptions = true,
        description = {
            "JMH: encode/decode of ledger events in Keel's compact binary beside Chronicle Wire self-describing binary",
            "and JSON (JSONWire): ops/s, bytes per event, bytes allocated per op (-prof gc), ratios to Keel's binary.",
            "Default settings finish in about a minute; results in perf/results/<time>-codec/."
        })
    static final class CodecBenchCommand implements Callable<Integer>
    {
        @Option(names = "--events", split = ",", paramLabel = "NAME",
            description = "Ledger events: Deposited, Debited, Credited. Default Deposited,Debited.")
        List<String> events;

        @Option(names = "--forks", paramLabel = "N", description = "Forked JVMs per benchmark. Default 1.")
        Integer forks;

        @Option(names = "--warmup-iterations", paramLabel = "N", description = "Discarded iterations. Default 2.")
        Integer warmupIterations;

        @Option(names = "--warmup", paramLabel = "T", description = "Time of one warm-up iteration. Default 400ms.")
        String warmup;

        @Option(names = "--iterations", paramLabel = "N", description = "Measured iterations. Default 3.")
        Integer iterations;

        @Option(names = "--iteration-time", paramLabel = "T", description = "Time of one measured iteration. Default 500ms.")
        String iterationTime;

        @Option(names = "--no-gc-prof", description = "Leave out JMH's GC profiler (no allocation column).")
        boolean noGcProfiler;

        @Option(names = "--out", paramLabel = "DIR", description = "Results folder. Default perf/results.")
        File out;

        @Override
        public Integer call() throws Exception
        {
            final io.keel.perf.codec.CodecBench.Settings settings = new io.keel.perf.codec.CodecBench.Settings();
            final List<String> jvmArgs = new ArrayList<>(io.keel.cli.demo.ChildJvmFlags.get());
            jvmArgs.add("-Xmx512m");
            settings.jvmArgs(jvmArgs);
            if (null != events && !events.isEmpty())
            {
                settings.events(events);
            }
            if (null != forks)
            {
                settings.forks(forks);
            }
            final int defaultWarmupIterations = 2;
            final int defaultIterations = 3;
            settings.warmup(null == warmupIterations ? defaultWarmupIterations : warmupIterations,
                null == warmup ? 400 : parseDurationNs(warmup, "--warmup") / 1_000_000);
            settings.measurement(null == iterations ? defaultIterations : iterations,
                null == iterationTime ? 500 : parseDurationNs(iterationTime, "--iteration-time") / 1_000_000);
            settings.gcProfiler(!noGcProfiler);
            if (null != out)
            {
                settings.outputDirectory(out);
            }
            io.keel.perf.codec.CodecBench.run(settings, System.out);
            return 0;
        }
    }

    @Command(name = "failover", mixinStandardHelpOptions = true,
        description = {
            "Failover time with a witness: a witness and a SYNC pair of keel node --witness JVMs (default settings) " +
                "under open-loop deposits; each round kills the primary with SIGKILL, measures the gap the client " +
                "sees (last ack of the old primary to first ack of the new one), restarts the killed node and waits " +
                "until it is back in the in-sync set.",
            "Results (summary.json with gapsMs, gapP50Ms, gapP99Ms, gapMaxMs, lostAcknowledged) in " +
                "perf/results/<time>-failover/. Exit code 1 when a round failed or an acknowledged command was lost."
        })
    static final class Failover implements Callable<Integer>
    {
        @Option(names = "--kills", defaultValue = "20", paramLabel = "N", description = "kill rounds (default ${DEFAULT-VALUE})")
        int kills;

        @Option(names = "--rate", defaultValue = "500", paramLabel = "R",
            description = "deposits per second, open loop (default ${DEFAULT-VALUE})")
        int rate;

        @Option(names = "--accounts", defaultValue = "20", paramLabel = "N", description = "accounts (default ${DEFAULT-VALUE})")
        int accounts;

        @Option(names = "--settle-ms", defaultValue = "1000", paramLabel = "MS",
            description = "load between the standby's return to the in-sync set and the next kill (default ${DEFAULT-VALUE})")
        long settleMs;

        @Option(names = "--client-liveness-ms", defaultValue = "1500", paramLabel = "MS",
            description = "the client leaves a node silent this long (keep-alives every fifth of it; default " +
                "${DEFAULT-VALUE}, the client's own default). The client learns of the takeover from its watch on " +
                "the standby, so this matters only when the watch fails")
        long clientLivenessMs;

        @Option(names = "--client-watch-when-silent-ms", defaultValue = "0", paramLabel = "MS",
            description = "the client opens its watch on the standby only once the primary left something " +
                "unanswered this long (default ${DEFAULT-VALUE}: the watch is always open, the client's own default)")
        long clientWatchWhenSilentMs;

        @Option(names = "--node-arg", paramLabel = "ARG", description = "extra keel node argument (repeat), e.g. " +
            "--node-arg=--failure-timeout --node-arg=100")
        List<String> nodeArgs = new ArrayList<>();

        @Option(names = "--witness-arg", paramLabel = "ARG", description = "extra keel witness argument (repeat), " +
            "e.g. --witness-arg=--lease-ms --witness-arg=30")
        List<String> witnessArgs = new ArrayList<>();

        @Option(names = "--out", paramLabel = "DIR", description = "Results folder. Default perf/results.")
        File out;

        @Override
        public Integer call() throws Exception
        {
            if (kills < 1 || kills > 1000 || rate < 1 || rate > 100_000 || accounts < 1 || clientLivenessMs < 5 ||
                clientWatchWhenSilentMs < 0)
            {
                System.err.println("bench failover: --kills in [1, 1000], --rate in [1, 100000], --accounts >= 1, " +
                    "--client-liveness-ms >= 5, --client-watch-when-silent-ms >= 0");
                return 2;
            }
            return new io.keel.cli.demo.FailoverBench(System.out, kills, rate, accounts, settleMs, clientLivenessMs,
                clientWatchWhenSilentMs, null == out ? new File("perf/results") : out, nodeArgs, witnessArgs).run();
        }
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Ratios B/A of p50, p90, p99, p99.9, max and throughput between two runs (their summary.json).")
    static final class CompareRuns implements Callable<Integer>
    {
        @Parameters(index = "0", paramLabel = "DIR_A", description = "Reference run folder (or its summary.json).")
        File a;

        @Parameters(index = "1", paramLabel = "DIR_B", description = "Run folder compared with it.")
        File b;

        @Override
        public Integer call() throws Exception
        {
            Compare.print(Compare.compare(a, b), a.getPath(), b.getPath(), System.out);
            return 0;
        }
    }
}
