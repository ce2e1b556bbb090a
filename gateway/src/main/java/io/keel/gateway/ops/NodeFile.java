package io.keel.gateway.ops;

import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * A memory-mapped file a node writes for tools outside the process (like Aeron's cnc.dat): a one-page header
 * (magic, pid, start time, node id, heartbeat, clean-close time) followed by a body (counters, error log). The
 * mapping is shared, so what the node wrote stays in the file after it died, even by kill -9.
 */
public final class NodeFile implements AutoCloseable
{
    /** Header length; the body starts page-aligned after it. */
    public static final int HEADER_LENGTH = 4096;
    /** Layout version. */
    public static final int VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int PID_OFFSET = 8;
    static final int START_MS_OFFSET = 16;
    static final int NODE_ID_OFFSET = 24;
    static final int BODY_LENGTH_OFFSET = 28;
    static final int HEARTBEAT_MS_OFFSET = 32;
    static final int CLOSED_MS_OFFSET = 40;
    static final int SECTION_A_OFFSET = 48;

    private final Path path;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer header;
    private final UnsafeBuffer body;

    private NodeFile(final Path path, final MappedByteBuffer mapped)
    {
        this.path = path;
        this.mapped = mapped;
        this.header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        this.body = new UnsafeBuffer(mapped, HEADER_LENGTH, mapped.capacity() - HEADER_LENGTH);
    }

    /**
     * Create (or replace) the file, zeroed, and write its header.
     *
     * @param path       file.
     * @param magic      what the file holds.
     * @param nodeId     member id.
     * @param bodyLength body bytes (a multiple of the page size is best).
     * @param sectionA   a layout value for the reader (e.g. the metadata length of a counters file).
     * @return the mapped file.
     */
    static NodeFile create(final Path path, final int magic, final int nodeId, final int bodyLength,
        final int sectionA)
    {
        try
        {
            Files.createDirectories(path.toAbsolutePath().getParent());
            Files.deleteIfExists(path);
            final long length = (long)HEADER_LENGTH + bodyLength;
            try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw"))
            {
                file.setLength(length);
                final MappedByteBuffer mapped = file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, length);
                final NodeFile nodeFile = new NodeFile(path, mapped);
                final UnsafeBuffer h = nodeFile.header;
                h.putInt(VERSION_OFFSET, VERSION);
                h.putLong(PID_OFFSET, ProcessHandle.current().pid());
                h.putLong(START_MS_OFFSET, System.currentTimeMillis());
                h.putInt(NODE_ID_OFFSET, nodeId);
                h.putInt(BODY_LENGTH_OFFSET, bodyLength);
                h.putInt(SECTION_A_OFFSET, sectionA);
                h.putLongRelease(HEARTBEAT_MS_OFFSET, System.currentTimeMillis());
                h.putIntRelease(MAGIC_OFFSET, magic); // last: a reader sees a whole header or none
                return nodeFile;
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot create " + path + ": " + ex, ex);
        }
    }

    /**
     * Map an existing file read-only (a tool outside the node).
     *
     * @param path  file.
     * @param magic what it must hold.
     * @return the mapped file.
     * @throws IllegalArgumentException when it is missing or not such a file.
     */
    static NodeFile openReadOnly(final Path path, final int magic)
    {
        if (!Files.isRegularFile(path))
        {
            throw new IllegalArgumentException(path + " does not exist: is this a node directory (--dir)?");
        }
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "r"))
        {
            if (file.length() < HEADER_LENGTH)
            {
                throw new IllegalArgumentException(path + " is too short to be a Keel node file");
            }
            final MappedByteBuffer mapped = file.getChannel().map(FileChannel.MapMode.READ_ONLY, 0, file.length());
            final NodeFile nodeFile = new NodeFile(path, mapped);
            if (nodeFile.header.getIntVolatile(MAGIC_OFFSET) != magic)
            {
                nodeFile.close();
                throw new IllegalArgumentException(path + " is not a Keel node file of this kind (or is being " +
                    "created)");
            }
            return nodeFile;
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read " + path + ": " + ex, ex);
        }
    }

    /** @return the body after the header. */
    public UnsafeBuffer body()
    {
        return body;
    }

    /** @return the file. */
    public Path path()
    {
        return path;
    }

    /** @return the layout value written at creation. */
    public int sectionA()
    {
        return header.getInt(SECTION_A_OFFSET);
    }

    /** @return pid of the node that wrote the file. */
    public long pid()
    {
        return header.getLong(PID_OFFSET);
    }

    /** @return when the node created the file, epoch ms. */
    public long startMs()
    {
        return header.getLong(START_MS_OFFSET);
    }

    /** @return member id of the node. */
    public int nodeId()
    {
        return header.getInt(NODE_ID_OFFSET);
    }

    /** @return the node's last heartbeat (its sampler writes it a few times a second), epoch ms. */
    public long heartbeatMs()
    {
        return header.getLongVolatile(HEARTBEAT_MS_OFFSET);
    }

    /** @return when the node closed cleanly, epoch ms; 0 while it runs or when it died. */
    public long closedMs()
    {
        return header.getLongVolatile(CLOSED_MS_OFFSET);
    }

    void heartbeat(final long nowMs)
    {
        header.putLongRelease(HEARTBEAT_MS_OFFSET, nowMs);
    }

    void markClosed(final long nowMs)
    {
        header.putLongRelease(CLOSED_MS_OFFSET, nowMs);
    }

    /**
     * @return true when the process that wrote the file still runs (its pid is alive and started no later than the
     * file: a recycled pid does not count).
     */
    public boolean writerAlive()
    {
        final Optional<ProcessHandle> process = ProcessHandle.of(pid());
        if (process.isEmpty() || !process.get().isAlive())
        {
            return false;
        }
        final Optional<Instant> started = process.get().info().startInstant();
        return started.isEmpty() || started.get().toEpochMilli() <= startMs() + 1000;
    }

    @Override
    public void close()
    {
        IoUtil.unmap(mapped);
    }
}
