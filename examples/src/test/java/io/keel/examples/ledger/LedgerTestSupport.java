package io.keel.examples.ledger;

import io.keel.engine.Aggregate;
import io.keel.engine.CommandOutcome;
import io.keel.engine.Domain;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalContext;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Small, fast engine set-ups and helpers for ledger tests.
 */
final class LedgerTestSupport
{
    static final long TIMEOUT_SECONDS = 20;

    private LedgerTestSupport()
    {
    }

    static JournalContext journal(final Path dir)
    {
        return new JournalContext()
            .dir(dir.resolve("journal"))
            .segmentSizeBytes(4 << 20)
            .maxFrameLengthBytes(64 * 1024)
            .stagingBufferBytes(1 << 20)
            .readBufferBytes(256 * 1024)
            .durability(DurabilityPolicy.BATCH);
    }

    static EngineContext context(final Path dir)
    {
        return context(dir, Ledger.domain());
    }

    static EngineContext context(final Path dir, final Domain domain)
    {
        return new EngineContext()
            .domain(domain)
            .ringSize(1024)
            .idempotencyWindow(1 << 14)
            .idleStrategyName("backoff")
            .journalContext(journal(dir));
    }

    static <T> T await(final CompletableFuture<T> future)
    {
        try
        {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        catch (final Exception ex)
        {
            throw new AssertionError("no answer within " + TIMEOUT_SECONDS + " s", ex);
        }
    }

    static CommandOutcome run(final Engine engine, final long clientId, final long commandId,
        final io.keel.engine.Command command)
    {
        return await(engine.submit(clientId, commandId, command));
    }

    /**
     * @return account id to balance, read on the business-logic thread.
     */
    static Map<Long, Long> balances(final Engine engine)
    {
        return await(engine.inspect(aggregates ->
        {
            final Map<Long, Long> balances = new TreeMap<>();
            aggregates.forEach((id, aggregate) -> balances.put(id, ((Account)aggregate).balance()));
            return balances;
        }));
    }

    static long balance(final Engine engine, final long account)
    {
        return await(engine.query(account, (Aggregate a) -> null == a ? -1L : ((Account)a).balance()));
    }

    static void awaitCondition(final String what, final BooleanSupplier condition)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
