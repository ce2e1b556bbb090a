package io.keel.engine;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * The vocabulary of Keel's counters in an Agrona {@link CountersManager} (a node's counters file): which part a
 * counter belongs to (its type id) and whether it only grows (a counter) or goes up and down (a gauge; the first int
 * of its key). Tools such as {@code keel stat} and the Prometheus endpoint group and name counters by these.
 */
public final class CounterTypes
{
    /** Engine counters (commands, events, journal, snapshots). */
    public static final int ENGINE = 4100;
    /** Gateway counters (sessions, responses, refused input by kind); see io.keel.gateway.GatewayCounters. */
    public static final int GATEWAY = 4101;
    /** Node-level gauges sampled off the hot path (command latency percentiles, heartbeat). */
    public static final int NODE = 4102;
    /** Engine rejections, one counter per reason; the label is the reason's name. */
    public static final int REJECTION = 4103;
    /**
     * Replication (role, epoch, positions, lag, failovers): the extension point for the replication layer, which
     * allocates its counters with this type from the same manager.
     */
    public static final int REPLICATION = 4104;

    /** Key kind: a value that only grows. */
    public static final int KIND_COUNTER = 0;
    /** Key kind: a value that goes up and down (position, depth, last pause). */
    public static final int KIND_GAUGE = 1;

    private CounterTypes()
    {
    }

    /**
     * Allocate a counter. Allocation is serialised on the manager, so parts may allocate from any thread.
     *
     * @param manager where.
     * @param typeId  one of the types above.
     * @param kind    {@link #KIND_COUNTER} or {@link #KIND_GAUGE}.
     * @param label   human-readable name, unique within the type.
     * @return the counter id.
     */
    public static int allocate(final CountersManager manager, final int typeId, final int kind, final String label)
    {
        synchronized (manager)
        {
            return manager.allocate(label, typeId, key -> key.putInt(0, kind));
        }
    }

    /**
     * Allocate an {@link AtomicCounter}, see {@link #allocate(CountersManager, int, int, String)}.
     *
     * @param manager where.
     * @param typeId  type.
     * @param kind    counter or gauge.
     * @param label   name.
     * @return the counter, freed by {@link AtomicCounter#close()}.
     */
    public static AtomicCounter newCounter(final CountersManager manager, final int typeId, final int kind,
        final String label)
    {
        final int id = allocate(manager, typeId, kind, label);
        return new AtomicCounter(manager.valuesBuffer(), id, manager);
    }

    /**
     * @param reader  counters.
     * @param counterId an allocated counter.
     * @return true when the counter is a gauge.
     */
    public static boolean isGauge(final CountersReader reader, final int counterId)
    {
        return KIND_GAUGE == reader.metaDataBuffer().getInt(
            CountersReader.metaDataOffset(counterId) + CountersReader.KEY_OFFSET);
    }

    /**
     * @param typeId a type id.
     * @return the part's name (engine, gateway, node, rejection, replication) or null for a type Keel does not own.
     */
    public static String partName(final int typeId)
    {
        switch (typeId)
        {
            case ENGINE:
                return "engine";
            case GATEWAY:
                return "gateway";
            case NODE:
                return "node";
            case REJECTION:
                return "rejection";
            case REPLICATION:
                return "replication";
            default:
                return null;
        }
    }
}
