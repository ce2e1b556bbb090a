package io.keel.perf;

import io.keel.perf.report.RunReport;

/**
 * A benchmark scenario and the baselines it stands beside, measured in the same run.
 */
public interface Scenario
{
    /**
     * Name on the command line and in folder names.
     *
     * @return e.g. {@code ring}.
     */
    String name();

    /**
     * One line on what is measured against what.
     *
     * @return the description.
     */
    String description();

    /**
     * Open-loop rates to run when none are given.
     *
     * @param context the session settings (profile).
     * @return operations per second, ascending.
     */
    long[] defaultRatesPerSecond(BenchContext context);

    /**
     * Runs every series of the scenario, adding results (and scenario/baseline pairs) to {@code report}.
     *
     * @param context the session settings.
     * @param report  where results go.
     * @throws Exception when a run fails.
     */
    void run(BenchContext context, RunReport report) throws Exception;
}
