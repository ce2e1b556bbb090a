package io.keel.perf.report;

import io.keel.perf.Format;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares two runs from their {@code summary.json}: for every series present in both (matched by key, e.g.
 * {@code open@50k/disruptor-sp}), the ratio B / A of p50, p90, p99, p99.9, max and throughput. Latency
 * below 1 and throughput above 1 mean B is faster.
 */
public final class Compare
{
    /**
     * Metric names in the order of {@link Row#ratios()}.
     */
    public static final String[] METRICS = { "p50", "p90", "p99", "p99.9", "max", "throughput" };

    private static final String[] LATENCY_FIELDS = { "p50Us", "p90Us", "p99Us", "p999Us", "maxUs" };

    private Compare()
    {
    }

    /**
     * One series present in both runs.
     */
    public static final class Row
    {
        private final String key;
        private final double[] a;
        private final double[] b;

        Row(final String key, final double[] a, final double[] b)
        {
            this.key = key;
            this.a = a;
            this.b = b;
        }

        /**
         * Series key.
         *
         * @return e.g. {@code open@50k/disruptor-sp}.
         */
        public String key()
        {
            return key;
        }

        /**
         * Run A's figures in {@link #METRICS} order (µs for latency, ops/s for throughput; NaN if absent).
         *
         * @return a copy.
         */
        public double[] a()
        {
            return a.clone();
        }

        /**
         * Run B's figures in {@link #METRICS} order.
         *
         * @return a copy.
         */
        public double[] b()
        {
            return b.clone();
        }

        /**
         * B / A in {@link #METRICS} order; NaN where either figure is missing or A's is 0.
         *
         * @return the ratios.
         */
        public double[] ratios()
        {
            final double[] ratios = new double[a.length];
            for (int i = 0; i < a.length; i++)
            {
                ratios[i] = Double.isNaN(a[i]) || Double.isNaN(b[i]) || a[i] == 0 ? Double.NaN : b[i] / a[i];
            }
            return ratios;
        }
    }

    /**
     * Reads {@code summary.json} from two run folders (or two summary files) and compares them.
     *
     * @param a the reference run (folder or file).
     * @param b the run compared with it.
     * @return one row per series key present in both, in A's order.
     * @throws IOException when a summary cannot be read.
     */
    public static List<Row> compare(final File a, final File b) throws IOException
    {
        return compare(readSummary(a), readSummary(b));
    }

    /**
     * Compares two parsed summaries.
     *
     * @param a the reference summary.
     * @param b the summary compared with it.
     * @return one row per series key present in both, in A's order.
     */
    public static List<Row> compare(final Map<String, Object> a, final Map<String, Object> b)
    {
        final Map<String, double[]> seriesA = figures(a);
        final Map<String, double[]> seriesB = figures(b);
        final List<Row> rows = new ArrayList<>();
        for (final Map.Entry<String, double[]> e : seriesA.entrySet())
        {
            final double[] other = seriesB.get(e.getKey());
            if (null != other)
            {
                rows.add(new Row(e.getKey(), e.getValue(), other));
            }
        }
        return rows;
    }

    /**
     * Prints the comparison table.
     *
     * @param rows  rows from {@link #compare(File, File)}.
     * @param nameA label of run A.
     * @param nameB label of run B.
     * @param out   where to print.
     */
    public static void print(final List<Row> rows, final String nameA, final String nameB, final PrintStream out)
    {
        out.println("A = " + nameA);
        out.println("B = " + nameB);
        out.println("B / A (latency < 1: B faster; throughput > 1: B faster)");
        final TextTable table = new TextTable(
            "series", "p50", "p90", "p99", "p99.9", "max", "throughput", "p99 A", "p99 B");
        for (final Row row : rows)
        {
            final double[] ratios = row.ratios();
            final String[] cells = new String[9];
            cells[0] = row.key();
            for (int i = 0; i < ratios.length; i++)
            {
                cells[1 + i] = Format.ratio(ratios[i]);
            }
            cells[7] = Format.us(row.a[2]);
            cells[8] = Format.us(row.b[2]);
            table.row(cells);
        }
        table.print(out);
        if (rows.isEmpty())
        {
            out.println("(no series in common: were these runs of the same scenario?)");
        }
    }

    /**
     * Reads a summary from a run folder or a summary file.
     *
     * @param folderOrFile the run folder, or its {@code summary.json}.
     * @return the parsed summary.
     * @throws IOException when it cannot be read.
     */
    public static Map<String, Object> readSummary(final File folderOrFile) throws IOException
    {
        final File file = folderOrFile.isDirectory() ? new File(folderOrFile, RunReport.SUMMARY_FILE) : folderOrFile;
        if (!file.isFile())
        {
            throw new IOException("no " + RunReport.SUMMARY_FILE + " in " + folderOrFile);
        }
        try
        {
            return JsonReader.parseObject(Files.readString(file.toPath(), StandardCharsets.UTF_8));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IOException(file + ": " + ex.getMessage(), ex);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, double[]> figures(final Map<String, Object> summary)
    {
        final Map<String, double[]> figures = new LinkedHashMap<>();
        final Object series = summary.get("series");
        if (!(series instanceof List))
        {
            return figures;
        }
        for (final Object item : (List<Object>)series)
        {
            if (!(item instanceof Map))
            {
                continue;
            }
            final Map<String, Object> s = (Map<String, Object>)item;
            final Object key = s.get("key");
            if (!(key instanceof String))
            {
                continue;
            }
            final double[] values = new double[METRICS.length];
            for (int i = 0; i < LATENCY_FIELDS.length; i++)
            {
                values[i] = number(s.get(LATENCY_FIELDS[i]));
            }
            values[5] = "throughput".equals(s.get("kind")) ?
                number(s.get("opsPerSecond")) : number(s.get("achievedRatePerSecond"));
            figures.put((String)key, values);
        }
        return figures;
    }

    private static double number(final Object value)
    {
        return value instanceof Number ? ((Number)value).doubleValue() : Double.NaN;
    }
}
