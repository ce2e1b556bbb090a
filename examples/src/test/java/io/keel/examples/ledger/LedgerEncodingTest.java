package io.keel.examples.ledger;

import io.keel.engine.Event;
import io.keel.engine.EventCodecs;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal form of every ledger event is at least 60% smaller than the same event as JSON, and tools can
 * turn a frame's (type, payload) back into the event's name and fields.
 */
class LedgerEncodingTest
{
    private final EventCodecs codecs = Ledger.registerEvents(new EventCodecs());

    @Test
    void compactBinaryIsAtLeastSixtyPercentSmallerThanJson()
    {
        final List<Event> events = List.of(
            new AccountOpened().set(120_045, 1_000_000),
            new Deposited().set(120_045, 25_000),
            new Withdrawn().set(120_045, 1_999),
            new Debited().set(120_045, 50_000, 9_876_543),
            new Credited().set(77, 50_000, 9_876_543));
        long binaryTotal = 0;
        long jsonTotal = 0;
        for (final Event event : events)
        {
            final int binary = EventCodecs.encode(event).length;
            final String json = EventCodecs.toJson(event);
            final int jsonLength = json.getBytes(StandardCharsets.UTF_8).length;
            final double saving = 100.0 * (jsonLength - binary) / jsonLength;
            System.out.printf("%-14s binary %2d B, JSON %2d B (%s): %.0f%% smaller%n",
                event.getClass().getSimpleName(), binary, jsonLength, json, saving);
            assertTrue(saving >= 60, event + " is only " + saving + "% smaller");
            binaryTotal += binary;
            jsonTotal += jsonLength;
        }
        System.out.printf("all ledger events: binary %d B vs JSON %d B: %.0f%% smaller%n", binaryTotal, jsonTotal,
            100.0 * (jsonTotal - binaryTotal) / jsonTotal);
    }

    @Test
    void framePayloadRendersAsNameAndFields()
    {
        final byte[] payload = EventCodecs.encode(new Debited().set(3, 250, 42));
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[payload.length + 10]);
        frame.putBytes(10, payload);

        final EventCodecs.RenderedEvent rendered = codecs.render(Ledger.DEBITED, frame, 10, payload.length);
        assertEquals("Debited", rendered.name());
        assertEquals(Map.of("account", 3L, "amount", 250L, "transfer", 42L), rendered.fields());
        assertEquals("{\"account\":3,\"amount\":250,\"transfer\":42}", rendered.json());
        assertEquals("account: 3\namount: 250\ntransfer: 42", rendered.yaml());
    }
}
