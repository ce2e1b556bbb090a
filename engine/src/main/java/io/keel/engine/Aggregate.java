package io.keel.engine;

import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesMarshallable;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * The state of one stream (an account, an order book), changed only by applying its events, in order.
 * <p>
 * {@link #apply(Event)} must be deterministic and must not fail for an event its own handler decided: it runs
 * after the events are journaled, during live processing and during replay, and both must reach the same state.
 * Snapshots store an aggregate with {@link #writeMarshallable(BytesOut)} and restore it into a fresh instance
 * with {@link #readMarshallable(BytesIn)}.
 */
public interface Aggregate extends BytesMarshallable
{
    /**
     * Apply one event of this stream.
     *
     * @param event decoded event, a reused instance: copy what you keep.
     */
    void apply(Event event);

    /**
     * Write the whole state for a snapshot.
     *
     * @param out to write to.
     */
    @Override
    void writeMarshallable(BytesOut<?> out);

    /**
     * Read the whole state written by {@link #writeMarshallable(BytesOut)}.
     *
     * @param in to read from.
     */
    @Override
    void readMarshallable(BytesIn<?> in);
}
