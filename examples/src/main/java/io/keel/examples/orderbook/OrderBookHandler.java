package io.keel.examples.orderbook;

import io.keel.engine.Command;
import io.keel.engine.CommandHandler;
import io.keel.engine.Decision;

import java.util.ArrayDeque;
import java.util.Map;

/**
 * Decides order commands: price-time matching computed from the current book without changing it; the fills
 * become {@link Trade} events that the book applies afterwards.
 */
public final class OrderBookHandler implements CommandHandler
{
    /** Most fills one incoming order takes; any rest of it is then cancelled (keeps every command bounded). */
    public static final int MAX_FILLS = 32;

    private final OrderPlaced placed = new OrderPlaced();
    private final Trade trade = new Trade();
    private final OrderCancelled cancelled = new OrderCancelled();

    @Override
    public void handle(final Command command, final Decision decision)
    {
        if (command instanceof PlaceOrder order)
        {
            place(order, decision);
        }
        else if (command instanceof CancelOrder cancel)
        {
            final OrderBook book = decision.aggregate(cancel.book);
            final OrderBook.Order order = null == book ? null : book.order(cancel.orderId);
            if (null == order)
            {
                decision.reject(OrderBooks.UNKNOWN_ORDER);
            }
            else
            {
                decision.emit(cancel.book, cancelled.set(cancel.book, cancel.orderId, order.remaining()));
            }
        }
        else
        {
            throw new IllegalArgumentException("order book cannot handle " + command.getClass().getSimpleName());
        }
    }

    private void place(final PlaceOrder order, final Decision decision)
    {
        if ((order.side != OrderBook.BUY && order.side != OrderBook.SELL) || order.price <= 0 || order.quantity <= 0 ||
            order.orderId <= 0)
        {
            decision.reject(OrderBooks.INVALID_ORDER);
            return;
        }
        final OrderBook book = decision.aggregate(order.book);
        if (null != book && null != book.order(order.orderId))
        {
            decision.reject(OrderBooks.DUPLICATE_ORDER);
            return;
        }
        decision.emit(order.book, placed.set(order.book, order.orderId, order.side, order.price, order.quantity));
        if (null == book)
        {
            return;
        }

        long remaining = order.quantity;
        int fills = 0;
        final boolean buy = OrderBook.BUY == order.side;
        for (final Map.Entry<Long, ArrayDeque<OrderBook.Order>> level : book.opposite((int)order.side).entrySet())
        {
            final long price = level.getKey();
            if (buy ? price > order.price : price < order.price)
            {
                break;
            }
            for (final OrderBook.Order maker : level.getValue())
            {
                final long quantity = Math.min(remaining, maker.remaining());
                decision.emit(order.book, trade.set(order.book, maker.id(), order.orderId, price, quantity));
                remaining -= quantity;
                fills++;
                if (0 == remaining)
                {
                    return;
                }
                if (MAX_FILLS == fills)
                {
                    decision.emit(order.book, cancelled.set(order.book, order.orderId, remaining));
                    return;
                }
            }
        }
    }
}
