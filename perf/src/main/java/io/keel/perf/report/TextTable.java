package io.keel.perf.report;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table with a header row, columns sized to fit; the first column is left-aligned, the others
 * right-aligned (numbers). Also renders as a Markdown table for the README.
 */
public final class TextTable
{
    private final String[] header;
    private final List<String[]> rows = new ArrayList<>();

    /**
     * A table with these column headings.
     *
     * @param header column headings.
     */
    public TextTable(final String... header)
    {
        this.header = header.clone();
    }

    /**
     * Appends a row; missing cells print empty.
     *
     * @param cells cell texts.
     * @return this.
     */
    public TextTable row(final String... cells)
    {
        rows.add(cells.clone());
        return this;
    }

    /**
     * Number of data rows.
     *
     * @return rows added.
     */
    public int size()
    {
        return rows.size();
    }

    /**
     * Prints aligned columns.
     *
     * @param out where to print.
     */
    public void print(final PrintStream out)
    {
        final int[] widths = widths();
        out.println(line(header, widths));
        final StringBuilder rule = new StringBuilder();
        for (int i = 0; i < widths.length; i++)
        {
            rule.append(i == 0 ? "" : "  ").append("-".repeat(widths[i]));
        }
        out.println(rule);
        for (final String[] row : rows)
        {
            out.println(line(row, widths));
        }
    }

    /**
     * The table as Markdown.
     *
     * @return Markdown text, one line per row.
     */
    public String toMarkdown()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.length; i++)
        {
            sb.append(i == 0 ? " --- |" : " ---: |");
        }
        sb.append('\n');
        for (final String[] row : rows)
        {
            sb.append('|');
            for (int i = 0; i < header.length; i++)
            {
                sb.append(' ').append(i < row.length ? row[i] : "").append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private int[] widths()
    {
        final int[] widths = new int[header.length];
        for (int i = 0; i < header.length; i++)
        {
            widths[i] = header[i].length();
        }
        for (final String[] row : rows)
        {
            for (int i = 0; i < Math.min(row.length, widths.length); i++)
            {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        return widths;
    }

    private static String line(final String[] cells, final int[] widths)
    {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < widths.length; i++)
        {
            final String cell = i < cells.length && null != cells[i] ? cells[i] : "";
            final String pad = " ".repeat(widths[i] - cell.length());
            if (i > 0)
            {
                sb.append("  ");
            }
            sb.append(i == 0 ? cell + pad : pad + cell);
        }
        return sb.toString().stripTrailing();
    }
}
