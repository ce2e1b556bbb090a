package io.keel.examples.ledger;

import io.keel.engine.CommandHandler;
import io.keel.engine.CommandOutcome;
import io.keel.engine.CommandResult;
import io.keel.engine.Domain;
import io.keel.engine.Engine;
import io.keel.engine.Rejection;
import io.keel.journal.JournalFrame;
import io.keel.journal.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.keel.examples.ledger.LedgerTestSupport.await;
import static io.keel.examples.ledger.LedgerTestSupport.awaitCondition;
import static io.keel.examples.ledger.LedgerTestSupport.balance;
import static io.keel.examples.ledger.LedgerTestSupport.context;
import static io.keel.examples.ledger.LedgerTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LedgerEngineTest
{
    @TempDir
    Path dir;

    @Test
    void retriedCommandReturnsOriginalResultAndIsAppliedOnce()
    {
        try (Engine engine = Engine.launch(context(dir)))
        {
            run(engine, 1, 1, new OpenAccount().set(10, 100));
            final CommandOutcome first = run(engine, 1, 2, new Deposit().set(10, 5));
            final CommandOutcome retry = run(engine, 1, 2, new Deposit().set(10, 5));
            assertEquals(new CommandOutcome.Accepted(((CommandOutcome.Accepted)first).position(), 1, true), retry);
            assertEquals(105, balance(engine, 10));

            final CommandOutcome rejected = run(engine, 1, 3, new Withdraw().set(10, 1000));
            run(engine, 1, 4, new Deposit().set(10, 10_000));
            assertEquals(new CommandOutcome.Rejected(Ledger.INSUFFICIENT_FUNDS, true),
                run(engine, 1, 3, new Withdraw().set(10, 1000)), "a retried rejection stays rejected");
            assertEquals(new CommandOutcome.Rejected(Ledger.INSUFFICIENT_FUNDS, false), rejected);

            // same command id from another client is a different command
            assertFalse(run(engine, 2, 2, new Deposit().set(10, 5)).duplicate());
            assertEquals(10_110, balance(engine, 10));
            assertEquals(2, engine.counters().duplicates());
        }
    }

    @Test
    void retryAfterRestartIsRecognisedFromTheJournal()
    {
        final long position;
        try (Engine engine = Engine.launch(context(dir)))
        {
            run(engine, 7, 1, new OpenAccount().set(1, 0));
            position = ((CommandOutcome.Accepted)run(engine, 7, 2, new Deposit().set(1, 42))).position();
        }
        try (Engine engine = Engine.launch(context(dir)))
        {
            assertEquals(new CommandOutcome.Accepted(position, 1, true), run(engine, 7, 2, new Deposit().set(1, 42)));
            assertEquals(42, balance(engine, 1));
        }
    }

    @Test
    void retryAfterSnapshotAndRestartIsRecognised()
    {
        try (Engine engine = Engine.launch(context(dir)))
        {
            run(engine, 7, 1, new OpenAccount().set(1, 0));
            run(engine, 7, 2, new Deposit().set(1, 42));
            run(engine, 7, 3, new Withdraw().set(1, 1000));
            await(engine.snapshot());
        }
        try (Engine engine = Engine.launch(context(dir)))
        {
            assertEquals(0, engine.counters().replayedEvents(), "state came from the snapshot");
            assertTrue(run(engine, 7, 2, new Deposit().set(1, 42)).duplicate());
            assertEquals(new CommandOutcome.Rejected(Ledger.INSUFFICIENT_FUNDS, true),
                run(engine, 7, 3, new Withdraw().set(1, 1000)), "rejections are in the snapshot's window");
            assertEquals(42, balance(engine, 1));
        }
    }

    @Test
    void expectedVersionMismatchIsAVersionConflictWithNoEvents()
    {
        try (Engine engine = Engine.launch(context(dir)))
        {
            run(engine, 1, 1, new OpenAccount().set(5, 10));
            run(engine, 1, 2, new Deposit().set(5, 1));
            final long eventsBefore = engine.counters().events();

            assertEquals(new CommandOutcome.VersionConflict(1, 2, false),
                await(engine.submit(1, 3, new Deposit().set(5, 1), 5, 1)));
            assertEquals(eventsBefore, engine.counters().events());
            assertEquals(11, balance(engine, 5));

            assertInstanceOf(CommandOutcome.Accepted.class, await(engine.submit(1, 4, new Deposit().set(5, 1), 5, 2)));
            assertEquals(new CommandOutcome.VersionConflict(0, 3, false),
                await(engine.submit(1, 5, new Withdraw().set(5, 1), 5, 0)));
            assertEquals(12, balance(engine, 5));
        }
    }

    @Test
    void throwingHandlerFailsTheCommandLeavesStateAndKeepsRunning()
    {
        final Domain domain = Ledger.domain();
        final CommandHandler ledger = domain.handler();
        final AtomicBoolean explode = new AtomicBoolean();
        domain.handler((command, decision) ->
        {
            ledger.handle(command, decision); // emits first: the events must be discarded
            if (explode.get())
            {
                throw new IllegalStateException("boom");
            }
        });
        try (Engine engine = Engine.launch(context(dir, domain)))
        {
            run(engine, 1, 1, new OpenAccount().set(1, 100));
            run(engine, 1, 2, new OpenAccount().set(2, 100));
            explode.set(true);
            final CommandOutcome failed = run(engine, 1, 3, new Transfer().set(1, 2, 30));
            assertEquals(new CommandOutcome.Failed("java.lang.IllegalStateException: boom", false), failed);
            run(engine, 1, 4, new Transfer().set(1, 2, 30));
            explode.set(false);

            assertInstanceOf(CommandOutcome.Accepted.class, run(engine, 1, 5, new Deposit().set(1, 1)));
            assertEquals(101, balance(engine, 1));
            assertEquals(100, balance(engine, 2));
            assertEquals(3, engine.counters().events(), "no event of a failed command was journaled");
            assertEquals(2, engine.counters().errors());
            assertEquals(1, engine.errorLog().lines().filter(l -> l.contains("boom")).count(),
                "the same error is logged once, counted twice: " + engine.errorLog());
            assertTrue(engine.errorLog().startsWith("2 x "), engine.errorLog());
            assertNull(engine.failure());
        }
    }

    @Test
    void transferJournalsAndAppliesBothAccountsAtomically() throws Exception
    {
        try (Engine engine = Engine.launch(context(dir)))
        {
            run(engine, 1, 1, new OpenAccount().set(1, 100));
            run(engine, 1, 2, new OpenAccount().set(2, 5));
            final CommandOutcome.Accepted transfer =
                (CommandOutcome.Accepted)run(engine, 1, 3, new Transfer().set(1, 2, 60));
            assertEquals(2, transfer.eventCount());
            assertEquals(40, balance(engine, 1));
            assertEquals(65, balance(engine, 2));
            assertEquals(new CommandOutcome.Rejected(Ledger.INSUFFICIENT_FUNDS, false),
                run(engine, 1, 4, new Transfer().set(1, 2, 41)));
            assertEquals(new CommandOutcome.Rejected(Ledger.UNKNOWN_ACCOUNT, false),
                run(engine, 1, 5, new Transfer().set(1, 99, 1)));
            assertEquals(40, balance(engine, 1));

            final List<String> frames = new ArrayList<>();
            try (JournalReader reader = engine.journal().reader(engine.journal().startPosition()))
            {
                reader.poll((JournalFrame f) -> frames.add(f.commandId() + ":" + f.streamId() + ":" + f.streamVersion() +
                    ":" + engine.eventCodecs().name(f.type()) + ":" + f.isEndOfGroup()), 100);
            }
            // a rejection is journaled as one outcome frame of its own, on no stream, so a retry after a crash gets it
            assertEquals(List.of("1:1:1:AccountOpened:true", "2:2:1:AccountOpened:true", "3:1:2:Debited:false",
                "3:2:2:Credited:true", "4:0:0:CommandRejected:true", "5:0:0:CommandRejected:true"), frames);
        }
    }

    @Test
    void fullRingIsReportedAtOnceAndEverySubmittedCommandIsAnswered() throws Exception
    {
        final Domain domain = Ledger.domain();
        final CommandHandler ledger = domain.handler();
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch blocked = new CountDownLatch(1);
        domain.handler((command, decision) ->
        {
            if (decision.commandId() == 1)
            {
                blocked.countDown();
                try
                {
                    assertTrue(release.await(LedgerTestSupport.TIMEOUT_SECONDS, TimeUnit.SECONDS));
                }
                catch (final InterruptedException ex)
                {
                    throw new IllegalStateException(ex);
                }
            }
            ledger.handle(command, decision);
        });
        try (Engine engine = Engine.launch(context(dir, domain).ringSize(16)))
        {
            final AtomicInteger answered = new AtomicInteger();
            final List<Long> order = new ArrayList<>();
            final CommandResult.Status[] firstStatus = new CommandResult.Status[1];
            final io.keel.engine.ResponseHandler handler = result ->
            {
                synchronized (order)
                {
                    order.add(result.commandId());
                }
                if (result.commandId() == 1)
                {
                    firstStatus[0] = result.status();
                }
                assertTrue(engine.journal().durablePosition() >= result.position(), "answered before durable");
                answered.incrementAndGet();
            };
            assertEquals(Engine.Submit.SUBMITTED, engine.trySubmit(1, 1, new OpenAccount().set(1, 0), handler));
            assertTrue(blocked.await(LedgerTestSupport.TIMEOUT_SECONDS, TimeUnit.SECONDS));

            final Deposit deposit = new Deposit();
            long commandId = 2;
            Engine.Submit submit;
            while ((submit = engine.trySubmit(1, commandId, deposit.set(1, 1), handler)) == Engine.Submit.SUBMITTED)
            {
                commandId++;
                assertTrue(commandId < 10_000, "the ring never filled");
            }
            assertEquals(Engine.Submit.RING_FULL, submit);
            final long submitted = commandId - 1;
            assertTrue(submitted >= 16, "ring of 16 took " + submitted);
            assertEquals(1, engine.counters().ringFull());

            release.countDown();
            awaitCondition("all answers", () -> answered.get() == submitted);
            assertEquals(CommandResult.Status.ACCEPTED, firstStatus[0]);
            final List<Long> expected = new ArrayList<>();
            for (long id = 1; id <= submitted; id++)
            {
                expected.add(id);
            }
            synchronized (order)
            {
                assertEquals(expected, order, "answers in command order");
            }
            assertEquals(submitted - 1, balance(engine, 1));
        }
    }

    @Test
    void unknownAndMalformedCommandsAreRejected()
    {
        try (Engine engine = Engine.launch(context(dir)))
        {
            final org.agrona.concurrent.UnsafeBuffer bytes = new org.agrona.concurrent.UnsafeBuffer(new byte[16]);
            final CommandResult.Status[] status = new CommandResult.Status[2];
            final Rejection[] rejection = new Rejection[2];
            final AtomicInteger answered = new AtomicInteger();
            engine.trySubmitEncoded(1, 1, 999, bytes, 0, 4, 0, Engine.ANY_VERSION, r ->
            {
                status[0] = r.status();
                rejection[0] = r.rejection();
                answered.incrementAndGet();
            });
            bytes.putByte(0, (byte)0x80); // stop-bit continuation with nothing after it
            engine.trySubmitEncoded(1, 2, Ledger.DEPOSIT, bytes, 0, 1, 0, Engine.ANY_VERSION, r ->
            {
                status[1] = r.status();
                rejection[1] = r.rejection();
                answered.incrementAndGet();
            });
            awaitCondition("answers", () -> answered.get() == 2);
            assertEquals(Rejection.UNKNOWN_COMMAND, rejection[0]);
            assertEquals(Rejection.MALFORMED_COMMAND, rejection[1]);
            assertEquals(CommandResult.Status.REJECTED, status[1]);
            assertInstanceOf(CommandOutcome.Accepted.class, run(engine, 1, 3, new OpenAccount().set(1, 1)));
        }
    }

    @Test
    void timeTravelRebuildsAnAccountAsOfAVersionOrATime()
    {
        try (Engine engine = Engine.launch(context(dir)))
        {
            run(engine, 1, 1, new OpenAccount().set(3, 10));
            run(engine, 1, 2, new Deposit().set(3, 5));
            run(engine, 1, 3, new Withdraw().set(3, 7));
            final long[] versionTwoTimestampNs = new long[1];
            try (JournalReader reader = engine.journal().reader(engine.journal().startPosition()))
            {
                reader.poll((JournalFrame f) ->
                {
                    if (f.streamVersion() == 2)
                    {
                        versionTwoTimestampNs[0] = f.timestampNs();
                    }
                }, 100);
            }

            assertEquals(10, account(await(engine.aggregateAt(3, 1))).balance());
            assertEquals(15, account(await(engine.aggregateAt(3, 2))).balance());
            assertEquals(8, account(await(engine.aggregateAt(3, 99))).balance());
            assertEquals(Optional.empty(), await(engine.aggregateAt(4, 1)));
            assertEquals(Optional.empty(), await(engine.aggregateAsOf(3, 0)));
            assertEquals(15, account(await(engine.aggregateAsOf(3, versionTwoTimestampNs[0]))).balance());
            assertEquals(8, account(await(engine.aggregateAsOf(3, Long.MAX_VALUE))).balance());
        }
    }

    @Test
    void answersWaitForTheReleaseGate()
    {
        final java.util.concurrent.atomic.AtomicLong acked = new java.util.concurrent.atomic.AtomicLong();
        try (Engine engine = Engine.launch(context(dir).releaseGate(durable -> Math.min(durable, acked.get()))))
        {
            final java.util.concurrent.CompletableFuture<CommandOutcome> open =
                engine.submit(1, 1, new OpenAccount().set(1, 5));
            awaitCondition("the command is durable", () -> engine.counters().durablePosition() > 0);
            await(engine.query(1, a -> a)); // a full duty cycle after the batch that made it durable
            assertFalse(open.isDone(), "answered before the gate let it through");

            acked.set(engine.counters().durablePosition());
            assertInstanceOf(CommandOutcome.Accepted.class, await(open));
        }
    }

    private static Account account(final Optional<io.keel.engine.Aggregate> aggregate)
    {
        return (Account)aggregate.orElseThrow();
    }
}
