package io.keel.examples.ledger;

import io.keel.engine.CommandOutcome;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.journal.JournalException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.keel.examples.ledger.LedgerTestSupport.await;
import static io.keel.examples.ledger.LedgerTestSupport.balances;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Journal retention on a running engine: segments the oldest kept snapshot covers are deleted, so the disk holds a
 * bounded log; state survives restarts (snapshot + the retained journal), including accounts whose whole history
 * was deleted; commands on them go on; time travel says what is no longer retained; and a journal whose start no
 * snapshot covers is refused, naming the journal.
 */
class LedgerRetentionTest
{
    private static final int QUIET_ACCOUNTS = 10;
    private static final int BUSY_ACCOUNTS = 10;

    @TempDir
    Path dir;

    private EngineContext context()
    {
        final EngineContext context = LedgerTestSupport.context(dir).journalRetention(true).snapshotEveryEvents(400)
            .snapshotRetainCount(2);
        context.journalContext().segmentSizeBytes(128 * 1024);
        return context;
    }

    @Test
    void coveredSegmentsAreDeletedAndStateSurvivesRestartsIncludingStreamsWhoseHistoryIsGone() throws Exception
    {
        final Map<Long, Long> before;
        final long start;
        long commandId = 1;
        try (Engine engine = Engine.launch(context()))
        {
            for (int a = 1; a <= QUIET_ACCOUNTS + BUSY_ACCOUNTS; a++)
            {
                assertInstanceOf(CommandOutcome.Accepted.class, LedgerTestSupport.run(engine, 1, commandId++,
                    new OpenAccount().set(a, 1_000)));
            }
            for (int i = 0; i < 10_000; i++)
            {
                final long busy = QUIET_ACCOUNTS + 1 + (i % BUSY_ACCOUNTS);
                submit(engine, commandId++, new Deposit().set(busy, 1));
            }
            commandId = submitUntil(engine, commandId,
                id -> new Deposit().set(QUIET_ACCOUNTS + 1 + (id % BUSY_ACCOUNTS), 1), "segments deleted after snapshots",
                () -> engine.journal().startPosition() > 0 && engine.counters().snapshots() >= 3);
            start = engine.journal().startPosition();
            assertTrue(engine.journal().segmentCount() < 10, "the log is bounded: " +
                engine.journal().segmentCount() + " segments");
            before = balances(engine);
            final ExecutionException ex = assertThrows(ExecutionException.class, () ->
                engine.aggregateAt(1, 1).get(20, TimeUnit.SECONDS));
            assertTrue(ex.getCause().getMessage().contains("no longer retained"), ex.getCause().getMessage());
        }
        try (Engine engine = Engine.launch(context()))
        {
            assertTrue(engine.journal().startPosition() >= start);
            assertEquals(before, balances(engine), "state after restart = state before (quiet accounts included)");
            // an account whose every event was deleted takes new commands, at its next version
            assertInstanceOf(CommandOutcome.Accepted.class, LedgerTestSupport.run(engine, 1, commandId++,
                new Deposit().set(1, 5)));
            assertInstanceOf(CommandOutcome.Accepted.class, LedgerTestSupport.run(engine, 1, commandId++,
                new Transfer().set(2, 1, 7)));
            assertEquals(3, engine.journal().streamIndex().version(1), "opened, deposit, credit");
            before.put(1L, before.get(1L) + 12);
            before.put(2L, before.get(2L) - 7);
            assertEquals(before, balances(engine));
        }
        try (Engine engine = Engine.launch(context()))
        {
            assertEquals(before, balances(engine), "and again after a second restart");
        }
    }

    @Test
    void retentionKeepsEverythingFromTheFloorOn() throws Exception
    {
        final java.util.concurrent.atomic.AtomicLong floor = new java.util.concurrent.atomic.AtomicLong(0);
        long commandId = 1;
        try (Engine engine = Engine.launch(context().retentionFloor(floor::get)))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, LedgerTestSupport.run(engine, 1, commandId++,
                new OpenAccount().set(1, 0)));
            for (int i = 0; i < 4_000; i++)
            {
                submit(engine, commandId++, new Deposit().set(1, 1));
            }
            LedgerTestSupport.awaitCondition("snapshots taken", () -> engine.counters().snapshots() >= 3);
            assertEquals(0, engine.journal().startPosition(), "a floor at 0 (a standby still at 0) keeps it all");
            floor.set(Long.MAX_VALUE); // the standby caught up, or went away
            // the next snapshot applies retention
            submitUntil(engine, commandId, id -> new Deposit().set(1, 1), "segments deleted once the floor moved",
                () -> engine.journal().startPosition() > 0);
        }
    }

    @Test
    void aJournalWhoseStartNoSnapshotCoversIsRefusedNamingIt() throws Exception
    {
        long commandId = 1;
        try (Engine engine = Engine.launch(context()))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, LedgerTestSupport.run(engine, 1, commandId++,
                new OpenAccount().set(1, 0)));
            for (int i = 0; i < 4_000; i++)
            {
                submit(engine, commandId++, new Deposit().set(1, 1));
            }
            submitUntil(engine, commandId, id -> new Deposit().set(1, 1), "segments deleted",
                () -> engine.journal().startPosition() > 0);
        }
        try (Stream<Path> files = Files.list(dir.resolve("journal").resolve("snapshots")))
        {
            for (final Path file : (Iterable<Path>)files::iterator)
            {
                if (Files.isRegularFile(file))
                {
                    Files.delete(file);
                }
            }
        }
        final JournalException ex = assertThrows(JournalException.class, () -> Engine.launch(context()));
        assertTrue(ex.getMessage().contains(dir.resolve("journal").toString()) &&
            ex.getMessage().contains("no usable snapshot"), ex.getMessage());
    }

    /**
     * Go on submitting until the condition holds (60 s at most). Snapshots are written by their own thread and one is
     * skipped while the last is still being written, so on a busy machine the snapshots kept after a fixed number of
     * commands may not yet cover a whole segment: more commands bring the next snapshots.
     *
     * @return the next command id.
     */
    private static long submitUntil(final Engine engine, final long firstCommandId,
        final java.util.function.LongFunction<io.keel.engine.Command> command, final String what,
        final java.util.function.BooleanSupplier condition) throws Exception
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long commandId = firstCommandId;
        while (true)
        {
            final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (System.nanoTime() < until)
            {
                if (condition.getAsBoolean())
                {
                    return commandId;
                }
                Thread.yield();
            }
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            for (int i = 0; i < 500; i++)
            {
                submit(engine, commandId, command.apply(commandId));
                commandId++;
            }
        }
    }

    private static void submit(final Engine engine, final long commandId, final io.keel.engine.Command command)
        throws IOException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        CompletableFuture<CommandOutcome> answer;
        while ((answer = engine.submit(2, commandId, command)).isCompletedExceptionally())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new IOException("the ring stayed full for 20 s");
            }
            Thread.onSpinWait();
        }
        if (commandId % 500 == 0)
        {
            await(answer);
        }
    }
}
