package io.keel.perf.codec;

import io.keel.perf.report.JsonWriter;
import io.keel.perf.report.MachineInfo;
import io.keel.perf.report.TextTable;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code keel bench codec}: runs {@link CodecBenchmark} under JMH (forked JVMs, GC profiler for bytes allocated per
 * operation), then writes {@code perf/results/<time>-codec/}: JMH's own {@code jmh.json}, a {@code summary.json}
 * with ops/s, encoded bytes, allocation and the ratios of each format to Keel's binary, and {@code table.md}.
 */
public final class CodecBench
{
    private static final DateTimeFormatter FOLDER_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss");
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";
    private static final String[] OPS = { "Encode", "Decode" };

    private CodecBench()
    {
    }

    /**
     * What to run and how long; defaults are the short profile (well under two minutes for two events).
     */
    public static final class Settings
    {
        int forks = 1;
        int warmupIterations = 2;
        long warmupMs = 400;
        int iterations = 3;
        long iterationMs = 500;
        List<String> events = List.of("Deposited", "Debited");
        boolean gcProfiler = true;
        File outputDirectory = new File("perf/results");
        List<String> jvmArgs = new ArrayList<>();

        /** @param forks forked JVMs per benchmark (0 runs in this JVM: quick, less trustworthy). @return this. */
        public Settings forks(final int forks)
        {
            this.forks = forks;
            return this;
        }

        /** @param iterations discarded warm-up iterations. @param ms each one's time. @return this. */
        public Settings warmup(final int iterations, final long ms)
        {
            this.warmupIterations = iterations;
            this.warmupMs = ms;
            return this;
        }

        /** @param iterations measured iterations. @param ms each one's time. @return this. */
        public Settings measurement(final int iterations, final long ms)
        {
            this.iterations = iterations;
            this.iterationMs = ms;
            return this;
        }

        /** @param events ledger events, from {@link LedgerSamples#NAMES}. @return this. */
        public Settings events(final List<String> events)
        {
            for (final String event : events)
            {
                LedgerSamples.empty(event);
            }
            this.events = List.copyOf(events);
            return this;
        }

        /** @param gcProfiler whether to add JMH's GC profiler (bytes allocated per operation). @return this. */
        public Settings gcProfiler(final boolean gcProfiler)
        {
            this.gcProfiler = gcProfiler;
            return this;
        }

        /** @param outputDirectory where run folders go. @return this. */
        public Settings outputDirectory(final File outputDirectory)
        {
            this.outputDirectory = outputDirectory;
            return this;
        }

        /** @param jvmArgs the forked JVMs' arguments (module flags Chronicle needs, heap). @return this. */
        public Settings jvmArgs(final List<String> jvmArgs)
        {
            this.jvmArgs = new ArrayList<>(jvmArgs);
            return this;
        }

        Settings conclude()
        {
            if (forks < 0 || warmupIterations < 0 || iterations < 1 || warmupMs < 1 || iterationMs < 1)
            {
                throw new IllegalArgumentException("codec bench: forks >= 0, warm-up iterations >= 0, iterations >= 1" +
                    " and times >= 1 ms, were forks=" + forks + " warmup=" + warmupIterations + "x" + warmupMs +
                    "ms iterations=" + iterations + "x" + iterationMs + "ms");
            }
            if (events.isEmpty())
            {
                throw new IllegalArgumentException("codec bench: --events must name at least one of " + LedgerSamples.NAMES);
            }
            return this;
        }
    }

    /** One measured benchmark. */
    record Row(String event, CodecFormat.Kind kind, String op, double opsPerSecond, double errorOpsPerSecond,
        double allocBytesPerOp, long encodedBytes)
    {
    }

    /**
     * Runs the benchmark and writes the run folder.
     *
     * @param settings what to run.
     * @param out      where the table goes.
     * @return the run folder.
     * @throws Exception when JMH or the files fail.
     */
    public static File run(final Settings settings, final PrintStream out) throws Exception
    {
        settings.conclude();
        final LocalDateTime startedAt = LocalDateTime.now();
        final File directory = folder(settings.outputDirectory, startedAt);
        final File jmhJson = new File(directory, "jmh.json");

        final ChainedOptionsBuilder options = new OptionsBuilder()
            .include("^" + CodecBenchmark.class.getName().replace(".", "\\.") + "\\.")
            .param("event", settings.events.toArray(new String[0]))
            .forks(settings.forks)
            .warmupIterations(settings.warmupIterations)
            .warmupTime(TimeValue.milliseconds(settings.warmupMs))
            .measurementIterations(settings.iterations)
            .measurementTime(TimeValue.milliseconds(settings.iterationMs))
            .threads(1)
            .shouldFailOnError(true)
            .result(jmhJson.getPath())
            .resultFormat(ResultFormatType.JSON);
        if (settings.gcProfiler)
        {
            options.addProfiler(GCProfiler.class);
        }
        if (!settings.jvmArgs.isEmpty())
        {
            options.jvmArgs(settings.jvmArgs.toArray(new String[0]));
        }

        final Collection<RunResult> results = new Runner(options.build()).run();
        final List<Row> rows = rows(results);

        final MachineInfo machine = MachineInfo.current();
        final TextTable table = table(rows);
        final String settingsLine = String.format(Locale.ROOT,
            "forks %d, warm-up %d x %d ms, measured %d x %d ms, 1 thread, GC profiler %s",
            settings.forks, settings.warmupIterations, settings.warmupMs, settings.iterations, settings.iterationMs,
            settings.gcProfiler ? "on" : "off");
        Files.writeString(new File(directory, "summary.json").toPath(),
            summary(rows, settings, settingsLine, machine, startedAt), StandardCharsets.UTF_8);
        Files.writeString(new File(directory, "table.md").toPath(),
            "# codec: " + startedAt + "\n\n" + machine.oneLine() + "\n\n" + settingsLine + "\n\n" + table.toMarkdown(),
            StandardCharsets.UTF_8);

        out.println();
        out.println("== codec: encode/decode of one ledger event (ratios to keel-binary in the same run)");
        table.print(out);
        out.println(machine.oneLine());
        out.println(settingsLine);
        out.println("keel bench codec: results in " + directory);
        return directory;
    }

    private static File folder(final File base, final LocalDateTime startedAt) throws IOException
    {
        final String stem = FOLDER_TIME.format(startedAt) + "-codec";
        File directory = new File(base, stem);
        for (int i = 2; directory.exists(); i++)
        {
            directory = new File(base, stem + "-" + i);
        }
        Files.createDirectories(directory.toPath());
        return directory;
    }

    static List<Row> rows(final Collection<RunResult> results)
    {
        final Map<String, Row> byKey = new TreeMap<>();
        final Map<String, Long> sizes = new TreeMap<>();
        for (final RunResult result : results)
        {
            final BenchmarkParams params = result.getParams();
            final String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
            final String event = params.getParam("event");
            String op = null;
            for (final String candidate : OPS)
            {
                if (method.endsWith(candidate))
                {
                    op = candidate.toLowerCase(Locale.ROOT);
                }
            }
            final CodecFormat.Kind kind = method.startsWith("keelBinary") ? CodecFormat.Kind.KEEL_BINARY :
                method.startsWith("wireBinary") ? CodecFormat.Kind.WIRE_BINARY : CodecFormat.Kind.JSON;
            final String sizeKey = event + "/" + kind;
            final long encodedBytes = sizes.computeIfAbsent(sizeKey, key -> encodedSize(kind, event));
            final Result<?> primary = result.getPrimaryResult();
            final Result<?> alloc = result.getSecondaryResults().get(ALLOC_NORM);
            byKey.put(key(event, kind, op), new Row(event, kind, op, primary.getScore(), primary.getScoreError(),
                null == alloc ? Double.NaN : alloc.getScore(), encodedBytes));
        }
        final List<Row> rows = new ArrayList<>();
        for (final String event : LedgerSamples.NAMES)
        {
            for (final String op : new String[]{ "encode", "decode" })
            {
                for (final CodecFormat.Kind kind : CodecFormat.Kind.values())
                {
                    final Row row = byKey.get(key(event, kind, op));
                    if (null != row)
                    {
                        rows.add(row);
                    }
                }
            }
        }
        return rows;
    }

    private static String key(final String event, final CodecFormat.Kind kind, final String op)
    {
        return event + "/" + op + "/" + kind;
    }

    private static long encodedSize(final CodecFormat.Kind kind, final String event)
    {
        try (CodecFormat format = CodecFormat.of(kind, LedgerSamples.filled(event), LedgerSamples.empty(event)))
        {
            return format.encodedSizeBytes();
        }
    }

    private static Row baseline(final List<Row> rows, final Row row)
    {
        for (final Row candidate : rows)
        {
            if (candidate.kind() == CodecFormat.Kind.KEEL_BINARY && candidate.event().equals(row.event()) &&
                candidate.op().equals(row.op()))
            {
                return candidate;
            }
        }
        return null;
    }

    static TextTable table(final List<Row> rows)
    {
        final TextTable table = new TextTable(
            "event", "op", "format", "ops/s", "± (99.9%)", "bytes/event", "alloc B/op", "ops/s vs keel", "size vs keel");
        for (final Row row : rows)
        {
            final Row keel = baseline(rows, row);
            table.row(row.event(), row.op(), row.kind().label(),
                opsPerSecond(row.opsPerSecond()), opsPerSecond(row.errorOpsPerSecond()),
                Long.toString(row.encodedBytes()),
                Double.isNaN(row.allocBytesPerOp()) ? "—" : String.format(Locale.ROOT, "%.2f", row.allocBytesPerOp()),
                null == keel ? "—" : String.format(Locale.ROOT, "%.2fx", row.opsPerSecond() / keel.opsPerSecond()),
                null == keel ? "—" : String.format(Locale.ROOT, "%.2fx", (double)row.encodedBytes() / keel.encodedBytes()));
        }
        return table;
    }

    private static String opsPerSecond(final double value)
    {
        if (value >= 1e6)
        {
            return String.format(Locale.ROOT, "%.1fM", value / 1e6);
        }
        if (value >= 1e3)
        {
            return String.format(Locale.ROOT, "%.1fk", value / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", value);
    }

    private static String summary(
        final List<Row> rows,
        final Settings settings,
        final String settingsLine,
        final MachineInfo machine,
        final LocalDateTime startedAt)
    {
        final JsonWriter json = new JsonWriter().beginObject()
            .field("scenario", "codec")
            .field("startedAt", startedAt.toString())
            .field("machine", machine.oneLine())
            .field("cores", machine.cores())
            .field("jvm", machine.jvm())
            .field("settings", settingsLine)
            .field("forks", settings.forks)
            .field("baseline", CodecFormat.Kind.KEEL_BINARY.label())
            .field("note", "ratios are format / keel-binary within this run: ops/s < 1 means slower than keel-binary," +
                " size > 1 means larger; alloc is JMH's gc.alloc.rate.norm (bytes allocated per operation)");
        json.name("samples").beginObject();
        for (final String event : settings.events)
        {
            json.name(event).beginObject();
            for (final CodecFormat.Kind kind : CodecFormat.Kind.values())
            {
                try (CodecFormat format = CodecFormat.of(kind, LedgerSamples.filled(event), LedgerSamples.empty(event)))
                {
                    json.field(kind.label(), format.encodedText());
                }
            }
            json.endObject();
        }
        json.endObject();
        json.name("results").beginArray();
        for (final Row row : rows)
        {
            final Row keel = baseline(rows, row);
            json.beginObject()
                .field("event", row.event())
                .field("op", row.op())
                .field("format", row.kind().label())
                .field("opsPerSecond", row.opsPerSecond())
                .field("opsPerSecondError", row.errorOpsPerSecond())
                .field("encodedBytes", row.encodedBytes())
                .field("allocationBytesPerOp", row.allocBytesPerOp())
                .field("opsPerSecondVsKeelBinary", null == keel ? Double.NaN : row.opsPerSecond() / keel.opsPerSecond())
                .field("sizeVsKeelBinary", null == keel ? Double.NaN : (double)row.encodedBytes() / keel.encodedBytes())
                .endObject();
        }
        json.endArray();
        return json.endObject().toString() + "\n";
    }
}
