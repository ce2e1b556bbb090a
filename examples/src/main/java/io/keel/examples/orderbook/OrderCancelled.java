package io.keel.examples.orderbook;

import io.keel.engine.Event;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * The remainder of an order left the book (cancelled by its owner, or its fill limit was reached).
 */
public final class OrderCancelled extends Event
{
    /** book. */
    public long book;
    /** order id. */
    public long orderId;
    /** quantity. */
    public long quantity;

    /**
     * Fill every field (instances are reused).
     *
     * @param book book.
     * @param orderId order id.
     * @param quantity quantity.
     * @return this.
     */
    public OrderCancelled set(final long book, final long orderId, final long quantity)
    {
        this.book = book;
        this.orderId = orderId;
        this.quantity = quantity;
        return this;
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(book);
        out.writeStopBit(orderId);
        out.writeStopBit(quantity);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        book = in.readStopBit();
        orderId = in.readStopBit();
        quantity = in.readStopBit();
    }
}
