package io.keel.examples.orderbook;

import io.keel.engine.Domain;
import io.keel.engine.EventCodecs;
import io.keel.engine.Rejection;

/**
 * The order book domain: one limit order book per instrument (stream id = book id), price-time matching, fills
 * as {@link Trade} events. Type ids do not overlap the ledger's, so one registry can render both journals.
 */
public final class OrderBooks
{
    /** Command type id of {@link PlaceOrder}. */
    public static final int PLACE_ORDER = 11;
    /** Command type id of {@link CancelOrder}. */
    public static final int CANCEL_ORDER = 12;

    /** Event type id of {@link OrderPlaced}. */
    public static final int ORDER_PLACED = 11;
    /** Event type id of {@link Trade}. */
    public static final int TRADE = 12;
    /** Event type id of {@link OrderCancelled}. */
    public static final int ORDER_CANCELLED = 13;

    /** Side, price, quantity or id out of range. */
    public static final Rejection INVALID_ORDER = Rejection.define(200, "INVALID_ORDER");
    /** An order with this id is already resting. */
    public static final Rejection DUPLICATE_ORDER = Rejection.define(201, "DUPLICATE_ORDER");
    /** No resting order with this id. */
    public static final Rejection UNKNOWN_ORDER = Rejection.define(202, "UNKNOWN_ORDER");

    private OrderBooks()
    {
    }

    /**
     * @return a new order book domain (one per engine).
     */
    public static Domain domain()
    {
        final Domain domain = new Domain()
            .command(PLACE_ORDER, PlaceOrder.class, PlaceOrder::new)
            .command(CANCEL_ORDER, CancelOrder.class, CancelOrder::new)
            .aggregates(streamId -> new OrderBook())
            .handler(new OrderBookHandler());
        registerEvents(domain.events());
        return domain;
    }

    /**
     * Register the order book's event types, e.g. for a journal dump tool.
     *
     * @param events registry to fill.
     * @return the registry.
     */
    public static EventCodecs registerEvents(final EventCodecs events)
    {
        return events
            .register(ORDER_PLACED, OrderPlaced.class, OrderPlaced::new)
            .register(TRADE, Trade.class, Trade::new)
            .register(ORDER_CANCELLED, OrderCancelled.class, OrderCancelled::new);
    }
}
