package io.keel.perf;

import java.util.Locale;

/**
 * Number formatting shared by progress lines, tables and plots.
 */
public final class Format
{
    private Format()
    {
    }

    /**
     * A latency for humans: {@code 0.42µs}, {@code 17.3µs}, {@code 1.24ms}, {@code 2.10s}.
     *
     * @param us microseconds.
     * @return the text.
     */
    public static String us(final double us)
    {
        if (Double.isNaN(us))
        {
            return "-";
        }
        if (us < 10)
        {
            return String.format(Locale.ROOT, "%.2fµs", us);
        }
        if (us < 1000)
        {
            return String.format(Locale.ROOT, "%.1fµs", us);
        }
        if (us < 1_000_000)
        {
            return String.format(Locale.ROOT, "%.2fms", us / 1000.0);
        }
        return String.format(Locale.ROOT, "%.2fs", us / 1_000_000.0);
    }

    /**
     * A count or rate for humans: {@code 950}, {@code 12.5k}, {@code 78.1M}.
     *
     * @param value the number.
     * @return the text.
     */
    public static String count(final double value)
    {
        if (Double.isNaN(value))
        {
            return "-";
        }
        final double abs = Math.abs(value);
        if (abs < 1000)
        {
            return String.format(Locale.ROOT, "%.0f", value);
        }
        if (abs < 1_000_000)
        {
            return String.format(Locale.ROOT, "%.1fk", value / 1000.0);
        }
        if (abs < 1_000_000_000)
        {
            return String.format(Locale.ROOT, "%.1fM", value / 1_000_000.0);
        }
        return String.format(Locale.ROOT, "%.2fG", value / 1_000_000_000.0);
    }

    /**
     * A ratio: {@code 0.21x}, {@code 5.6x}, {@code 120x}.
     *
     * @param ratio the ratio.
     * @return the text.
     */
    public static String ratio(final double ratio)
    {
        if (Double.isNaN(ratio) || Double.isInfinite(ratio))
        {
            return "-";
        }
        if (ratio < 0.1)
        {
            return String.format(Locale.ROOT, "%.2gx", ratio);
        }
        if (ratio < 10)
        {
            return String.format(Locale.ROOT, "%.2fx", ratio);
        }
        return String.format(Locale.ROOT, "%.0fx", ratio);
    }

    /**
     * A rate label for file names and group keys: {@code 500}, {@code 50k}, {@code 2M}.
     *
     * @param ratePerSecond the rate.
     * @return the text.
     */
    public static String rateLabel(final long ratePerSecond)
    {
        if (ratePerSecond >= 1_000_000 && ratePerSecond % 1_000_000 == 0)
        {
            return (ratePerSecond / 1_000_000) + "M";
        }
        if (ratePerSecond >= 1000 && ratePerSecond % 1000 == 0)
        {
            return (ratePerSecond / 1000) + "k";
        }
        return Long.toString(ratePerSecond);
    }

    /**
     * Parses a rate with an optional k/M suffix: {@code 50000}, {@code 50k}, {@code 2M}.
     *
     * @param text the rate.
     * @return operations per second.
     */
    public static long parseRate(final String text)
    {
        final String t = text.trim();
        final char last = Character.toLowerCase(t.charAt(t.length() - 1));
        if ('k' == last)
        {
            return Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000);
        }
        if ('m' == last)
        {
            return Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1_000_000);
        }
        return Long.parseLong(t);
    }
}
