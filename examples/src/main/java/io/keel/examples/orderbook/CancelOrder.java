package io.keel.examples.orderbook;

import io.keel.engine.Command;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * Cancel the resting remainder of an order.
 */
public final class CancelOrder extends Command
{
    /** book. */
    public long book;
    /** order id. */
    public long orderId;

    /**
     * Fill every field (instances are reused).
     *
     * @param book book.
     * @param orderId order id.
     * @return this.
     */
    public CancelOrder set(final long book, final long orderId)
    {
        this.book = book;
        this.orderId = orderId;
        return this;
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(book);
        out.writeStopBit(orderId);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        book = in.readStopBit();
        orderId = in.readStopBit();
    }
}
