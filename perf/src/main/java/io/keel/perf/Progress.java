package io.keel.perf;

import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The live progress line on stderr: phase, rate achieved, p50/p99 so far, time left. Rewrites one line on a
 * terminal; prints a line every few seconds otherwise (logs, CI).
 */
final class Progress
{
    private static final boolean TERMINAL = null != System.console();
    private static final long NON_TERMINAL_PERIOD_NS = 5_000_000_000L;

    private final PrintStream out;
    private final String label;
    private long lastPrintNs;
    private int lastLength;

    Progress(final PrintStream out, final String label)
    {
        this.out = out;
        this.label = label;
    }

    void warmup(final long nowNs, final double leftS)
    {
        print(nowNs, String.format(Locale.ROOT, "%s  warm-up  %.0fs left", label, leftS), false);
    }

    void measuring(
        final long nowNs, final double rate, final Histogram soFar, final double leftS, final boolean force)
    {
        final String line = String.format(
            Locale.ROOT,
            "%s  %s/s  p50 %s  p99 %s  max %s  %.0fs left",
            label,
            Format.count(rate),
            Format.us(soFar.getValueAtPercentile(50) / 1000.0),
            Format.us(soFar.getValueAtPercentile(99) / 1000.0),
            Format.us(soFar.getMaxValue() / 1000.0),
            Math.max(0.0, leftS));
        print(nowNs, line, force);
    }

    void message(final String text)
    {
        print(System.nanoTime(), label + "  " + text, true);
    }

    void done()
    {
        if (TERMINAL && lastLength > 0)
        {
            out.print('\n');
            out.flush();
            lastLength = 0;
        }
    }

    private void print(final long nowNs, final String line, final boolean force)
    {
        if (TERMINAL)
        {
            final StringBuilder sb = new StringBuilder(line.length() + 8).append('\r').append(line);
            for (int i = line.length(); i < lastLength; i++)
            {
                sb.append(' ');
            }
            lastLength = line.length();
            out.print(sb);
            out.flush();
        }
        else if (force || nowNs - lastPrintNs >= NON_TERMINAL_PERIOD_NS)
        {
            lastPrintNs = nowNs;
            out.println(line);
        }
    }
}
