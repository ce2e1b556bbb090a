package io.keel.examples.orderbook;

import io.keel.engine.Event;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * A fill: the taker (incoming) order traded with a resting maker order at the maker's price.
 */
public final class Trade extends Event
{
    /** book. */
    public long book;
    /** maker order id. */
    public long makerOrderId;
    /** taker order id. */
    public long takerOrderId;
    /** price. */
    public long price;
    /** quantity. */
    public long quantity;

    /**
     * Fill every field (instances are reused).
     *
     * @param book book.
     * @param makerOrderId maker order id.
     * @param takerOrderId taker order id.
     * @param price price.
     * @param quantity quantity.
     * @return this.
     */
    public Trade set(final long book, final long makerOrderId, final long takerOrderId, final long price, final long quantity)
    {
        this.book = book;
        this.makerOrderId = makerOrderId;
        this.takerOrderId = takerOrderId;
        this.price = price;
        this.quantity = quantity;
        return this;
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(book);
        out.writeStopBit(makerOrderId);
        out.writeStopBit(takerOrderId);
        out.writeStopBit(price);
        out.writeStopBit(quantity);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        book = in.readStopBit();
        makerOrderId = in.readStopBit();
        takerOrderId = in.readStopBit();
        price = in.readStopBit();
        quantity = in.readStopBit();
    }
}
