package io.keel.engine;

import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;
import net.openhft.chronicle.wire.BytesInBinaryMarshallable;

/**
 * An event: a fact decided by a {@link CommandHandler}, journaled, then applied to an {@link Aggregate}.
 * <p>
 * Events are mutable, reusable objects so the hot path allocates nothing: a handler may keep one instance per
 * type and fill it before each {@link Decision#emit(long, Event)} (the engine encodes it at once). The instance an
 * {@link Aggregate#apply(Event)} receives is reused too: copy what you keep.
 * <p>
 * The journal form is explicit, field-less Chronicle binary ({@link #writeMarshallable(BytesOut)}); prefer
 * stop-bit encoded numbers ({@code writeStopBit}) so small values take one or two bytes. The JSON and YAML forms
 * for dumps come from Chronicle Wire's reflection over the fields, so give events plain fields named as they
 * should appear in a dump.
 */
public abstract class Event extends BytesInBinaryMarshallable
{
    /**
     * Write the compact journal form. Must write exactly what {@link #readMarshallable(BytesIn)} reads.
     *
     * @param out to write to.
     */
    @Override
    public abstract void writeMarshallable(BytesOut<?> out);

    /**
     * Read the compact journal form written by {@link #writeMarshallable(BytesOut)}, replacing every field.
     *
     * @param in to read from.
     */
    @Override
    public abstract void readMarshallable(BytesIn<?> in);
}
