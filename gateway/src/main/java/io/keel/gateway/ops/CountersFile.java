package io.keel.gateway.ops;

import io.keel.engine.CounterTypes;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's counters in {@code DIR/keel-counters.dat}: an Agrona {@link CountersManager} (metadata + values
 * buffers) over a memory-mapped {@link NodeFile}, read by {@code keel stat} while the node runs and after it died.
 */
public final class CountersFile implements AutoCloseable
{
    /** File name in the node directory. */
    public static final String FILE_NAME = "keel-counters.dat";
    /** Counters the file holds at most. */
    public static final int MAX_COUNTERS = 512;
    static final int MAGIC = 0x4B43_4E54; // "KCNT"

    private final NodeFile file;
    private final CountersManager manager;
    private final CountersReader reader;

    private CountersFile(final NodeFile file, final boolean writable)
    {
        this.file = file;
        final int metadataLength = file.sectionA();
        final UnsafeBuffer body = file.body();
        final UnsafeBuffer metadata = new UnsafeBuffer(body, 0, metadataLength);
        final UnsafeBuffer values = new UnsafeBuffer(body, metadataLength, body.capacity() - metadataLength);
        if (writable)
        {
            manager = new CountersManager(metadata, values);
            reader = manager;
        }
        else
        {
            manager = null;
            reader = new CountersReader(metadata, values);
        }
    }

    /**
     * Create (replace) the node's counters file.
     *
     * @param dir    node directory.
     * @param nodeId member id.
     * @return the file, with its manager to allocate from.
     */
    public static CountersFile create(final Path dir, final int nodeId)
    {
        final int metadataLength = MAX_COUNTERS * CountersReader.METADATA_LENGTH;
        final int valuesLength = MAX_COUNTERS * CountersReader.COUNTER_LENGTH;
        return new CountersFile(NodeFile.create(dir.resolve(FILE_NAME), MAGIC, nodeId, metadataLength + valuesLength,
            metadataLength), true);
    }

    /**
     * Map a node's counters file read-only.
     *
     * @param dir node directory.
     * @return the file.
     * @throws IllegalArgumentException when there is none.
     */
    public static CountersFile openReadOnly(final Path dir)
    {
        return new CountersFile(NodeFile.openReadOnly(dir.resolve(FILE_NAME), MAGIC), false);
    }

    /** @return the manager to allocate from (null when opened read-only). */
    public CountersManager manager()
    {
        return manager;
    }

    /** @return the counters. */
    public CountersReader reader()
    {
        return reader;
    }

    /** @return the file's header (pid, start, heartbeat). */
    public NodeFile file()
    {
        return file;
    }

    /**
     * One counter as tools see it.
     *
     * @param part  engine, gateway, node, rejection or replication.
     * @param name  label without the part's prefix.
     * @param gauge true when it goes up and down.
     * @param value current value.
     */
    public record Value(String part, String name, boolean gauge, long value)
    {
    }

    /**
     * Every Keel counter in a reader, in allocation order.
     *
     * @param reader counters.
     * @return values.
     */
    public static List<Value> values(final CountersReader reader)
    {
        final List<Value> values = new ArrayList<>();
        reader.forEach((counterId, typeId, keyBuffer, label) ->
        {
            final String part = CounterTypes.partName(typeId);
            if (null != part)
            {
                final int colon = label.indexOf(": ");
                final String name = label.startsWith("keel-") && colon > 0 ? label.substring(colon + 2) : label;
                values.add(new Value(part, name, CounterTypes.isGauge(reader, counterId),
                    reader.getCounterValue(counterId)));
            }
        });
        return values;
    }

    @Override
    public void close()
    {
        file.close();
    }
}
