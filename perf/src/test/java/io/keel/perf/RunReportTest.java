package io.keel.perf;

import io.keel.perf.report.Compare;
import io.keel.perf.report.JsonReader;
import io.keel.perf.report.RunReport;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunReportTest
{
    @TempDir
    File temp;

    @Test
    void writesParseableHgrmHlogSummaryAndNonEmptyPngs() throws Exception
    {
        final RunReport report = RunReport.create(temp, "floor", "test", LocalDateTime.of(2025, 1, 2, 3, 4, 5));
        final LatencyResult fast = shortRun(report, "fast", Role.SCENARIO, 20_000);
        final LatencyResult slow = shortRun(report, "slow", Role.BASELINE, 20_000);
        report.add(fast).add(slow).add(new ThroughputResult("fast", Role.SCENARIO, new double[]{ 4e6, 5e6, 6e6 }, 0.0))
            .add(new ThroughputResult("slow", Role.BASELINE, new double[]{ 1e6, 1e6 }, 12.5))
            .pair("fast", "slow");

        report.finish(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

        final File dir = report.directory();
        assertEquals("2025-01-02-030405-floor", dir.getName());

        final String hgrm = Files.readString(new File(dir, "open-20k-fast.hgrm").toPath(), StandardCharsets.UTF_8);
        assertTrue(hgrm.contains("Total count    = " + String.format("%12d", fast.measuredCount()) + "]"), hgrm);
        assertTrue(hgrm.lines().anyMatch(line -> line.trim().matches("[0-9.]+\\s+1\\.000000000000\\s+\\d+.*")), hgrm);

        long hlogCount = 0;
        int intervals = 0;
        try (HistogramLogReader reader = new HistogramLogReader(report.hlogFile("fast", "open@20k")))
        {
            EncodableHistogram interval;
            while (null != (interval = reader.nextIntervalHistogram()))
            {
                hlogCount += ((org.HdrHistogram.Histogram)interval).getTotalCount();
                intervals++;
            }
        }
        assertEquals(fast.measuredCount(), hlogCount, "interval log holds exactly the measured samples");
        assertTrue(intervals >= 2, "one entry per interval, got " + intervals);

        final Map<String, Object> summary = JsonReader.parseObject(
            Files.readString(new File(dir, RunReport.SUMMARY_FILE).toPath(), StandardCharsets.UTF_8));
        assertEquals("floor", summary.get("scenario"));
        assertEquals(4, ((List<?>)summary.get("series")).size());
        final Map<?, ?> ratio = (Map<?, ?>)((List<?>)summary.get("ratios")).get(0);
        assertEquals("throughput", ratio.get("group"));
        assertEquals(5.0, (Double)ratio.get("throughput"), 1e-9);
        assertEquals(12.5, (Double)((Map<?, ?>)summary.get("allocationBytesPerOp")).get("throughput/slow"), 1e-9);

        for (final Object plot : (List<?>)summary.get("plots"))
        {
            final File png = new File(dir, (String)plot);
            assertTrue(png.length() > 5_000, png + " is " + png.length() + " bytes");
            final BufferedImage image = ImageIO.read(png);
            assertEquals(1200, image.getWidth());
            assertTrue(distinctColours(image) > 3, png + " is blank");
        }
        assertTrue(((List<?>)summary.get("plots")).contains("percentiles-open-20k.png"));
        assertTrue(((List<?>)summary.get("plots")).contains("timeline-open-20k.png"));

        final List<Compare.Row> sameRun = Compare.compare(dir, dir);
        assertEquals(4, sameRun.size());
        assertEquals(1.0, sameRun.get(0).ratios()[5], 1e-12);
    }

    private static LatencyResult shortRun(
        final RunReport report, final String name, final Role role, final long rate) throws Exception
    {
        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        try (FloorScenario.NullSystem system = new FloorScenario.NullSystem(recorder))
        {
            final LatencyRun.Spec spec = new LatencyRun.Spec()
                .name(name)
                .role(role)
                .openLoop(rate)
                .warmupNs(TimeUnit.MILLISECONDS.toNanos(50))
                .durationNs(TimeUnit.MILLISECONDS.toNanos(300))
                .intervalNs(TimeUnit.MILLISECONDS.toNanos(100))
                .idleMode(IdleMode.YIELD)
                .progressOut(null);
            spec.hlogFile(report.hlogFile(name, spec.group()));
            final LatencyResult result = LatencyRun.run(spec, system, recorder);
            assertEquals(0, result.missingCount());
            assertTrue(result.measuredCount() > 0);
            return result;
        }
    }

    private static int distinctColours(final BufferedImage image)
    {
        final java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 7)
        {
            for (int x = 0; x < image.getWidth(); x += 7)
            {
                colours.add(image.getRGB(x, y));
            }
        }
        return colours.size();
    }
}
