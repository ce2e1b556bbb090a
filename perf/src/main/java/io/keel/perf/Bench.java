package io.keel.perf;

import io.keel.perf.aeron.AeronPingPongScenario;
import io.keel.perf.gateway.ClusterScenario;
import io.keel.perf.gateway.GatewayScenario;
import io.keel.perf.report.RunReport;
import io.keel.perf.ring.RingScenario;

import java.io.PrintStream;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs scenarios into run folders and prints their tables: the entry point the {@code keel bench} command uses.
 */
public final class Bench
{
    private Bench()
    {
    }

    /**
     * Every scenario, in the order {@code quick} and {@code full} run them.
     *
     * @return the scenarios.
     */
    public static List<Scenario> scenarios()
    {
        return List.of(new FloorScenario(), new RingScenario(), new AeronPingPongScenario(), new GatewayScenario(),
            new AllocationScenario(), new ClusterScenario(),
            new io.keel.perf.gateway.ReplicatedScenario(), new io.keel.perf.cluster.ClusterFailoverScenario());
    }

    /**
     * Finds a scenario by name.
     *
     * @param name e.g. {@code ring}.
     * @return the scenario.
     * @throws IllegalArgumentException listing the known names.
     */
    public static Scenario scenario(final String name)
    {
        final List<String> names = new ArrayList<>();
        for (final Scenario scenario : scenarios())
        {
            if (scenario.name().equals(name.toLowerCase(Locale.ROOT)))
            {
                return scenario;
            }
            names.add(scenario.name());
        }
        throw new IllegalArgumentException("unknown scenario '" + name + "', known: " + String.join(", ", names));
    }

    /**
     * Runs scenarios one after another, each into its own folder stamped with the same start time, then prints
     * the headline ratios of all of them together.
     *
     * @param context   the settings.
     * @param scenarios what to run.
     * @param out       where tables go.
     * @return the reports, one per scenario.
     * @throws Exception when a scenario fails.
     */
    public static List<RunReport> run(final BenchContext context, final List<Scenario> scenarios, final PrintStream out)
        throws Exception
    {
        context.conclude();
        final LocalDateTime startedAt = LocalDateTime.now();
        final long startNs = System.nanoTime();
        final List<RunReport> reports = new ArrayList<>();
        for (final Scenario scenario : scenarios)
        {
            System.err.println("keel bench: " + scenario.name() + ": " + scenario.description());
            final RunReport report = RunReport.create(context.outputDirectory(), scenario.name(), context.profile(), startedAt);
            report.setting("warmupS", context.warmupNs() / 1e9).setting("durationS", context.durationNs() / 1e9);
            scenario.run(context, report);
            report.finish(out);
            reports.add(report);
        }

        if (reports.size() > 1)
        {
            final List<RunReport.Ratio> ratios = new ArrayList<>();
            for (final RunReport report : reports)
            {
                ratios.addAll(report.ratios());
            }
            if (!ratios.isEmpty())
            {
                out.println();
                out.println("== headline: scenario / baseline (latency < 1: scenario faster; throughput > 1: scenario faster)");
                RunReport.ratioTable(ratios).print(out);
            }
        }
        out.printf(Locale.ROOT, "%nkeel bench: %d scenario(s) in %.0fs, results in %s%n",
            reports.size(), (System.nanoTime() - startNs) / 1e9, context.outputDirectory());
        return reports;
    }
}
