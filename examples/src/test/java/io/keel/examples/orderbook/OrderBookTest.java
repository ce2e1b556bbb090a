package io.keel.examples.orderbook;

import io.keel.engine.Aggregate;
import io.keel.engine.CommandOutcome;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalFrame;
import io.keel.journal.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrderBookTest
{
    private static final long BOOK = 1;

    @TempDir
    Path dir;

    private EngineContext context()
    {
        return new EngineContext()
            .domain(OrderBooks.domain())
            .ringSize(1024)
            .idempotencyWindow(1 << 14)
            .journalContext(new JournalContext().dir(dir.resolve("journal")).segmentSizeBytes(4 << 20)
                .maxFrameLengthBytes(64 * 1024).stagingBufferBytes(1 << 20).readBufferBytes(256 * 1024)
                .durability(DurabilityPolicy.BATCH));
    }

    private static <T> T await(final CompletableFuture<T> future) throws Exception
    {
        return future.get(20, TimeUnit.SECONDS);
    }

    private static CompletableFuture<CommandOutcome> submit(final Engine engine, final long commandId,
        final io.keel.engine.Command command)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        CompletableFuture<CommandOutcome> answer;
        while ((answer = engine.submit(2, commandId, command)).isCompletedExceptionally())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("ring stayed full for 20 s: " + engine.failure());
            }
            Thread.yield(); // ring full: the command was not queued, send it again
        }
        return answer;
    }

    private static String book(final Engine engine) throws Exception
    {
        return await(engine.query(BOOK, (Aggregate a) -> String.valueOf(a)));
    }

    @Test
    void matchesByPriceThenTimeAndJournalsFillsAsTrades() throws Exception
    {
        try (Engine engine = Engine.launch(context()))
        {
            final PlaceOrder place = new PlaceOrder();
            await(engine.submit(1, 1, place.set(BOOK, 101, OrderBook.SELL, 105, 10)));
            await(engine.submit(1, 2, place.set(BOOK, 102, OrderBook.SELL, 103, 5)));
            await(engine.submit(1, 3, place.set(BOOK, 103, OrderBook.SELL, 103, 5)));
            await(engine.submit(1, 4, place.set(BOOK, 104, OrderBook.BUY, 100, 7)));

            // buy 12 @ 105: takes 102 (5 @ 103, earliest at the best price), then 103 (5 @ 103), then 2 of 101 @ 105
            final CommandOutcome.Accepted taker =
                (CommandOutcome.Accepted)await(engine.submit(1, 5, place.set(BOOK, 105, OrderBook.BUY, 105, 12)));
            assertEquals(4, taker.eventCount(), "OrderPlaced + 3 trades");
            assertEquals("OrderBook{trades=3, traded=12, bids=[100:104x7 ], asks=[105:101x8 ]}", book(engine));

            assertInstanceOf(CommandOutcome.Accepted.class, await(engine.submit(1, 6, new CancelOrder().set(BOOK, 101))));
            assertEquals(new CommandOutcome.Rejected(OrderBooks.UNKNOWN_ORDER, false),
                await(engine.submit(1, 7, new CancelOrder().set(BOOK, 101))));
            assertEquals(new CommandOutcome.Rejected(OrderBooks.DUPLICATE_ORDER, false),
                await(engine.submit(1, 8, place.set(BOOK, 104, OrderBook.SELL, 101, 1))));
            assertEquals("OrderBook{trades=3, traded=12, bids=[100:104x7 ], asks=[]}", book(engine));

            final List<String> trades = new ArrayList<>();
            try (JournalReader reader = engine.journal().reader(engine.journal().startPosition()))
            {
                reader.poll((JournalFrame f) ->
                {
                    if (f.type() == OrderBooks.TRADE)
                    {
                        final byte[] payload = new byte[f.payloadLength()];
                        f.buffer().getBytes(f.payloadOffset(), payload);
                        trades.add(f.commandId() + " " + io.keel.engine.EventCodecs.toJson(
                            engine.eventCodecs().decode(f.type(), payload)));
                    }
                }, 100);
            }
            assertEquals(List.of(
                "5 {\"book\":1,\"makerOrderId\":102,\"takerOrderId\":105,\"price\":103,\"quantity\":5}",
                "5 {\"book\":1,\"makerOrderId\":103,\"takerOrderId\":105,\"price\":103,\"quantity\":5}",
                "5 {\"book\":1,\"makerOrderId\":101,\"takerOrderId\":105,\"price\":105,\"quantity\":2}"), trades);
        }
    }

    @Test
    void randomFlowKeepsTheBookUncrossedAndRecoversToTheSameBook() throws Exception
    {
        final String live;
        final Random random = new Random(5);
        try (Engine engine = Engine.launch(context()))
        {
            final List<CompletableFuture<CommandOutcome>> answers = new ArrayList<>();
            long placedQuantity = 0;
            for (long id = 1; id <= 3_000; id++)
            {
                if (random.nextInt(5) == 0)
                {
                    answers.add(submit(engine, id, new CancelOrder().set(BOOK, 1 + random.nextInt((int)id))));
                }
                else
                {
                    final long quantity = 1 + random.nextInt(50);
                    answers.add(submit(engine, id, new PlaceOrder().set(BOOK, id, random.nextInt(2),
                        95 + random.nextInt(11), quantity)));
                    placedQuantity += quantity;
                }
                if (id == 1_500)
                {
                    await(engine.snapshot());
                }
            }
            for (final CompletableFuture<CommandOutcome> answer : answers)
            {
                assertTrue(await(answer) instanceof CommandOutcome.Accepted ||
                    await(answer) instanceof CommandOutcome.Rejected);
            }
            final boolean uncrossed = await(engine.query(BOOK, a -> ((OrderBook)a).isUncrossed()));
            assertTrue(uncrossed, "best bid below best ask");
            final long traded = await(engine.query(BOOK, a -> ((OrderBook)a).tradedQuantity()));
            assertTrue(traded > 0);
            live = book(engine);
        }
        try (Engine engine = Engine.launch(context()))
        {
            assertTrue(engine.counters().replayedEvents() > 0);
            assertEquals(live, book(engine), "snapshot + replay gives the same book");
        }
    }
}
