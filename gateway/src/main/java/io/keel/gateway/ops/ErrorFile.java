package io.keel.gateway.ops;

import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.errors.ErrorLogReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's distinct error log in {@code DIR/keel-errors.dat}: Agrona's {@link DistinctErrorLog} (each distinct
 * error once, with its count and first and last time) over a memory-mapped {@link NodeFile}, so
 * {@code keel errors DIR} reads it while the node runs and after it died. When a node starts over a file that
 * holds errors, they are first saved as text next to it ({@code keel-errors-<start>.txt}) so a restart after a
 * crash does not erase the evidence.
 */
public final class ErrorFile implements AutoCloseable
{
    /** File name in the node directory. */
    public static final String FILE_NAME = "keel-errors.dat";
    /** Bytes for the distinct errors (stack traces); errors beyond are counted and logged, not stored. */
    public static final int LOG_LENGTH_BYTES = 1024 * 1024;
    static final int MAGIC = 0x4B45_5252; // "KERR"
    private static final Logger LOG = LoggerFactory.getLogger(ErrorFile.class);

    private final NodeFile file;
    private final DistinctErrorLog log;

    private ErrorFile(final NodeFile file, final boolean writable)
    {
        this.file = file;
        this.log = writable ? new DistinctErrorLog(file.body(), SystemEpochClock.INSTANCE) : null;
    }

    /**
     * Create (replace) the node's error file, saving the errors of the previous run as text first.
     *
     * @param dir    node directory.
     * @param nodeId member id.
     * @return the file with its log.
     */
    public static ErrorFile create(final Path dir, final int nodeId)
    {
        final Path path = dir.resolve(FILE_NAME);
        if (Files.isRegularFile(path))
        {
            try (ErrorFile previous = openReadOnly(dir))
            {
                final List<Entry> entries = previous.entries();
                if (!entries.isEmpty())
                {
                    final Path saved = dir.resolve("keel-errors-" + previous.file.startMs() + ".txt");
                    Files.writeString(saved, format(entries), StandardCharsets.UTF_8);
                    LOG.warn("previous run (pid {}) recorded {} distinct errors: saved to {}", previous.file.pid(),
                        entries.size(), saved);
                }
            }
            catch (final IllegalArgumentException | IOException ex)
            {
                LOG.warn("could not save the previous error log {}: {}", path, ex.toString());
            }
        }
        return new ErrorFile(NodeFile.create(path, MAGIC, nodeId, LOG_LENGTH_BYTES, 0), true);
    }

    /**
     * Map a node's error file read-only.
     *
     * @param dir node directory.
     * @return the file.
     * @throws IllegalArgumentException when there is none.
     */
    public static ErrorFile openReadOnly(final Path dir)
    {
        return new ErrorFile(NodeFile.openReadOnly(dir.resolve(FILE_NAME), MAGIC), false);
    }

    /** @return the log to record into (null when opened read-only). Safe from any thread. */
    public DistinctErrorLog log()
    {
        return log;
    }

    /** @return the file's header. */
    public NodeFile file()
    {
        return file;
    }

    /**
     * One distinct error.
     *
     * @param count   times observed.
     * @param firstMs first time, epoch ms.
     * @param lastMs  last time, epoch ms.
     * @param text    the error with its stack trace.
     */
    public record Entry(int count, long firstMs, long lastMs, String text)
    {
    }

    /** @return every distinct error recorded, oldest first. */
    public List<Entry> entries()
    {
        final List<Entry> entries = new ArrayList<>();
        ErrorLogReader.read(file.body(), (count, first, last, text) -> entries.add(new Entry(count, first, last, text)));
        return entries;
    }

    /**
     * @param entries errors.
     * @return them as text: a line per error with count, first and last time, then its stack trace.
     */
    public static String format(final List<Entry> entries)
    {
        final StringBuilder text = new StringBuilder();
        for (final Entry entry : entries)
        {
            text.append(entry.count()).append(" observation(s) from ").append(Instant.ofEpochMilli(entry.firstMs()))
                .append(" to ").append(Instant.ofEpochMilli(entry.lastMs())).append(":\n").append(entry.text());
            if (!entry.text().endsWith("\n"))
            {
                text.append('\n');
            }
        }
        return text.toString();
    }

    @Override
    public void close()
    {
        file.close();
    }
}
