package io.keel.examples.orderbook;

import io.keel.engine.Event;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * An order was accepted into the book (before any fills of the same command).
 */
public final class OrderPlaced extends Event
{
    /** book. */
    public long book;
    /** order id. */
    public long orderId;
    /** side. */
    public long side;
    /** price. */
    public long price;
    /** quantity. */
    public long quantity;

    /**
     * Fill every field (instances are reused).
     *
     * @param book book.
     * @param orderId order id.
     * @param side side.
     * @param price price.
     * @param quantity quantity.
     * @return this.
     */
    public OrderPlaced set(final long book, final long orderId, final long side, final long price, final long quantity)
    {
        this.book = book;
        this.orderId = orderId;
        this.side = side;
        this.price = price;
        this.quantity = quantity;
        return this;
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(book);
        out.writeStopBit(orderId);
        out.writeStopBit(side);
        out.writeStopBit(price);
        out.writeStopBit(quantity);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        book = in.readStopBit();
        orderId = in.readStopBit();
        side = in.readStopBit();
        price = in.readStopBit();
        quantity = in.readStopBit();
    }
}
