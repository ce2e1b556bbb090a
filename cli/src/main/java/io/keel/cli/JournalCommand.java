package io.keel.cli;

import io.keel.journal.Journal;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalCorruptedException;
import io.keel.journal.JournalException;
import io.keel.journal.JournalFrame;
import io.keel.journal.JournalReader;
import io.keel.journal.RecoveryReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code keel journal verify|dump|stats DIR}: offline tools over a journal directory (or a node directory
 * holding {@code journal/}). They open the journal read-only and change nothing on disk.
 */
@Command(
    name = "journal",
    mixinStandardHelpOptions = true,
    description = "Inspect a journal: verify, dump, stats. Read-only: nothing on disk is changed.",
    subcommands = { JournalCommand.Verify.class, JournalCommand.Dump.class, JournalCommand.Stats.class })
public final class JournalCommand implements Runnable
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: verify, dump or stats");
    }

    static Journal openReadOnly(final Path dir)
    {
        // the tools print their own findings; the journal's open/recovery log lines would repeat them
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.io.keel.journal", "warn");
        return Journal.open(new JournalContext().dir(JournalDirs.resolve(dir)).readOnly(true));
    }

    static PayloadRenderer renderer()
    {
        return Renderers.forJournalTools();
    }

    /** {@code keel journal verify DIR}. */
    @Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check every frame (length, position, CRC32C, group ends, stream versions). " +
            "Exit 0 when all check out; otherwise name the file and offset and exit 1.")
    static final class Verify implements Callable<Integer>
    {
        @Parameters(paramLabel = "DIR", description = "journal directory or node directory")
        Path dir;

        @Override
        public Integer call()
        {
            final long[] frames = new long[1];
            try (Journal journal = openReadOnly(dir))
            {
                final RecoveryReport report = journal.recoveryReport();
                try (JournalReader reader = journal.reader(journal.startPosition()))
                {
                    while (reader.poll(frame -> frames[0]++, 4096) > 0)
                    {
                        // every frame's CRC and position are checked by the reader
                    }
                }
                if (report.hadTornTail())
                {
                    System.out.printf("TORN TAIL: %s offset %d: %s (%d bytes after position %d); " +
                        "the next open for writing cuts it and keeps a copy under torn/%n",
                        report.tornFile(), report.tornFileOffset(), report.tornReason(), report.tornBytes(),
                        report.endPosition());
                    return 1;
                }
                System.out.printf("OK: %d frames in %d segments, positions [%d, %d)%n",
                    frames[0], report.segmentCount(), report.startPosition(), report.endPosition());
                return 0;
            }
            catch (final JournalCorruptedException ex)
            {
                System.out.println("CORRUPT: " + ex.file() + " offset " + ex.fileOffset() + ": " + ex.reason() +
                    " (valid data follows: not a torn tail; the journal will not open until this is repaired)");
                return 1;
            }
            catch (final JournalException ex)
            {
                System.out.println("ERROR: " + ex.getMessage());
                return 1;
            }
        }
    }

    /** {@code keel journal dump DIR [--format json|yaml] [--from POS] [--stream S]}. */
    @Command(name = "dump", mixinStandardHelpOptions = true,
        description = "Print one event per line (json) or a YAML list: position, epoch, timestampNs, clientId, " +
            "commandId, stream, version, type, payload.")
    static final class Dump implements Callable<Integer>
    {
        enum Format
        {
            json, yaml
        }

        @Parameters(paramLabel = "DIR", description = "journal directory or node directory")
        Path dir;

        @Option(names = "--format", description = "json (default) or yaml", defaultValue = "json")
        Format format;

        @Option(names = "--from", paramLabel = "POS", description = "start at this frame position", defaultValue = "-1")
        long from;

        @Option(names = "--stream", paramLabel = "S", description = "only events of this stream id")
        Long stream;

        @Override
        public Integer call()
        {
            final PayloadRenderer renderer = renderer();
            final PrintWriter out = new PrintWriter(new BufferedWriter(
                new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16), false);
            final StringBuilder line = new StringBuilder(256);
            try (Journal journal = openReadOnly(dir);
                JournalReader reader = journal.reader(from < 0 ? journal.startPosition() : from))
            {
                while (reader.poll(frame ->
                {
                    if (null != stream && frame.streamId() != stream)
                    {
                        return;
                    }
                    line.setLength(0);
                    if (format == Format.json)
                    {
                        json(line, frame, renderer);
                    }
                    else
                    {
                        yaml(line, frame, renderer);
                    }
                    out.println(line);
                }, 4096) > 0)
                {
                    if (out.checkError())
                    {
                        return 0; // reader of our output went away (e.g. `| head`)
                    }
                }
                out.flush();
                if (journal.recoveryReport().hadTornTail())
                {
                    System.err.println("note: torn tail after position " + journal.recoveryReport().endPosition() +
                        " not shown (" + journal.recoveryReport().tornReason() + ")");
                }
                return 0;
            }
            catch (final JournalException ex)
            {
                out.flush();
                System.err.println("ERROR: " + ex.getMessage());
                return 1;
            }
        }

        static void json(final StringBuilder out, final JournalFrame frame, final PayloadRenderer renderer)
        {
            out.append("{\"position\":").append(frame.position())
                .append(",\"epoch\":").append(frame.epoch())
                .append(",\"timestampNs\":").append(frame.timestampNs())
                .append(",\"clientId\":").append(frame.clientId())
                .append(",\"commandId\":").append(frame.commandId())
                .append(",\"stream\":").append(frame.streamId())
                .append(",\"version\":").append(frame.streamVersion())
                .append(",\"type\":");
            Json.quote(out, renderer.typeName(frame.type()));
            out.append(",\"payload\":{");
            boolean first = true;
            for (final Map.Entry<String, Object> field :
                renderer.fields(frame.type(), frame.buffer(), frame.payloadOffset(), frame.payloadLength()).entrySet())
            {
                if (!first)
                {
                    out.append(',');
                }
                first = false;
                Json.quote(out, field.getKey()).append(':');
                value(out, field.getValue(), true);
            }
            out.append("}}");
        }

        static void yaml(final StringBuilder out, final JournalFrame frame, final PayloadRenderer renderer)
        {
            out.append("- position: ").append(frame.position())
                .append("\n  epoch: ").append(frame.epoch())
                .append("\n  timestampNs: ").append(frame.timestampNs())
                .append("\n  clientId: ").append(frame.clientId())
                .append("\n  commandId: ").append(frame.commandId())
                .append("\n  stream: ").append(frame.streamId())
                .append("\n  version: ").append(frame.streamVersion())
                .append("\n  type: ").append(renderer.typeName(frame.type()))
                .append("\n  payload: {");
            boolean first = true;
            for (final Map.Entry<String, Object> field :
                renderer.fields(frame.type(), frame.buffer(), frame.payloadOffset(), frame.payloadLength()).entrySet())
            {
                if (!first)
                {
                    out.append(", ");
                }
                first = false;
                out.append(field.getKey()).append(": ");
                value(out, field.getValue(), true);
            }
            out.append('}');
        }

        private static void value(final StringBuilder out, final Object value, final boolean quoteStrings)
        {
            if (value instanceof Number || value instanceof Boolean)
            {
                out.append(value);
            }
            else if (quoteStrings)
            {
                Json.quote(out, String.valueOf(value));
            }
            else
            {
                out.append(value);
            }
        }
    }

    /** {@code keel journal stats DIR}. */
    @Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Events, segments, bytes, positions, epochs, streams and counts by type.")
    static final class Stats implements Callable<Integer>
    {
        @Parameters(paramLabel = "DIR", description = "journal directory or node directory")
        Path dir;

        @Override
        public Integer call()
        {
            final PayloadRenderer renderer = renderer();
            final Map<String, long[]> byType = new TreeMap<>();
            final long[] totals = new long[5]; // events, payload bytes, groups, min ts, max ts
            totals[3] = Long.MAX_VALUE;
            final long[] epochs = { Long.MAX_VALUE, Long.MIN_VALUE };
            try (Journal journal = openReadOnly(dir);
                JournalReader reader = journal.reader(journal.startPosition()))
            {
                while (reader.poll(frame ->
                {
                    totals[0]++;
                    totals[1] += frame.payloadLength();
                    if (frame.isEndOfGroup())
                    {
                        totals[2]++;
                    }
                    totals[3] = Math.min(totals[3], frame.timestampNs());
                    totals[4] = Math.max(totals[4], frame.timestampNs());
                    epochs[0] = Math.min(epochs[0], frame.epoch());
                    epochs[1] = Math.max(epochs[1], frame.epoch());
                    byType.computeIfAbsent(renderer.typeName(frame.type()), k -> new long[1])[0]++;
                }, 4096) > 0)
                {
                    // counting
                }
                final RecoveryReport report = journal.recoveryReport();
                System.out.printf("journal:        %s%n", journal.dir());
                System.out.printf("segments:       %d%n", report.segmentCount());
                System.out.printf("positions:      [%d, %d)  (%d bytes of log)%n", report.startPosition(),
                    report.endPosition(), report.endPosition() - report.startPosition());
                System.out.printf("events:         %d in %d groups (commands)%n", totals[0], totals[2]);
                System.out.printf("payload bytes:  %d%n", totals[1]);
                System.out.printf("streams:        %d%n", journal.streamIndex().streamCount());
                if (totals[0] > 0)
                {
                    System.out.printf("epochs:         %d..%d%n", epochs[0], epochs[1]);
                    System.out.printf("timestamps ns:  %d..%d%n", totals[3], totals[4]);
                }
                System.out.printf("torn tail:      %s%n", report.hadTornTail() ?
                    report.tornBytes() + " bytes at " + report.tornFile() + " offset " + report.tornFileOffset() :
                    "none");
                System.out.println("by type:");
                byType.forEach((name, count) -> System.out.printf("  %-20s %d%n", name, count[0]));
                return 0;
            }
            catch (final JournalException ex)
            {
                System.err.println("ERROR: " + ex.getMessage());
                return 1;
            }
            catch (final UncheckedIOException ex)
            {
                System.err.println("ERROR: " + ex.getMessage());
                return 1;
            }
        }
    }

}
