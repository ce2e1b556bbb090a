package io.keel.engine;

import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;
import net.openhft.chronicle.wire.BytesInBinaryMarshallable;

/**
 * A request to change state, decided by a {@link CommandHandler}. Commands travel through the ring buffer as
 * compact binary: {@link Engine#trySubmit} encodes the command into a ring slot before it returns, so the caller
 * may reuse the instance at once; the business-logic thread decodes it into an instance of its own.
 */
public abstract class Command extends BytesInBinaryMarshallable
{
    /**
     * Write the compact form. Must write exactly what {@link #readMarshallable(BytesIn)} reads.
     *
     * @param out to write to.
     */
    @Override
    public abstract void writeMarshallable(BytesOut<?> out);

    /**
     * Read the compact form written by {@link #writeMarshallable(BytesOut)}, replacing every field.
     *
     * @param in to read from.
     */
    @Override
    public abstract void readMarshallable(BytesIn<?> in);
}
