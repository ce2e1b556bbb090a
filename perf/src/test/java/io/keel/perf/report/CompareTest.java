package io.keel.perf.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompareTest
{
    @TempDir
    File temp;

    @Test
    void ratiosAreRunBOverRunAForSeriesPresentInBoth() throws IOException
    {
        final File a = summary("a",
            latency("open@50k/disruptor-sp", 1, 2, 4, 8, 100, 50_000),
            latency("open@50k/abq", 10, 20, 40, 80, 1000, 49_000),
            throughput("throughput/disruptor-sp", 80e6));
        final File b = summary("b",
            latency("open@50k/disruptor-sp", 2, 2, 2, 4, 400, 25_000),
            throughput("throughput/disruptor-sp", 20e6),
            throughput("throughput/only-in-b", 1e6));

        final List<Compare.Row> rows = Compare.compare(a, b);

        assertEquals(2, rows.size());
        assertEquals("open@50k/disruptor-sp", rows.get(0).key());
        assertArrayEquals(new double[]{ 2.0, 1.0, 0.5, 0.5, 4.0, 0.5 }, rows.get(0).ratios());
        assertEquals("throughput/disruptor-sp", rows.get(1).key());
        final double[] throughputRatios = rows.get(1).ratios();
        assertTrue(Double.isNaN(throughputRatios[0]), "no latency figures for a throughput series");
        assertEquals(0.25, throughputRatios[5], 1e-12);
    }

    @Test
    void printsOneLinePerCommonSeries() throws IOException
    {
        final File a = summary("a", latency("closed/aeron-udp-32B", 20, 30, 100, 300, 5000, 40_000));
        final File b = summary("b", latency("closed/aeron-udp-32B", 10, 30, 50, 300, 5000, 80_000));
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Compare.print(Compare.compare(a, b), "a", "b", new PrintStream(bytes, true, StandardCharsets.UTF_8));

        final String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("closed/aeron-udp-32B  0.50x  1.00x  0.50x  1.00x  1.00x       2.00x"), text);
    }

    @Test
    void missingSummaryIsAClearError()
    {
        final IOException ex = assertThrows(IOException.class, () -> Compare.compare(temp, temp));
        assertTrue(ex.getMessage().contains("no summary.json in"));
    }

    private File summary(final String name, final String... series) throws IOException
    {
        final File dir = new File(temp, name);
        Files.createDirectories(dir.toPath());
        Files.writeString(new File(dir, RunReport.SUMMARY_FILE).toPath(),
            "{\"scenario\": \"ring\", \"series\": [" + String.join(",", series) + "]}", StandardCharsets.UTF_8);
        return dir;
    }

    private static String latency(
        final String key, final double p50, final double p90, final double p99, final double p999, final double max,
        final double achieved)
    {
        return String.format(java.util.Locale.ROOT,
            "{\"key\": \"%s\", \"kind\": \"latency\", \"p50Us\": %s, \"p90Us\": %s, \"p99Us\": %s, \"p999Us\": %s, " +
            "\"maxUs\": %s, \"achievedRatePerSecond\": %s}", key, p50, p90, p99, p999, max, achieved);
    }

    private static String throughput(final String key, final double opsPerSecond)
    {
        return "{\"key\": \"" + key + "\", \"kind\": \"throughput\", \"opsPerSecond\": " + opsPerSecond + "}";
    }

    private static void assertArrayEquals(final double[] expected, final double[] actual)
    {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual, 1e-12);
    }
}
