package io.keel.perf.report;

import io.keel.perf.Format;
import io.keel.perf.LatencyResult;
import io.keel.perf.Role;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * PNG plots drawn with plain {@code java.awt} in headless mode: the percentile distribution on a log "nines"
 * axis (scenario and baselines in one picture), latency over time from the interval histograms, and latency
 * against offered load for rate sweeps. Latency axes are logarithmic so a sub-microsecond ring and a
 * millisecond stall fit one picture.
 */
public final class Plots
{
    static
    {
        System.setProperty("java.awt.headless", "true");
    }

    private static final int WIDTH = 1200;
    private static final int HEIGHT = 700;
    private static final int LEFT = 95;
    private static final int RIGHT = 30;
    private static final int TOP = 80;
    private static final int BOTTOM = 75;
    private static final Color[] SCENARIO_COLOURS =
    {
        new Color(0x1f77b4), new Color(0x2ca02c), new Color(0x9467bd), new Color(0x17becf)
    };
    private static final Color[] BASELINE_COLOURS =
    {
        new Color(0xd62728), new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2)
    };
    private static final Color FLOOR_COLOUR = new Color(0x7f7f7f);
    private static final double MIN_LATENCY_US = 0.01;

    private Plots()
    {
    }

    /**
     * Latency by percentile for several series, x axis in "nines" (0%, 90%, 99%, 99.9%, ...).
     *
     * @param file     PNG to write.
     * @param title    first line of the title.
     * @param subtitle second line (machine, settings).
     * @param series   results to draw; each keeps its role's colour family.
     * @throws IOException when the file cannot be written.
     */
    public static void percentileDistribution(
        final File file, final String title, final String subtitle, final List<LatencyResult> series)
        throws IOException
    {
        long maxCount = 10;
        double minUs = Double.MAX_VALUE;
        double maxUs = MIN_LATENCY_US;
        for (final LatencyResult result : series)
        {
            final Histogram h = result.histogram();
            if (h.getTotalCount() == 0)
            {
                continue;
            }
            maxCount = Math.max(maxCount, h.getTotalCount());
            minUs = Math.min(minUs, Math.max(MIN_LATENCY_US, h.getMinValue() / 1e3));
            maxUs = Math.max(maxUs, h.getMaxValue() / 1e3);
        }
        if (minUs == Double.MAX_VALUE)
        {
            minUs = MIN_LATENCY_US;
        }
        final double xMax = Math.min(7, Math.max(2, Math.ceil(Math.log10(maxCount))));
        final Canvas canvas = new Canvas(title, subtitle, 0, xMax, minUs, maxUs);
        canvas.legendBottomRight = true;
        canvas.legendCount = series.size();
        canvas.yAxisLog("latency");
        final List<String> xLabels = new ArrayList<>();
        for (int nines = 0; nines <= xMax; nines++)
        {
            xLabels.add(ninesLabel(nines));
        }
        canvas.xAxisTicks(xLabels, "percentile (log scale of 1/(1-p)); open-loop latency from intended send time");

        final List<Color> colours = colours(series);
        for (int s = 0; s < series.size(); s++)
        {
            final LatencyResult result = series.get(s);
            final Histogram h = result.histogram();
            if (h.getTotalCount() == 0)
            {
                continue;
            }
            final Path2D.Double path = new Path2D.Double();
            boolean first = true;
            for (final HistogramIterationValue v : h.percentiles(5))
            {
                final double percentile = v.getPercentileLevelIteratedTo();
                final double x = percentile >= 100.0 ? xMax : Math.min(xMax, Math.log10(100.0 / (100.0 - percentile)));
                final double px = canvas.px(x);
                final double py = canvas.pyLog(h.highestEquivalentValue(v.getValueIteratedTo()) / 1e3);
                if (first)
                {
                    path.moveTo(px, py);
                    first = false;
                }
                else
                {
                    path.lineTo(px, py);
                }
            }
            canvas.draw(path, colours.get(s), result.role(), true);
            canvas.legend(
                s,
                colours.get(s),
                result.role(),
                String.format(
                    Locale.ROOT, "%s (%s)  p50 %s  p99 %s  p99.9 %s  max %s  n=%s",
                    result.name(), result.role().label(),
                    Format.us(result.percentileUs(50)), Format.us(result.percentileUs(99)),
                    Format.us(result.percentileUs(99.9)), Format.us(result.histogram().getMaxValue() / 1e3),
                    Format.count(h.getTotalCount())));
        }
        canvas.write(file);
    }

    /**
     * Latency over time from the interval histograms: p99 (solid) and p50 (thin) per series.
     *
     * @param file     PNG to write.
     * @param title    first line of the title.
     * @param subtitle second line.
     * @param series   results to draw.
     * @throws IOException when the file cannot be written.
     */
    public static void latencyOverTime(
        final File file, final String title, final String subtitle, final List<LatencyResult> series)
        throws IOException
    {
        double maxS = 1;
        double minUs = Double.MAX_VALUE;
        double maxUs = MIN_LATENCY_US;
        for (final LatencyResult result : series)
        {
            final double[] t = result.intervalEndS();
            for (int i = 0; i < t.length; i++)
            {
                maxS = Math.max(maxS, t[i]);
                minUs = Math.min(minUs, Math.max(MIN_LATENCY_US, result.intervalP50Us()[i]));
                maxUs = Math.max(maxUs, result.intervalP99Us()[i]);
            }
        }
        if (minUs == Double.MAX_VALUE)
        {
            minUs = MIN_LATENCY_US;
        }
        final Canvas canvas = new Canvas(title, subtitle, 0, maxS, minUs, maxUs);
        canvas.yAxisLog("latency per interval");
        canvas.xAxisLinear("seconds since measurement started");

        final List<Color> colours = colours(series);
        for (int s = 0; s < series.size(); s++)
        {
            final LatencyResult result = series.get(s);
            final double[] t = result.intervalEndS();
            if (t.length == 0)
            {
                continue;
            }
            canvas.draw(line(canvas, t, result.intervalP99Us()), colours.get(s), result.role(), true);
            canvas.draw(line(canvas, t, result.intervalP50Us()), colours.get(s), result.role(), false);
            canvas.legend(
                s, colours.get(s), result.role(),
                result.name() + " (" + result.role().label() + ")  thick: p99, thin: p50");
        }
        canvas.write(file);
    }

    /**
     * Latency against offered load (a rate sweep): p99 (solid) and p50 (thin) per series, both axes log.
     *
     * @param file     PNG to write.
     * @param title    first line of the title.
     * @param subtitle second line.
     * @param sweeps   one list per series, each holding its open-loop results in increasing rate order.
     * @throws IOException when the file cannot be written.
     */
    public static void latencyVersusLoad(
        final File file, final String title, final String subtitle, final List<List<LatencyResult>> sweeps)
        throws IOException
    {
        double minRate = Double.MAX_VALUE;
        double maxRate = 1;
        double minUs = Double.MAX_VALUE;
        double maxUs = MIN_LATENCY_US;
        for (final List<LatencyResult> sweep : sweeps)
        {
            for (final LatencyResult r : sweep)
            {
                minRate = Math.min(minRate, r.offeredRatePerSecond());
                maxRate = Math.max(maxRate, r.offeredRatePerSecond());
                minUs = Math.min(minUs, Math.max(MIN_LATENCY_US, r.percentileUs(50)));
                maxUs = Math.max(maxUs, r.percentileUs(99));
            }
        }
        if (minRate == Double.MAX_VALUE)
        {
            minRate = 1;
        }
        final double xMin = Math.floor(Math.log10(minRate));
        final double xMax = Math.max(xMin + 1, Math.ceil(Math.log10(maxRate)));
        final Canvas canvas = new Canvas(title, subtitle, xMin, xMax, minUs == Double.MAX_VALUE ? 1 : minUs, maxUs);
        canvas.yAxisLog("latency");
        final List<String> labels = new ArrayList<>();
        for (int d = (int)xMin; d <= xMax; d++)
        {
            labels.add(Format.count(Math.pow(10, d)) + "/s");
        }
        canvas.xAxisTicks(labels, "offered load (open loop, log scale)");

        final List<LatencyResult> firsts = new ArrayList<>();
        for (final List<LatencyResult> sweep : sweeps)
        {
            firsts.add(sweep.get(0));
        }
        final List<Color> colours = colours(firsts);
        for (int s = 0; s < sweeps.size(); s++)
        {
            final List<LatencyResult> sweep = sweeps.get(s);
            final double[] x = new double[sweep.size()];
            final double[] p50 = new double[sweep.size()];
            final double[] p99 = new double[sweep.size()];
            for (int i = 0; i < x.length; i++)
            {
                x[i] = Math.log10(sweep.get(i).offeredRatePerSecond());
                p50[i] = sweep.get(i).percentileUs(50);
                p99[i] = sweep.get(i).percentileUs(99);
            }
            final Role role = sweep.get(0).role();
            canvas.draw(line(canvas, x, p99), colours.get(s), role, true);
            canvas.draw(line(canvas, x, p50), colours.get(s), role, false);
            canvas.legend(s, colours.get(s), role, sweep.get(0).name() + " (" + role.label() + ")  thick: p99, thin: p50");
        }
        canvas.write(file);
    }

    private static Path2D.Double line(final Canvas canvas, final double[] x, final double[] yUs)
    {
        final Path2D.Double path = new Path2D.Double();
        for (int i = 0; i < x.length; i++)
        {
            final double px = canvas.px(x[i]);
            final double py = canvas.pyLog(yUs[i]);
            if (i == 0)
            {
                path.moveTo(px, py);
            }
            else
            {
                path.lineTo(px, py);
            }
        }
        return path;
    }

    private static List<Color> colours(final List<LatencyResult> series)
    {
        final List<Color> colours = new ArrayList<>();
        int scenarios = 0;
        int baselines = 0;
        for (final LatencyResult result : series)
        {
            switch (result.role())
            {
                case SCENARIO:
                    colours.add(SCENARIO_COLOURS[scenarios++ % SCENARIO_COLOURS.length]);
                    break;
                case BASELINE:
                    colours.add(BASELINE_COLOURS[baselines++ % BASELINE_COLOURS.length]);
                    break;
                default:
                    colours.add(FLOOR_COLOUR);
            }
        }
        return colours;
    }

    static String ninesLabel(final int nines)
    {
        switch (nines)
        {
            case 0:
                return "0%";
            case 1:
                return "90%";
            case 2:
                return "99%";
            default:
                return "99." + "9".repeat(nines - 2) + "%";
        }
    }

    /**
     * Plot area with a linear x axis and a log10 y axis in microseconds.
     */
    private static final class Canvas
    {
        private final BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        private final Graphics2D g = image.createGraphics();
        private final double xMin;
        private final double xMax;
        private final double yMinLog;
        private final double yMaxLog;
        private final int plotWidth = WIDTH - LEFT - RIGHT;
        private final int plotHeight = HEIGHT - TOP - BOTTOM;
        private boolean legendBottomRight;
        private int legendCount;

        Canvas(
            final String title,
            final String subtitle,
            final double xMin,
            final double xMax,
            final double minUs,
            final double maxUs)
        {
            this.xMin = xMin;
            this.xMax = xMax;
            this.yMinLog = Math.floor(Math.log10(Math.max(MIN_LATENCY_US, minUs)));
            this.yMaxLog = Math.max(yMinLog + 1, Math.ceil(Math.log10(Math.max(MIN_LATENCY_US, maxUs)) + 0.05));
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            g.drawString(title, LEFT, 30);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            g.setColor(Color.DARK_GRAY);
            g.drawString(subtitle, LEFT, 52);
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, plotWidth, plotHeight);
        }

        double px(final double x)
        {
            return LEFT + (x - xMin) / (xMax - xMin) * plotWidth;
        }

        double pyLog(final double us)
        {
            final double y = Math.log10(Math.max(MIN_LATENCY_US, us));
            return TOP + plotHeight - (y - yMinLog) / (yMaxLog - yMinLog) * plotHeight;
        }

        void yAxisLog(final String label)
        {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            final FontMetrics fm = g.getFontMetrics();
            for (int decade = (int)yMinLog; decade <= yMaxLog; decade++)
            {
                for (final int m : new int[]{ 1, 2, 5 })
                {
                    final double us = m * Math.pow(10, decade);
                    final double y = Math.log10(us);
                    if (y < yMinLog || y > yMaxLog)
                    {
                        continue;
                    }
                    final int py = (int)Math.round(pyLog(us));
                    g.setColor(m == 1 ? new Color(0xcccccc) : new Color(0xeeeeee));
                    g.drawLine(LEFT + 1, py, LEFT + plotWidth - 1, py);
                    g.setColor(Color.BLACK);
                    final String text = Format.us(us);
                    g.drawString(text, LEFT - 8 - fm.stringWidth(text), py + fm.getAscent() / 2 - 1);
                }
            }
            final Graphics2D rotated = (Graphics2D)g.create();
            rotated.rotate(-Math.PI / 2);
            rotated.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            rotated.drawString(label + " (log scale)", -(TOP + plotHeight / 2 + 60), 18);
            rotated.dispose();
        }

        void xAxisTicks(final List<String> labels, final String axisLabel)
        {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            final FontMetrics fm = g.getFontMetrics();
            for (int i = 0; i < labels.size(); i++)
            {
                final int px = (int)Math.round(px(xMin + i));
                g.setColor(new Color(0xcccccc));
                g.drawLine(px, TOP + 1, px, TOP + plotHeight - 1);
                g.setColor(Color.BLACK);
                final String text = labels.get(i);
                g.drawString(text, px - fm.stringWidth(text) / 2, TOP + plotHeight + 18);
            }
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            g.drawString(axisLabel, LEFT + plotWidth / 2 - g.getFontMetrics().stringWidth(axisLabel) / 2, HEIGHT - 25);
        }

        void xAxisLinear(final String axisLabel)
        {
            final double span = xMax - xMin;
            final double rawStep = span / 10;
            final double magnitude = Math.pow(10, Math.floor(Math.log10(rawStep)));
            double step = magnitude;
            for (final double m : new double[]{ 1, 2, 5, 10 })
            {
                if (m * magnitude >= rawStep)
                {
                    step = m * magnitude;
                    break;
                }
            }
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            final FontMetrics fm = g.getFontMetrics();
            for (double x = Math.ceil(xMin / step) * step; x <= xMax + 1e-9; x += step)
            {
                final int px = (int)Math.round(px(x));
                g.setColor(new Color(0xeeeeee));
                g.drawLine(px, TOP + 1, px, TOP + plotHeight - 1);
                g.setColor(Color.BLACK);
                final String text = step >= 1 ? String.format(Locale.ROOT, "%.0f", x) : String.format(Locale.ROOT, "%.1f", x);
                g.drawString(text, px - fm.stringWidth(text) / 2, TOP + plotHeight + 18);
            }
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            g.drawString(axisLabel, LEFT + plotWidth / 2 - g.getFontMetrics().stringWidth(axisLabel) / 2, HEIGHT - 25);
        }

        void draw(final Path2D.Double path, final Color colour, final Role role, final boolean thick)
        {
            final Stroke old = g.getStroke();
            final float width = thick ? 2.5f : 1.2f;
            if (Role.BASELINE == role)
            {
                g.setStroke(new BasicStroke(width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[]{ 9f, 5f }, 0f));
            }
            else
            {
                g.setStroke(new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            }
            g.setColor(colour);
            g.setClip(LEFT, TOP, plotWidth + 1, plotHeight + 1);
            g.draw(path);
            g.setClip(null);
            g.setStroke(old);
        }

        void legend(final int index, final Color colour, final Role role, final String text)
        {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            final FontMetrics fm = g.getFontMetrics();
            final int boxWidth = 44 + fm.stringWidth(text);
            final int x = legendBottomRight ? LEFT + plotWidth - boxWidth - 8 : LEFT + 14;
            final int rows = Math.max(legendCount, index + 1);
            final int y = legendBottomRight ?
                TOP + plotHeight - 14 - (rows - 1 - index) * (fm.getHeight() + 6) :
                TOP + 22 + index * (fm.getHeight() + 6);
            g.setColor(new Color(255, 255, 255, 230));
            g.fillRect(x - 6, y - fm.getAscent() - 3, 44 + fm.stringWidth(text), fm.getHeight() + 6);
            final Path2D.Double sample = new Path2D.Double();
            sample.moveTo(x, y - fm.getAscent() / 2.0 + 1);
            sample.lineTo(x + 30, y - fm.getAscent() / 2.0 + 1);
            draw(sample, colour, role, true);
            g.setColor(Color.BLACK);
            g.drawString(text, x + 38, y);
        }

        void write(final File file) throws IOException
        {
            g.dispose();
            if (!ImageIO.write(image, "png", file))
            {
                throw new IOException("no PNG writer available for " + file);
            }
        }
    }
}
