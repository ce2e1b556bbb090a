package io.keel.examples.ledger;

import io.keel.engine.CommandOutcome;
import io.keel.engine.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.keel.examples.ledger.LedgerTestSupport.await;
import static io.keel.examples.ledger.LedgerTestSupport.context;
import static io.keel.examples.ledger.LedgerTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An ASYNC primary killed with a tail its standby never received restarts (recovering that tail), rejoins as a
 * standby (the tail is cut, its state rebuilt) and later leads again: what the engine does in a replicated node, the
 * replication layer's part (truncating the journal) done here by hand.
 */
class LedgerRejoinedPrimaryTest
{
    private static final long CLIENT = 5;

    @TempDir
    Path dir;

    @Test
    void formerPrimaryWhoseTailWasCutAnswersAtOnceWhenItLeadsAgain() throws Exception
    {
        final long matched;
        final long recoveredEnd;
        try (Engine primary = Engine.launch(context(dir)))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, run(primary, CLIENT, 1, new OpenAccount().set(1, 100)));
            matched = primary.journal().committedPosition(); // as far as the standby got
            for (long commandId = 2; commandId <= 20; commandId++)
            {
                assertInstanceOf(CommandOutcome.Accepted.class, run(primary, CLIENT, commandId,
                    new Deposit().set(1, 1)));
            }
            recoveredEnd = primary.journal().committedPosition();
        }
        try (Engine node = Engine.launch(context(dir).startAsFollower(true))) // kill -9, restart as a standby
        {
            assertEquals(recoveredEnd, node.journal().committedPosition(), "the divergent tail is recovered first");
            // log matching with the new primary: halt, cut the divergent tail, rebuild and follow
            await(node.haltFollowing());
            node.journal().truncate(matched);
            await(node.follow(true, matched));
            // the new primary dies before this member's log grows past where its old tail ended: it takes over
            assertEquals(matched, await(node.lead(2, false, Long.MAX_VALUE)));

            final CompletableFuture<CommandOutcome> deposit = node.submit(CLIENT, 21, new Deposit().set(1, 1));
            final CommandOutcome outcome;
            try
            {
                outcome = deposit.get(5, TimeUnit.SECONDS);
            }
            catch (final TimeoutException ex)
            {
                throw new AssertionError("no answer in 5 s: the new leader waits for position " + recoveredEnd +
                    " of the tail it cut (its journal ends at " + node.journal().committedPosition() + ")", ex);
            }
            assertInstanceOf(CommandOutcome.Accepted.class, outcome);
            assertTrue(node.journal().committedPosition() < recoveredEnd, "still short of the cut tail's end");
            assertEquals(101, LedgerTestSupport.balance(node, 1));
        }
    }
}
