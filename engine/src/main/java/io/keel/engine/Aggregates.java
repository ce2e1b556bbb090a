package io.keel.engine;

import org.agrona.collections.LongObjConsumer;

/**
 * Read-only view of every stream's aggregate and version, for checks and tools ({@link Engine#inspect}). Valid
 * only during the call that hands it out (on the business-logic thread).
 */
public interface Aggregates
{
    /**
     * @param streamId stream.
     * @return its aggregate, or null when it has no events.
     */
    Aggregate get(long streamId);

    /**
     * @param streamId stream.
     * @return its version (number of events), 0 when it has none.
     */
    long version(long streamId);

    /** @return number of streams with at least one event. */
    int size();

    /**
     * @param consumer given each stream id and its aggregate.
     */
    void forEach(LongObjConsumer<Aggregate> consumer);
}
