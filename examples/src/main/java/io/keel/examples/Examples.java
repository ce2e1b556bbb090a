package io.keel.examples;

import io.keel.engine.EventCodecs;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.orderbook.OrderBooks;

/**
 * Entry points for tools: every example event type in one registry, so {@code ./keel journal dump} can render
 * the payloads of either example's journal.
 */
public final class Examples
{
    private Examples()
    {
    }

    /**
     * @return a registry holding the ledger's and the order book's event types.
     */
    public static EventCodecs eventCodecs()
    {
        return OrderBooks.registerEvents(Ledger.registerEvents(new EventCodecs()));
    }
}
