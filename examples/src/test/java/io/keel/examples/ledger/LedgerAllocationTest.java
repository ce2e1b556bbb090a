package io.keel.examples.ledger;

import io.keel.engine.Command;
import io.keel.engine.CommandResult;
import io.keel.engine.Engine;
import io.keel.engine.ResponseHandler;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import static io.keel.examples.ledger.LedgerTestSupport.awaitCondition;
import static io.keel.examples.ledger.LedgerTestSupport.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The business-logic thread allocates nothing per command in steady state on the paths the engine owns
 * (decode, dedupe, decide, reject, remember, answer). Accepted commands also grow the journal's stream index,
 * whose amortised array growth is reported, not asserted.
 */
class LedgerAllocationTest
{
    private static final int ACCOUNTS = 8;
    private static final int COMMANDS = 100_000;

    @TempDir
    Path dir;

    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final ResponseHandler handler = (CommandResult result) ->
    {
        if (result.status() == CommandResult.Status.REJECTED)
        {
            rejected.lazySet(rejected.get() + 1);
        }
        answered.lazySet(answered.get() + 1);
    };

    @ParameterizedTest(name = "counters in a shared manager and latency histogram: {0}")
    @ValueSource(booleans = {false, true})
    void rejectedAndRetriedCommandsAllocateNothingOnTheBusinessThread(final boolean observed)
    {
        final org.agrona.concurrent.status.CountersManager counters = !observed ? null :
            new org.agrona.concurrent.status.CountersManager(
                new org.agrona.concurrent.UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(64 * 1024)),
                new org.agrona.concurrent.UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(16 * 1024)));
        try (Engine engine = Engine.launch(context(dir).ringSize(4096).idempotencyWindow(1 << 12)
            .countersManager(counters).recordLatency(observed)))
        {
            final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
            final long businessThreadId = businessThreadId();
            long commandId = 0;
            for (int account = 1; account <= ACCOUNTS; account++)
            {
                commandId = send(engine, commandId, new OpenAccount().set(account, 10));
            }
            final Withdraw withdraw = new Withdraw();
            final Deposit deposit = new Deposit();
            // warm up every path: accepted, rejected, duplicate
            for (int i = 0; i < COMMANDS / 2; i++)
            {
                commandId = send(engine, commandId, withdraw.set(1 + i % ACCOUNTS, 1_000));
                commandId = send(engine, commandId, deposit.set(1 + i % ACCOUNTS, 1));
            }
            awaitAnswers(commandId);

            final long rejectedBefore = rejected.get();
            final long before = threads.getThreadAllocatedBytes(businessThreadId);
            final long first = commandId;
            for (int i = 0; i < COMMANDS; i++)
            {
                commandId = send(engine, commandId, withdraw.set(1 + i % ACCOUNTS, 1_000_000));
            }
            for (int i = 0; i < COMMANDS; i++)
            {
                // retries of the most recent rejections: answered from the idempotency window
                resend(engine, commandId - (i % 1000), withdraw.set(1, 1_000_000));
            }
            awaitAnswers(commandId + COMMANDS);
            final long rejectedAndRetried = threads.getThreadAllocatedBytes(businessThreadId) - before;
            assertEquals(2L * COMMANDS, rejected.get() - rejectedBefore);
            if (observed)
            {
                assertTrue(engine.counters().latencyInterval(null).getTotalCount() >= 2L * COMMANDS,
                    "latency recorded for every answer");
            }
            assertTrue(commandId > first);

            final long beforeAccepted = threads.getThreadAllocatedBytes(businessThreadId);
            for (int i = 0; i < COMMANDS; i++)
            {
                commandId = send(engine, commandId, deposit.set(1 + i % ACCOUNTS, 1));
            }
            awaitAnswers(commandId + COMMANDS);
            final long accepted = threads.getThreadAllocatedBytes(businessThreadId) - beforeAccepted;

            System.out.printf("business thread: %d bytes for %d rejected + retried commands; %.1f bytes per " +
                "accepted command (journal stream index growth)%n", rejectedAndRetried, 2 * COMMANDS,
                (double)accepted / COMMANDS);
            // one allocation per command would be >= 16 bytes x 200,000 = 3.2 MB; allow one-off JIT/runtime noise
            assertTrue(rejectedAndRetried < 64 * 1024,
                "business thread allocated " + rejectedAndRetried + " bytes for " + 2 * COMMANDS + " commands");
        }
    }

    private long send(final Engine engine, final long lastCommandId, final Command command)
    {
        resend(engine, lastCommandId + 1, command);
        return lastCommandId + 1;
    }

    private void resend(final Engine engine, final long commandId, final Command command)
    {
        final long deadlineNs = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (engine.trySubmit(1, commandId, command, handler) != Engine.Submit.SUBMITTED)
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("ring stayed full for 20 s: " + engine.failure());
            }
            Thread.onSpinWait();
        }
    }

    private void awaitAnswers(final long count)
    {
        awaitCondition(count + " answers", () -> answered.get() >= count);
    }

    private static long businessThreadId()
    {
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            if (thread.getName().equals("keel-business-logic"))
            {
                return thread.getId();
            }
        }
        throw new IllegalStateException("no business-logic thread");
    }
}
