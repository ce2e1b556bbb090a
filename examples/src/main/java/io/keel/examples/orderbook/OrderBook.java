package io.keel.examples.orderbook;

import io.keel.engine.Aggregate;
import io.keel.engine.Event;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * One instrument's limit order book (stream id = book id): resting orders by price level, each level first in,
 * first out. Changed only by {@link OrderPlaced}, {@link Trade} and {@link OrderCancelled}. Written for clarity
 * (tree maps and deques); the ledger is the allocation-free example.
 */
public final class OrderBook implements Aggregate
{
    /** Side of a buy order. */
    public static final int BUY = 0;
    /** Side of a sell order. */
    public static final int SELL = 1;

    /**
     * A resting order.
     */
    public static final class Order
    {
        final long id;
        final int side;
        final long price;
        long remaining;

        Order(final long id, final int side, final long price, final long remaining)
        {
            this.id = id;
            this.side = side;
            this.price = price;
            this.remaining = remaining;
        }

        /** @return order id. */
        public long id()
        {
            return id;
        }

        /** @return {@link #BUY} or {@link #SELL}. */
        public int side()
        {
            return side;
        }

        /** @return limit price in ticks. */
        public long price()
        {
            return price;
        }

        /** @return quantity still resting. */
        public long remaining()
        {
            return remaining;
        }
    }

    private final Long2ObjectHashMap<Order> orders = new Long2ObjectHashMap<>();
    private final TreeMap<Long, ArrayDeque<Order>> bids = new TreeMap<>(Collections.reverseOrder());
    private final TreeMap<Long, ArrayDeque<Order>> asks = new TreeMap<>();
    private long tradeCount;
    private long tradedQuantity;

    @Override
    public void apply(final Event event)
    {
        if (event instanceof Trade trade)
        {
            reduce(trade.makerOrderId, trade.quantity);
            reduce(trade.takerOrderId, trade.quantity);
            tradeCount++;
            tradedQuantity += trade.quantity;
        }
        else if (event instanceof OrderPlaced placed)
        {
            rest(new Order(placed.orderId, (int)placed.side, placed.price, placed.quantity));
        }
        else if (event instanceof OrderCancelled cancelled)
        {
            final Order order = orders.get(cancelled.orderId);
            if (null == order || order.remaining != cancelled.quantity)
            {
                throw new IllegalStateException("cancel of " + cancelled.orderId + " does not match the book");
            }
            reduce(cancelled.orderId, cancelled.quantity);
        }
        else
        {
            throw new IllegalArgumentException("order book cannot apply " + event.getClass().getSimpleName());
        }
    }

    /**
     * @param orderId order.
     * @return the resting order, or null.
     */
    public Order order(final long orderId)
    {
        return orders.get(orderId);
    }

    /**
     * Levels of the side an incoming order of {@code side} trades against, best first (read-only).
     *
     * @param side of the incoming order.
     * @return price to FIFO queue of resting orders.
     */
    public NavigableMap<Long, ArrayDeque<Order>> opposite(final int side)
    {
        return Collections.unmodifiableNavigableMap(BUY == side ? asks : bids);
    }

    /** @return best bid price, or 0 when there is none. */
    public long bestBid()
    {
        return bids.isEmpty() ? 0 : bids.firstKey();
    }

    /** @return best ask price, or 0 when there is none. */
    public long bestAsk()
    {
        return asks.isEmpty() ? 0 : asks.firstKey();
    }

    /** @return resting orders. */
    public int orderCount()
    {
        return orders.size();
    }

    /** @return trades so far. */
    public long tradeCount()
    {
        return tradeCount;
    }

    /** @return quantity traded so far. */
    public long tradedQuantity()
    {
        return tradedQuantity;
    }

    /** @return quantity resting on both sides. */
    public long restingQuantity()
    {
        long total = 0;
        for (final Order order : orders.values())
        {
            total += order.remaining;
        }
        return total;
    }

    /** @return true when the best bid is below the best ask (or a side is empty): matching left nothing crossed. */
    public boolean isUncrossed()
    {
        return bids.isEmpty() || asks.isEmpty() || bids.firstKey() < asks.firstKey();
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(tradeCount);
        out.writeStopBit(tradedQuantity);
        out.writeStopBit(orders.size());
        writeSide(out, bids);
        writeSide(out, asks);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        orders.clear();
        bids.clear();
        asks.clear();
        tradeCount = in.readStopBit();
        tradedQuantity = in.readStopBit();
        final long count = in.readStopBit();
        for (long i = 0; i < count; i++)
        {
            rest(new Order(in.readStopBit(), (int)in.readStopBit(), in.readStopBit(), in.readStopBit()));
        }
    }

    @Override
    public String toString()
    {
        final StringBuilder text = new StringBuilder("OrderBook{trades=").append(tradeCount).append(", traded=")
            .append(tradedQuantity).append(", bids=");
        appendSide(text, bids);
        text.append(", asks=");
        appendSide(text, asks);
        return text.append('}').toString();
    }

    private static void writeSide(final BytesOut<?> out, final TreeMap<Long, ArrayDeque<Order>> side)
    {
        for (final ArrayDeque<Order> level : side.values())
        {
            for (final Order order : level)
            {
                out.writeStopBit(order.id);
                out.writeStopBit(order.side);
                out.writeStopBit(order.price);
                out.writeStopBit(order.remaining);
            }
        }
    }

    private static void appendSide(final StringBuilder text, final TreeMap<Long, ArrayDeque<Order>> side)
    {
        text.append('[');
        for (final Map.Entry<Long, ArrayDeque<Order>> level : side.entrySet())
        {
            text.append(level.getKey()).append(':');
            for (final Order order : level.getValue())
            {
                text.append(order.id).append('x').append(order.remaining).append(' ');
            }
        }
        text.append(']');
    }

    private void rest(final Order order)
    {
        if (null != orders.put(order.id, order))
        {
            throw new IllegalStateException("order " + order.id + " is already in the book");
        }
        (BUY == order.side ? bids : asks).computeIfAbsent(order.price, p -> new ArrayDeque<>()).addLast(order);
    }

    private void reduce(final long orderId, final long quantity)
    {
        final Order order = orders.get(orderId);
        if (null == order || order.remaining < quantity)
        {
            throw new IllegalStateException("order " + orderId + " cannot lose " + quantity);
        }
        order.remaining -= quantity;
        if (0 == order.remaining)
        {
            orders.remove(orderId);
            final TreeMap<Long, ArrayDeque<Order>> side = BUY == order.side ? bids : asks;
            final ArrayDeque<Order> level = side.get(order.price);
            level.remove(order);
            if (level.isEmpty())
            {
                side.remove(order.price);
            }
        }
    }
}
