package io.keel.examples.ledger;

import io.keel.engine.CommandOutcome;
import io.keel.engine.CommandRejected;
import io.keel.engine.Domain;
import io.keel.engine.Engine;
import io.keel.engine.EventCodecs;
import io.keel.engine.Rejection;
import io.keel.examples.Examples;
import io.keel.journal.JournalAppender;
import io.keel.journal.JournalFrame;
import io.keel.journal.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.keel.examples.ledger.LedgerTestSupport.await;
import static io.keel.examples.ledger.LedgerTestSupport.awaitCondition;
import static io.keel.examples.ledger.LedgerTestSupport.balances;
import static io.keel.examples.ledger.LedgerTestSupport.context;
import static io.keel.examples.ledger.LedgerTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rejected (or failed) command keeps its original answer for every retry: live, after a restart that replays
 * the journal past the last snapshot, after a snapshot, and on a follower that takes over. Each retry below would be
 * accepted if it were decided again.
 */
class LedgerRejectionMemoryTest
{
    private static final long CLIENT = 3;
    private static final long BOOM = 13; // a withdrawal of this amount makes the handler throw

    @TempDir
    Path dir;

    @Test
    void rejectionDecidedAfterTheLastSnapshotIsTheAnswerToARetryAfterRestart()
    {
        final Map<Long, Long> before;
        try (Engine engine = Engine.launch(context(dir, domain())))
        {
            decideOutcomes(engine, false);
            before = balances(engine);
        }
        try (Engine engine = Engine.launch(context(dir, domain())))
        {
            assertEquals(before, balances(engine));
            makeEveryRetryAcceptable(engine);
            assertOriginalOutcomes(engine);
        }
        try (Engine engine = Engine.launch(context(dir, domain())))
        {
            assertOriginalOutcomes(engine); // and again after the retries themselves were replayed
        }
    }

    @Test
    void rejectionIsTheAnswerToARetryAfterASnapshotAndRestart()
    {
        try (Engine engine = Engine.launch(context(dir, domain())))
        {
            decideOutcomes(engine, true); // half decided before the snapshot, half after
        }
        try (Engine engine = Engine.launch(context(dir, domain())))
        {
            assertTrue(engine.counters().replayedEvents() < 4, "replayed after the snapshot: " +
                engine.counters().replayedEvents());
            makeEveryRetryAcceptable(engine);
            await(engine.snapshot()); // the retries' answers come from a snapshot now
        }
        try (Engine engine = Engine.launch(context(dir, domain())))
        {
            assertOriginalOutcomes(engine);
        }
    }

    @Test
    void followerRemembersReplicatedRejectionsAndAnswersRetriesWithThemAfterTakingOver() throws Exception
    {
        final Path primaryDir = dir.resolve("primary");
        try (Engine primary = Engine.launch(context(primaryDir, domain()));
            Engine follower = Engine.launch(context(dir.resolve("follower"), domain()).startAsFollower(true)))
        {
            decideOutcomes(primary, false);
            // what the replication layer does: append the primary's frames, byte for byte, to the follower's journal
            final JournalAppender appender = follower.journal().appender();
            try (JournalReader reader = primary.journal().reader(primary.journal().startPosition()))
            {
                while (reader.poll((JournalFrame f) -> appender.appendFramed(f.buffer(), f.offset(), f.alignedLength()),
                    100) > 0)
                {
                    // copy every frame
                }
            }
            final long end = appender.flush();
            assertEquals(primary.journal().committedPosition(), end);
            awaitCondition("the follower applies the replicated journal", () -> follower.appliedPosition() == end);

            assertEquals(end, await(follower.lead(2, false, Long.MAX_VALUE)));
            assertEquals(balances(primary), balances(follower));
            makeEveryRetryAcceptable(follower);
            assertOriginalOutcomes(follower);
        }
    }

    @Test
    void journalHoldsOneCompactOutcomeFramePerRejectionThatToolsRender()
    {
        try (Engine engine = Engine.launch(context(dir, domain())))
        {
            decideOutcomes(engine, false);
            // retries are answered from the window: no more frames
            assertOriginalOutcomes(engine);
            final EventCodecs codecs = Examples.eventCodecs();
            final List<String> frames = new ArrayList<>();
            try (JournalReader reader = engine.journal().reader(engine.journal().startPosition()))
            {
                reader.poll((JournalFrame f) ->
                {
                    if (f.type() == CommandRejected.TYPE_ID)
                    {
                        final EventCodecs.RenderedEvent rendered =
                            codecs.render(f.type(), f.buffer(), f.payloadOffset(), f.payloadLength());
                        frames.add(f.commandId() + " " + f.streamId() + " " + f.isEndOfGroup() + " " +
                            f.alignedLength() + " " + rendered.name() + " " + rendered.fields());
                    }
                }, 100);
            }
            assertEquals(List.of(
                "3 0 true 96 CommandRejected {code=101, reason=INSUFFICIENT_FUNDS, expectedVersion=0, actualVersion=0, " +
                    "detail=}",
                "4 0 true 96 CommandRejected {code=1, reason=VERSION_CONFLICT, expectedVersion=2, actualVersion=1, " +
                    "detail=}",
                "5 0 true 136 CommandRejected {code=0, reason=FAILED, expectedVersion=0, actualVersion=0, " +
                    "detail=java.lang.IllegalStateException: boom}",
                "6 0 true 96 CommandRejected {code=100, reason=UNKNOWN_ACCOUNT, expectedVersion=0, actualVersion=0, " +
                    "detail=}"), frames);
        }
    }

    @Test
    void noDomainCanRegisterOrEmitTheReservedType()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new Domain().event(CommandRejected.TYPE_ID, Deposited.class, Deposited::new));
        assertTrue(ex.getMessage().contains("reserved"), ex.getMessage());
        assertEquals("CommandRejected", new EventCodecs().name(CommandRejected.TYPE_ID));
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** The ledger, with a handler that throws for a withdrawal of {@link #BOOM}. */
    private static Domain domain()
    {
        final Domain domain = Ledger.domain();
        final io.keel.engine.CommandHandler ledger = domain.handler();
        return domain.handler((command, decision) ->
        {
            if (command instanceof Withdraw withdraw && withdraw.amount == BOOM)
            {
                throw new IllegalStateException("boom");
            }
            ledger.handle(command, decision);
        });
    }

    /**
     * Accounts 1 (balance 10) and 2; then four commands that are refused: 3 a transfer beyond the balance, 4 a
     * deposit expecting version 2 of account 1 (at 1), 5 a withdrawal whose handler throws, 6 a deposit to account 9.
     */
    private static void decideOutcomes(final Engine engine, final boolean snapshotHalfway)
    {
        assertInstanceOf(CommandOutcome.Accepted.class, run(engine, CLIENT, 1, new OpenAccount().set(1, 10)));
        assertInstanceOf(CommandOutcome.Accepted.class, run(engine, CLIENT, 2, new OpenAccount().set(2, 0)));
        assertEquals(new CommandOutcome.Rejected(Ledger.INSUFFICIENT_FUNDS, false),
            run(engine, CLIENT, 3, new Transfer().set(1, 2, 50)));
        assertEquals(new CommandOutcome.VersionConflict(2, 1, false),
            await(engine.submit(CLIENT, 4, new Deposit().set(1, 1), 1, 2)));
        if (snapshotHalfway)
        {
            await(engine.snapshot());
        }
        assertEquals(new CommandOutcome.Failed("java.lang.IllegalStateException: boom", false),
            run(engine, CLIENT, 5, new Withdraw().set(1, BOOM)));
        assertEquals(new CommandOutcome.Rejected(Ledger.UNKNOWN_ACCOUNT, false),
            run(engine, CLIENT, 6, new Deposit().set(9, 1)));
    }

    /** Deposit 100 to account 1 and open account 9: each refused command would now be accepted. */
    private static void makeEveryRetryAcceptable(final Engine engine)
    {
        assertInstanceOf(CommandOutcome.Accepted.class, run(engine, CLIENT, 100, new Deposit().set(1, 100)));
        assertInstanceOf(CommandOutcome.Accepted.class, run(engine, CLIENT, 101, new OpenAccount().set(9, 0)));
    }

    /** Retries, each of which would be accepted if decided again, get their original answers as duplicates. */
    private static void assertOriginalOutcomes(final Engine engine)
    {
        final Map<Long, Long> before = balances(engine);
        assertEquals(new CommandOutcome.Rejected(Ledger.INSUFFICIENT_FUNDS, true),
            run(engine, CLIENT, 3, new Transfer().set(1, 2, 50)));
        assertEquals(new CommandOutcome.VersionConflict(2, 1, true),
            await(engine.submit(CLIENT, 4, new Deposit().set(1, 1), 1, 2)));
        assertEquals(new CommandOutcome.Failed("java.lang.IllegalStateException: boom", true),
            run(engine, CLIENT, 5, new Withdraw().set(1, 7)));
        assertEquals(new CommandOutcome.Rejected(Ledger.UNKNOWN_ACCOUNT, true),
            run(engine, CLIENT, 6, new Deposit().set(9, 1)));
        assertEquals(before, balances(engine), "no retry changed anything");
        assertEquals(Rejection.of(101), Ledger.INSUFFICIENT_FUNDS);
    }
}
