package io.keel.perf.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small recursive-descent JSON parser for reading summaries back: objects become {@link LinkedHashMap}s,
 * arrays {@link ArrayList}s, numbers {@link Double}s, and {@code true/false/null} what they say.
 */
public final class JsonReader
{
    private final String text;
    private int pos;

    private JsonReader(final String text)
    {
        this.text = text;
    }

    /**
     * Parses one JSON document.
     *
     * @param text the JSON text.
     * @return the value.
     * @throws IllegalArgumentException with the offset of the first error.
     */
    public static Object parse(final String text)
    {
        final JsonReader reader = new JsonReader(text);
        final Object value = reader.readValue();
        reader.skipWhitespace();
        if (reader.pos != text.length())
        {
            throw reader.error("trailing characters");
        }
        return value;
    }

    /**
     * Parses a JSON document whose top level is an object.
     *
     * @param text the JSON text.
     * @return the object's members.
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(final String text)
    {
        final Object value = parse(text);
        if (!(value instanceof Map))
        {
            throw new IllegalArgumentException("expected a JSON object at the top level");
        }
        return (Map<String, Object>)value;
    }

    private Object readValue()
    {
        skipWhitespace();
        if (pos >= text.length())
        {
            throw error("unexpected end");
        }
        final char c = text.charAt(pos);
        switch (c)
        {
            case '{':
                return readObject();
            case '[':
                return readArray();
            case '"':
                return readString();
            case 't':
                expect("true");
                return Boolean.TRUE;
            case 'f':
                expect("false");
                return Boolean.FALSE;
            case 'n':
                expect("null");
                return null;
            default:
                return readNumber();
        }
    }

    private Map<String, Object> readObject()
    {
        final Map<String, Object> members = new LinkedHashMap<>();
        pos++;
        skipWhitespace();
        if (peek() == '}')
        {
            pos++;
            return members;
        }
        while (true)
        {
            skipWhitespace();
            if (peek() != '"')
            {
                throw error("expected a member name");
            }
            final String name = readString();
            skipWhitespace();
            if (peek() != ':')
            {
                throw error("expected ':'");
            }
            pos++;
            members.put(name, readValue());
            skipWhitespace();
            final char c = peek();
            if (c != ',' && c != '}')
            {
                throw error("expected ',' or '}'");
            }
            pos++;
            if (c == '}')
            {
                return members;
            }
        }
    }

    private List<Object> readArray()
    {
        final List<Object> items = new ArrayList<>();
        pos++;
        skipWhitespace();
        if (peek() == ']')
        {
            pos++;
            return items;
        }
        while (true)
        {
            items.add(readValue());
            skipWhitespace();
            final char c = peek();
            if (c != ',' && c != ']')
            {
                throw error("expected ',' or ']'");
            }
            pos++;
            if (c == ']')
            {
                return items;
            }
        }
    }

    private String readString()
    {
        final StringBuilder sb = new StringBuilder();
        pos++;
        while (true)
        {
            if (pos >= text.length())
            {
                throw error("unterminated string");
            }
            final char c = text.charAt(pos++);
            if (c == '"')
            {
                return sb.toString();
            }
            if (c != '\\')
            {
                sb.append(c);
                continue;
            }
            final char e = text.charAt(pos++);
            switch (e)
            {
                case 'n':
                    sb.append('\n');
                    break;
                case 'r':
                    sb.append('\r');
                    break;
                case 't':
                    sb.append('\t');
                    break;
                case 'b':
                    sb.append('\b');
                    break;
                case 'f':
                    sb.append('\f');
                    break;
                case 'u':
                    sb.append((char)Integer.parseInt(text.substring(pos, pos + 4), 16));
                    pos += 4;
                    break;
                default:
                    sb.append(e);
            }
        }
    }

    private Double readNumber()
    {
        final int start = pos;
        while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0)
        {
            pos++;
        }
        if (start == pos)
        {
            throw error("unexpected character '" + text.charAt(pos) + "'");
        }
        try
        {
            return Double.valueOf(text.substring(start, pos));
        }
        catch (final NumberFormatException ex)
        {
            throw error("bad number " + text.substring(start, pos));
        }
    }

    private void expect(final String word)
    {
        if (!text.startsWith(word, pos))
        {
            throw error("expected " + word);
        }
        pos += word.length();
    }

    private char peek()
    {
        if (pos >= text.length())
        {
            throw error("unexpected end");
        }
        return text.charAt(pos);
    }

    private void skipWhitespace()
    {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos)))
        {
            pos++;
        }
    }

    private IllegalArgumentException error(final String message)
    {
        return new IllegalArgumentException("JSON error at offset " + pos + ": " + message);
    }
}
