package io.keel.perf.report;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * A small streaming JSON writer: objects, arrays, strings, numbers (NaN and infinities become null), booleans.
 * Pretty-printed with two-space indents so summaries diff well.
 */
public final class JsonWriter
{
    private final StringBuilder out = new StringBuilder(4096);
    private final Deque<boolean[]> firstInScope = new ArrayDeque<>();
    private boolean afterName;

    /**
     * Opens an object, as a value or at the top level.
     *
     * @return this.
     */
    public JsonWriter beginObject()
    {
        beforeValue();
        out.append('{');
        firstInScope.push(new boolean[]{ true });
        return this;
    }

    /**
     * Closes the innermost object.
     *
     * @return this.
     */
    public JsonWriter endObject()
    {
        return close('}');
    }

    /**
     * Opens an array.
     *
     * @return this.
     */
    public JsonWriter beginArray()
    {
        beforeValue();
        out.append('[');
        firstInScope.push(new boolean[]{ true });
        return this;
    }

    /**
     * Closes the innermost array.
     *
     * @return this.
     */
    public JsonWriter endArray()
    {
        return close(']');
    }

    /**
     * Writes a member name; the next call writes its value.
     *
     * @param name the member name.
     * @return this.
     */
    public JsonWriter name(final String name)
    {
        beforeValue();
        appendString(name);
        out.append(": ");
        afterName = true;
        return this;
    }

    /**
     * Writes a string value, or null.
     *
     * @param value the value.
     * @return this.
     */
    public JsonWriter value(final String value)
    {
        beforeValue();
        if (null == value)
        {
            out.append("null");
        }
        else
        {
            appendString(value);
        }
        return this;
    }

    /**
     * Writes a number; NaN and infinities are written as null.
     *
     * @param value the value.
     * @return this.
     */
    public JsonWriter value(final double value)
    {
        beforeValue();
        if (Double.isNaN(value) || Double.isInfinite(value))
        {
            out.append("null");
        }
        else if (value == Math.rint(value) && Math.abs(value) < 1e15)
        {
            out.append((long)value);
        }
        else
        {
            out.append(String.format(Locale.ROOT, "%.6g", value).trim());
        }
        return this;
    }

    /**
     * Writes an integral number.
     *
     * @param value the value.
     * @return this.
     */
    public JsonWriter value(final long value)
    {
        beforeValue();
        out.append(value);
        return this;
    }

    /**
     * Writes a boolean.
     *
     * @param value the value.
     * @return this.
     */
    public JsonWriter value(final boolean value)
    {
        beforeValue();
        out.append(value);
        return this;
    }

    /**
     * Shorthand for {@code name(name).value(value)}.
     *
     * @param name  member name.
     * @param value the value.
     * @return this.
     */
    public JsonWriter field(final String name, final String value)
    {
        return name(name).value(value);
    }

    /**
     * Shorthand for {@code name(name).value(value)}.
     *
     * @param name  member name.
     * @param value the value.
     * @return this.
     */
    public JsonWriter field(final String name, final double value)
    {
        return name(name).value(value);
    }

    /**
     * Shorthand for {@code name(name).value(value)}.
     *
     * @param name  member name.
     * @param value the value.
     * @return this.
     */
    public JsonWriter field(final String name, final long value)
    {
        return name(name).value(value);
    }

    /**
     * The document written so far, with a final newline when complete.
     *
     * @return the JSON text.
     */
    @Override
    public String toString()
    {
        return firstInScope.isEmpty() ? out + "\n" : out.toString();
    }

    private JsonWriter close(final char bracket)
    {
        if (firstInScope.isEmpty())
        {
            throw new IllegalStateException("nothing to close");
        }
        final boolean empty = firstInScope.pop()[0];
        if (!empty)
        {
            newline();
        }
        out.append(bracket);
        return this;
    }

    private void beforeValue()
    {
        if (afterName)
        {
            afterName = false;
            return;
        }
        if (!firstInScope.isEmpty())
        {
            final boolean[] first = firstInScope.peek();
            if (!first[0])
            {
                out.append(',');
            }
            first[0] = false;
            newline();
        }
    }

    private void newline()
    {
        out.append('\n');
        for (int i = 0; i < firstInScope.size(); i++)
        {
            out.append("  ");
        }
    }

    private void appendString(final String value)
    {
        out.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            switch (c)
            {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                default:
                    if (c < 0x20)
                    {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int)c));
                    }
                    else
                    {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }
}
