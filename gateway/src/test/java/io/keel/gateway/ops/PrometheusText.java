package io.keel.gateway.ops;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4) for tests: every line must be a
 * comment, a HELP or TYPE line, or a sample {@code name{label="value",...} number [timestamp]}; a family's TYPE
 * comes before its samples and only once; sample names must belong to the family declared (with the
 * {@code _total}, {@code _count}, {@code _sum} suffixes the type allows); label values are properly escaped.
 */
final class PrometheusText
{
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern SAMPLE = Pattern.compile(
        "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*)})?" +
            " (\\S+)( -?\\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "summary", "histogram", "untyped");

    private PrometheusText()
    {
    }

    /**
     * @param text exposition.
     * @return sample key ({@code name{labels in order}}) to value.
     * @throws IllegalArgumentException naming the first bad line.
     */
    static Map<String, Double> parse(final String text)
    {
        final Map<String, Double> samples = new LinkedHashMap<>();
        final Map<String, String> typeOf = new HashMap<>();
        final Set<String> seenHelp = new HashSet<>();
        int lineNo = 0;
        for (final String line : text.split("\n", -1))
        {
            lineNo++;
            if (line.isEmpty())
            {
                continue;
            }
            if (line.startsWith("# HELP ") || line.startsWith("# TYPE "))
            {
                final String[] parts = line.substring(7).split(" ", 2);
                if (!NAME.matcher(parts[0]).matches())
                {
                    throw bad(lineNo, line, "bad metric name");
                }
                if (line.startsWith("# TYPE "))
                {
                    if (parts.length != 2 || !TYPES.contains(parts[1]) || null != typeOf.put(parts[0], parts[1]))
                    {
                        throw bad(lineNo, line, "bad or repeated TYPE");
                    }
                }
                else if (!seenHelp.add(parts[0]))
                {
                    throw bad(lineNo, line, "repeated HELP");
                }
                continue;
            }
            if (line.startsWith("#"))
            {
                continue;
            }
            final Matcher m = SAMPLE.matcher(line);
            if (!m.matches())
            {
                throw bad(lineNo, line, "not a sample");
            }
            final String name = m.group(1);
            final String family = family(name, typeOf);
            if (null == family)
            {
                throw bad(lineNo, line, "sample before its TYPE or with a suffix its type does not allow");
            }
            final double value;
            try
            {
                value = parseValue(m.group(4));
            }
            catch (final NumberFormatException ex)
            {
                throw bad(lineNo, line, "bad value");
            }
            final StringBuilder key = new StringBuilder(name);
            if (null != m.group(3) && !m.group(3).isEmpty())
            {
                final Matcher l = LABEL.matcher(m.group(3));
                key.append('{');
                boolean first = true;
                while (l.find())
                {
                    key.append(first ? "" : ",").append(l.group(1)).append("=\"").append(l.group(2)).append('"');
                    first = false;
                }
                key.append('}');
            }
            if (null != samples.put(key.toString(), value))
            {
                throw bad(lineNo, line, "repeated sample");
            }
        }
        return samples;
    }

    private static String family(final String name, final Map<String, String> typeOf)
    {
        if (typeOf.containsKey(name) && !"counter".equals(typeOf.get(name)))
        {
            return name;
        }
        for (final String suffix : new String[] {"_total", "_count", "_sum", "_created", "_bucket"})
        {
            if (name.endsWith(suffix))
            {
                final String base = name.substring(0, name.length() - suffix.length());
                final String type = typeOf.get(base);
                if (null != type && ("counter".equals(type) ? !"_count".equals(suffix) && !"_sum".equals(suffix) &&
                    !"_bucket".equals(suffix) : !"gauge".equals(type)))
                {
                    return base;
                }
            }
        }
        return typeOf.containsKey(name) ? name : null;
    }

    private static double parseValue(final String text)
    {
        switch (text)
        {
            case "NaN":
                return Double.NaN;
            case "+Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            default:
                return Double.parseDouble(text);
        }
    }

    private static IllegalArgumentException bad(final int lineNo, final String line, final String why)
    {
        return new IllegalArgumentException("line " + lineNo + ": " + why + ": " + line);
    }
}
