package io.keel.perf.report;

import io.keel.perf.Format;
import io.keel.perf.LatencyResult;
import io.keel.perf.Role;
import io.keel.perf.ThroughputResult;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The output folder of one scenario run, {@code <base>/<yyyy-MM-dd-HHmmss>-<scenario>/}: collects results
 * as they are measured, and on {@link #finish(PrintStream)} writes one {@code .hgrm} per latency series
 * (the {@code .hlog}s are written during the runs), {@code summary.json}, the PNG plots, and prints the
 * tables. Ratios are scenario / baseline for each declared pair in each group both were measured in:
 * below 1 means the scenario's latency is lower, above 1 means its throughput is higher.
 */
public final class RunReport
{
    /**
     * Name of the summary file in every run folder.
     */
    public static final String SUMMARY_FILE = "summary.json";

    private static final DateTimeFormatter FOLDER_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss");

    private final File directory;
    private final String scenario;
    private final String profile;
    private final LocalDateTime startedAt;
    private final MachineInfo machine = MachineInfo.current();
    private final Map<String, String> settings = new LinkedHashMap<>();
    private final List<LatencyResult> latencyResults = new ArrayList<>();
    private final List<ThroughputResult> throughputResults = new ArrayList<>();
    private final List<String[]> pairs = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<Target> targets = new ArrayList<>();
    private final Map<String, java.util.function.Consumer<JsonWriter>> sections = new LinkedHashMap<>();
    private final Map<String, Object> measurements = new LinkedHashMap<>();

    private RunReport(
        final File directory, final String scenario, final String profile, final LocalDateTime startedAt)
    {
        this.directory = directory;
        this.scenario = scenario;
        this.profile = profile;
        this.startedAt = startedAt;
    }

    /**
     * Creates the run folder.
     *
     * @param baseDirectory where run folders go, e.g. {@code perf/results}.
     * @param scenario      scenario name, the folder's suffix.
     * @param profile       {@code quick}, {@code full} or {@code custom}.
     * @param startedAt     the folder's time stamp.
     * @return the report.
     * @throws IOException when the folder cannot be created.
     */
    public static RunReport create(
        final File baseDirectory, final String scenario, final String profile, final LocalDateTime startedAt)
        throws IOException
    {
        final String stem = FOLDER_TIME.format(startedAt) + "-" + scenario;
        File directory = new File(baseDirectory, stem);
        for (int i = 2; directory.exists(); i++)
        {
            directory = new File(baseDirectory, stem + "-" + i);
        }
        Files.createDirectories(directory.toPath());
        return new RunReport(directory, scenario, profile, startedAt);
    }

    /**
     * The run folder.
     *
     * @return the folder.
     */
    public File directory()
    {
        return directory;
    }

    /**
     * The machine description recorded in the summary.
     *
     * @return the machine.
     */
    public MachineInfo machine()
    {
        return machine;
    }

    /**
     * Where a series' interval log goes.
     *
     * @param name  series name.
     * @param group group key, e.g. {@code open@50k}.
     * @return the {@code .hlog} file.
     */
    public File hlogFile(final String name, final String group)
    {
        return new File(directory, fileStem(group, name) + ".hlog");
    }

    /**
     * Records a setting for the summary and the plot subtitles.
     *
     * @param name  setting name, e.g. {@code idle}.
     * @param value its value.
     * @return this.
     */
    public RunReport setting(final String name, final Object value)
    {
        settings.put(name, String.valueOf(value));
        return this;
    }

    /**
     * Adds a latency result.
     *
     * @param result the result.
     * @return this.
     */
    public RunReport add(final LatencyResult result)
    {
        latencyResults.add(result);
        return this;
    }

    /**
     * Adds a throughput result.
     *
     * @param result the result.
     * @return this.
     */
    public RunReport add(final ThroughputResult result)
    {
        throughputResults.add(result);
        return this;
    }

    /**
     * Declares that series {@code scenarioName} is to be compared with {@code baselineName} wherever both ran.
     *
     * @param scenarioName the scenario series.
     * @param baselineName the baseline series.
     * @return this.
     */
    public RunReport pair(final String scenarioName, final String baselineName)
    {
        pairs.add(new String[]{ scenarioName, baselineName });
        return this;
    }

    /**
     * Records a top-level measurement in {@code summary.json} (for benchmarks whose result is not a latency
     * histogram of one load, e.g. failover gaps): a number, a string, or an array of numbers ({@code long[]},
     * {@code double[]}).
     *
     * @param name  field name, e.g. {@code gapsMs}.
     * @param value the value.
     * @return this.
     */
    public RunReport measurement(final String name, final Object value)
    {
        measurements.put(name, value);
        return this;
    }

    /**
     * Adds a sentence to the summary's notes (and the printed report).
     *
     * @param note the sentence.
     * @return this.
     */
    public RunReport note(final String note)
    {
        notes.add(note);
        return this;
    }

    /**
     * Records a target this run is judged against (printed met or missed, and kept in the summary's
     * {@code targets}).
     *
     * @param target the target and what was measured.
     * @return this.
     */
    public RunReport target(final Target target)
    {
        targets.add(target);
        return this;
    }

    /**
     * @return the targets recorded so far.
     */
    public List<Target> targets()
    {
        return new ArrayList<>(targets);
    }

    /**
     * Adds a top-level field of the summary written by {@code writer} (one value: an object, an array, a number),
     * for what does not fit a latency or throughput series, such as a list of failover gaps.
     *
     * @param name   the field name.
     * @param writer writes exactly one JSON value.
     * @return this.
     */
    public RunReport section(final String name, final java.util.function.Consumer<JsonWriter> writer)
    {
        sections.put(name, writer);
        return this;
    }

    /**
     * Latency results added so far.
     *
     * @return the results, in the order added.
     */
    public List<LatencyResult> latencyResults()
    {
        return new ArrayList<>(latencyResults);
    }

    /**
     * Throughput results added so far.
     *
     * @return the results, in the order added.
     */
    public List<ThroughputResult> throughputResults()
    {
        return new ArrayList<>(throughputResults);
    }

    /**
     * Scenario / baseline ratios for every declared pair in every group both ran in.
     *
     * @return one row per pair and group.
     */
    public List<Ratio> ratios()
    {
        final List<Ratio> ratios = new ArrayList<>();
        for (final String[] pair : pairs)
        {
            final ThroughputResult s = throughput(pair[0]);
            final ThroughputResult b = throughput(pair[1]);
            if (null != s && null != b)
            {
                ratios.add(new Ratio("throughput", pair[0], pair[1], null, s.medianOpsPerSecond() / b.medianOpsPerSecond()));
            }
            for (final LatencyResult sr : latencyResults)
            {
                if (!sr.name().equals(pair[0]))
                {
                    continue;
                }
                for (final LatencyResult br : latencyResults)
                {
                    if (br.name().equals(pair[1]) && br.group().equals(sr.group()))
                    {
                        final double[] latency = new double[Ratio.PERCENTILES.length];
                        for (int i = 0; i < latency.length; i++)
                        {
                            latency[i] = percentileOrMaxUs(sr, Ratio.PERCENTILES[i]) / percentileOrMaxUs(br, Ratio.PERCENTILES[i]);
                        }
                        ratios.add(new Ratio(
                            sr.group(), pair[0], pair[1], latency, sr.achievedRatePerSecond() / br.achievedRatePerSecond()));
                    }
                }
            }
        }
        return ratios;
    }

    /**
     * Writes {@code .hgrm} files, {@code summary.json} and plots, and prints the tables.
     *
     * @param out where the tables go (stdout).
     * @throws IOException when a file cannot be written.
     */
    public void finish(final PrintStream out) throws IOException
    {
        for (final LatencyResult result : latencyResults)
        {
            try (PrintStream hgrm = new PrintStream(
                new FileOutputStream(new File(directory, fileStem(result.group(), result.name()) + ".hgrm")),
                false,
                StandardCharsets.UTF_8))
            {
                result.histogram().outputPercentileDistribution(hgrm, 5, 1000.0);
            }
        }
        final List<String> plots = writePlots();
        Files.writeString(new File(directory, SUMMARY_FILE).toPath(), summaryJson(plots), StandardCharsets.UTF_8);
        print(out);
    }

    /**
     * Prints the results, ratios and allocation tables.
     *
     * @param out where to print.
     */
    public void print(final PrintStream out)
    {
        out.println();
        out.println("== " + scenario + " (" + profile + ")  " + directory);
        out.println("   " + machine.oneLine());
        out.println("   " + settings);
        if (!throughputResults.isEmpty())
        {
            final TextTable table = new TextTable("throughput", "role", "median ops/s", "iterations", "alloc B/op");
            for (final ThroughputResult r : throughputResults)
            {
                final StringBuilder its = new StringBuilder();
                for (final double v : r.iterationOpsPerSecond())
                {
                    its.append(its.length() == 0 ? "" : " ").append(Format.count(v));
                }
                table.row(r.name(), r.role().label(), Format.count(r.medianOpsPerSecond()), its.toString(),
                    formatBytes(r.allocatedBytesPerOp()));
            }
            out.println();
            table.print(out);
        }
        if (!latencyResults.isEmpty())
        {
            out.println();
            latencyTable().print(out);
        }
        final List<Ratio> ratios = ratios();
        if (!ratios.isEmpty())
        {
            out.println();
            out.println("scenario / baseline (latency < 1: scenario faster; throughput > 1: scenario faster)");
            ratioTable(ratios).print(out);
        }
        if (!targets.isEmpty())
        {
            out.println();
            final TextTable table = new TextTable("target", "measured", "limit", "ratio", "result");
            for (final Target t : targets)
            {
                table.row(t.name(), Format.us(t.measuredUs()), Format.us(t.limitUs()),
                    Format.ratio(t.measuredUs() / t.limitUs()), t.met() ? "met" : "MISSED");
            }
            table.print(out);
        }
        for (final String note : notes)
        {
            out.println("note: " + note);
        }
    }

    /**
     * Latency results as a table (also used for the README).
     *
     * @return the table.
     */
    public TextTable latencyTable()
    {
        final TextTable table = new TextTable(
            "latency", "role", "load", "achieved/s", "p50", "p90", "p99", "p99.9", "max", "n", "alloc B/op");
        for (final LatencyResult r : latencyResults)
        {
            table.row(
                r.name(), r.role().label(), r.group(), Format.count(r.achievedRatePerSecond()),
                Format.us(r.percentileUs(50)), Format.us(r.percentileUs(90)), Format.us(r.percentileUs(99)),
                Format.us(r.percentileUs(99.9)), Format.us(r.histogram().getMaxValue() / 1e3),
                Format.count(r.measuredCount()) + (r.missingCount() > 0 ? " (" + r.missingCount() + " lost)" : ""),
                formatBytes(r.allocatedBytesPerOp()));
        }
        return table;
    }

    /**
     * Ratios as a table.
     *
     * @param ratios the ratios.
     * @return the table.
     */
    public static TextTable ratioTable(final List<Ratio> ratios)
    {
        final TextTable table = new TextTable(
            "scenario / baseline", "load", "p50", "p90", "p99", "p99.9", "max", "throughput");
        for (final Ratio r : ratios)
        {
            final String[] cells = new String[8];
            cells[0] = r.scenario() + " / " + r.baseline();
            cells[1] = r.group();
            for (int i = 0; i < Ratio.PERCENTILES.length; i++)
            {
                cells[2 + i] = null == r.latency() ? "" : Format.ratio(r.latency()[i]);
            }
            cells[7] = Format.ratio(r.throughput());
            table.row(cells);
        }
        return table;
    }

    private List<String> writePlots() throws IOException
    {
        final String subtitle = machine.cores() + " cores, " + System.getProperty("java.runtime.version") +
            ", " + settingsLine() + ", " + startedAt.toLocalDate();
        final Map<String, List<LatencyResult>> groups = new LinkedHashMap<>();
        final Map<String, List<LatencyResult>> sweeps = new LinkedHashMap<>();
        for (final LatencyResult r : latencyResults)
        {
            groups.computeIfAbsent(r.group(), g -> new ArrayList<>()).add(r);
            if (r.offeredRatePerSecond() > 0)
            {
                sweeps.computeIfAbsent(r.name(), n -> new ArrayList<>()).add(r);
            }
        }
        final List<String> files = new ArrayList<>();
        for (final Map.Entry<String, List<LatencyResult>> e : groups.entrySet())
        {
            final String group = e.getKey();
            final String percentiles = "percentiles-" + sanitize(group) + ".png";
            Plots.percentileDistribution(
                new File(directory, percentiles), scenario + ": latency by percentile, " + describe(group), subtitle,
                e.getValue());
            files.add(percentiles);
            final String timeline = "timeline-" + sanitize(group) + ".png";
            Plots.latencyOverTime(
                new File(directory, timeline), scenario + ": latency over time, " + describe(group), subtitle,
                e.getValue());
            files.add(timeline);
        }
        final List<List<LatencyResult>> multiRate = new ArrayList<>();
        for (final List<LatencyResult> sweep : sweeps.values())
        {
            if (sweep.size() > 1)
            {
                sweep.sort((a, b) -> Long.compare(a.offeredRatePerSecond(), b.offeredRatePerSecond()));
                multiRate.add(sweep);
            }
        }
        if (!multiRate.isEmpty())
        {
            Plots.latencyVersusLoad(
                new File(directory, "sweep.png"), scenario + ": latency against offered load", subtitle, multiRate);
            files.add("sweep.png");
        }
        return files;
    }

    private String summaryJson(final List<String> plots)
    {
        final JsonWriter json = new JsonWriter().beginObject()
            .field("scenario", scenario)
            .field("profile", profile)
            .field("startedAt", startedAt.toString());
        machine.writeTo(json);
        json.name("settings").beginObject();
        for (final Map.Entry<String, String> e : settings.entrySet())
        {
            json.field(e.getKey(), e.getValue());
        }
        json.endObject();

        for (final Map.Entry<String, Object> e : measurements.entrySet())
        {
            final Object v = e.getValue();
            if (v instanceof long[])
            {
                json.name(e.getKey()).beginArray();
                for (final long x : (long[])v)
                {
                    json.value(x);
                }
                json.endArray();
            }
            else if (v instanceof double[])
            {
                json.name(e.getKey()).beginArray();
                for (final double x : (double[])v)
                {
                    json.value(x);
                }
                json.endArray();
            }
            else if (v instanceof Long || v instanceof Integer)
            {
                json.field(e.getKey(), ((Number)v).longValue());
            }
            else if (v instanceof Number)
            {
                json.field(e.getKey(), ((Number)v).doubleValue());
            }
            else
            {
                json.field(e.getKey(), String.valueOf(v));
            }
        }
        json.name("series").beginArray();
        for (final ThroughputResult r : throughputResults)
        {
            json.beginObject()
                .field("key", "throughput/" + r.name())
                .field("name", r.name())
                .field("role", r.role().label())
                .field("group", "throughput")
                .field("kind", "throughput")
                .field("opsPerSecond", r.medianOpsPerSecond());
            json.name("iterationsOpsPerSecond").beginArray();
            for (final double v : r.iterationOpsPerSecond())
            {
                json.value(v);
            }
            json.endArray()
                .field("allocatedBytesPerOp", r.allocatedBytesPerOp())
                .endObject();
        }
        for (final LatencyResult r : latencyResults)
        {
            final String stem = fileStem(r.group(), r.name());
            json.beginObject()
                .field("key", r.group() + "/" + r.name())
                .field("name", r.name())
                .field("role", r.role().label())
                .field("group", r.group())
                .field("kind", "latency")
                .field("mode", r.mode().label())
                .field("offeredRatePerSecond", r.offeredRatePerSecond())
                .field("achievedRatePerSecond", r.achievedRatePerSecond())
                .field("count", r.measuredCount())
                .field("missing", r.missingCount())
                .field("p50Us", r.percentileUs(50))
                .field("p90Us", r.percentileUs(90))
                .field("p99Us", r.percentileUs(99))
                .field("p999Us", r.percentileUs(99.9))
                .field("maxUs", r.histogram().getMaxValue() / 1e3)
                .field("meanUs", r.histogram().getMean() / 1e3)
                .field("allocatedBytesPerOp", r.allocatedBytesPerOp())
                .field("hgrm", stem + ".hgrm")
                .field("hlog", stem + ".hlog")
                .endObject();
        }
        json.endArray();

        json.name("ratios").beginArray();
        for (final Ratio r : ratios())
        {
            json.beginObject()
                .field("group", r.group())
                .field("scenario", r.scenario())
                .field("baseline", r.baseline());
            if (null != r.latency())
            {
                for (int i = 0; i < Ratio.PERCENTILES.length; i++)
                {
                    json.field(Ratio.NAMES[i], r.latency()[i]);
                }
            }
            json.field("throughput", r.throughput()).endObject();
        }
        json.endArray();

        json.name("allocationBytesPerOp").beginObject();
        for (final ThroughputResult r : throughputResults)
        {
            json.field("throughput/" + r.name(), r.allocatedBytesPerOp());
        }
        for (final LatencyResult r : latencyResults)
        {
            json.field(r.group() + "/" + r.name(), r.allocatedBytesPerOp());
        }
        json.endObject();

        json.name("targets").beginArray();
        for (final Target t : targets)
        {
            json.beginObject()
                .field("name", t.name())
                .field("measuredUs", t.measuredUs())
                .field("limitUs", t.limitUs())
                .name("met").value(t.met())
                .endObject();
        }
        json.endArray();
        for (final Map.Entry<String, java.util.function.Consumer<JsonWriter>> e : sections.entrySet())
        {
            json.name(e.getKey());
            e.getValue().accept(json);
        }

        json.name("plots").beginArray();
        for (final String plot : plots)
        {
            json.value(plot);
        }
        json.endArray();
        json.name("notes").beginArray();
        for (final String note : notes)
        {
            json.value(note);
        }
        json.endArray();
        return json.endObject().toString();
    }

    private String settingsLine()
    {
        final StringBuilder sb = new StringBuilder();
        for (final Map.Entry<String, String> e : settings.entrySet())
        {
            sb.append(sb.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
        }
        return sb.toString();
    }

    private ThroughputResult throughput(final String name)
    {
        for (final ThroughputResult r : throughputResults)
        {
            if (r.name().equals(name))
            {
                return r;
            }
        }
        return null;
    }

    private static double percentileOrMaxUs(final LatencyResult r, final double percentile)
    {
        return percentile >= 100 ? r.histogram().getMaxValue() / 1e3 : r.percentileUs(percentile);
    }

    private static String describe(final String group)
    {
        if (group.startsWith("open@"))
        {
            return "open loop at " + group.substring(5) + "/s";
        }
        return "closed loop".equals(group) || "closed".equals(group) ? "closed loop (RTT)" : group;
    }

    static String fileStem(final String group, final String name)
    {
        return sanitize(group) + "-" + sanitize(name);
    }

    private static String sanitize(final String text)
    {
        return text.replaceAll("[^A-Za-z0-9._-]", "-");
    }

    static String formatBytes(final double bytesPerOp)
    {
        if (Double.isNaN(bytesPerOp))
        {
            return "n/a";
        }
        return String.format(java.util.Locale.ROOT, "%.2f", bytesPerOp);
    }

    /**
     * Scenario / baseline ratios in one group.
     */
    public static final class Ratio
    {
        static final double[] PERCENTILES = { 50, 90, 99, 99.9, 100 };
        static final String[] NAMES = { "p50", "p90", "p99", "p999", "max" };

        private final String group;
        private final String scenario;
        private final String baseline;
        private final double[] latency;
        private final double throughput;

        Ratio(
            final String group,
            final String scenario,
            final String baseline,
            final double[] latency,
            final double throughput)
        {
            this.group = group;
            this.scenario = scenario;
            this.baseline = baseline;
            this.latency = latency;
            this.throughput = throughput;
        }

        /**
         * Group key both ran in.
         *
         * @return e.g. {@code open@50k} or {@code throughput}.
         */
        public String group()
        {
            return group;
        }

        /**
         * Scenario series name.
         *
         * @return the name.
         */
        public String scenario()
        {
            return scenario;
        }

        /**
         * Baseline series name.
         *
         * @return the name.
         */
        public String baseline()
        {
            return baseline;
        }

        /**
         * Latency ratios at p50, p90, p99, p99.9 and max, or null for a throughput group.
         *
         * @return the ratios.
         */
        public double[] latency()
        {
            return null == latency ? null : latency.clone();
        }

        /**
         * Throughput ratio (ops/s for a throughput group, achieved rate for a latency group).
         *
         * @return the ratio.
         */
        public double throughput()
        {
            return throughput;
        }
    }

    /**
     * A target a run is judged against: a measured figure and the limit it must not exceed.
     */
    public static final class Target
    {
        private final String name;
        private final double measuredUs;
        private final double limitUs;

        /**
         * @param name       what is compared, e.g. {@code sync p99 <= 2 x unreplicated p99 at 50k/s}.
         * @param measuredUs the measured figure.
         * @param limitUs    the largest value that meets the target.
         */
        public Target(final String name, final double measuredUs, final double limitUs)
        {
            this.name = name;
            this.measuredUs = measuredUs;
            this.limitUs = limitUs;
        }

        /** @return the target's name. */
        public String name()
        {
            return name;
        }

        /** @return the measured figure (µs). */
        public double measuredUs()
        {
            return measuredUs;
        }

        /** @return the limit (µs). */
        public double limitUs()
        {
            return limitUs;
        }

        /** @return measured ≤ limit. */
        public boolean met()
        {
            return measuredUs <= limitUs;
        }
    }
}
