package io.keel.gateway;

import io.keel.engine.CommandOutcome;
import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.client.KeelClient;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.Journal;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.keel.gateway.ClientTestSupport.await;
import static io.keel.gateway.ClientTestSupport.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The business logic may run inside the gateway's duty cycle ({@code --engine-threading gateway}): commands go
 * through with no business-logic thread at all, and a node closed with commands in flight still journals and
 * answers everything it took (the close takes the duty cycle over from the gateway thread).
 */
class EngineThreadingTest
{
    @TempDir
    Path dir;

    @Test
    void commandsRoundTripWithTheEngineInTheGatewayThread() throws Exception
    {
        final List<Member> members = Member.parseList("0=127.0.0.1:" + freePort() + ":" + freePort());
        try (KeelNode node = KeelNode.launch(context(members));
            KeelClient client = client(members))
        {
            assertTrue(node.engine().isInvoked());
            assertFalse(Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().equals("keel-business-logic")),
                "no business-logic thread of its own");
            assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
            for (int i = 0; i < 100; i++)
            {
                assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new Deposit().set(1, 1))));
            }
            assertEquals(101, node.engine().counters().commands());
        }
    }

    @Test
    void closingWithCommandsInFlightJournalsEverythingAcknowledged() throws Exception
    {
        final List<Member> members = Member.parseList("0=127.0.0.1:" + freePort() + ":" + freePort());
        final List<Long> ids = new ArrayList<>();
        final List<CompletableFuture<CommandOutcome>> answers = new ArrayList<>();
        final KeelNode node = KeelNode.launch(context(members));
        final Thread closer = new Thread(node::close, "closer");
        try (KeelClient client = client(members))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 0))));
            for (int i = 0; i < 2_000; i++)
            {
                final long id = client.nextCommandId();
                final CompletableFuture<CommandOutcome> answer = client.submit(id, new Deposit().set(1, 1), 0,
                    io.keel.engine.Engine.ANY_VERSION);
                ids.add(id);
                answers.add(answer);
                if (i < 1_000 && i % 50 == 49)
                {
                    await(client, answer); // the first thousand in windows of 50, all answered
                }
                else if (i == 1_000)
                {
                    closer.start(); // the second thousand is in flight when the node closes
                }
                client.poll();
            }
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (answers.stream().anyMatch(a -> !a.isDone()) && System.nanoTime() < deadlineNs)
            {
                if (0 == client.poll())
                {
                    Thread.yield();
                }
            }
        }
        closer.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(closer.isAlive(), "the node closed within 30 s");
        assertTrue(answers.stream().allMatch(CompletableFuture::isDone), "every command got an answer (accepted, " +
            "or failed with the reason), none was left silent by the close");
        final Set<Long> journaled = new HashSet<>();
        try (Journal journal = Journal.open(new JournalContext().dir(dir.resolve("node").resolve("journal"))
            .readOnly(true));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.poll(frame -> journaled.add(frame.commandId()), 4096) > 0)
            {
                // every frame
            }
        }
        int accepted = 0;
        for (int i = 0; i < ids.size(); i++)
        {
            final CompletableFuture<CommandOutcome> answer = answers.get(i);
            if (answer.isDone() && !answer.isCompletedExceptionally() &&
                answer.join() instanceof CommandOutcome.Accepted)
            {
                accepted++;
                assertTrue(journaled.contains(ids.get(i)), "acknowledged command " + ids.get(i) + " is journaled");
            }
        }
        assertTrue(accepted >= 1_000, "commands were acknowledged before the close: " + accepted);
    }

    @Test
    void unknownEngineThreadingIsRefusedNamingTheSetting()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new KeelNode.Context()
            .members(Member.parseList("0=127.0.0.1:9999:9998")).memberId(0).dir(dir).domain(Ledger.domain())
            .engineThreading("shared").conclude());
        assertTrue(ex.getMessage().contains("--engine-threading"), ex.getMessage());
    }

    private KeelNode.Context context(final List<Member> members)
    {
        return new KeelNode.Context().members(members).memberId(0).dir(dir.resolve("node")).domain(Ledger.domain())
            .fsync(DurabilityPolicy.BATCH).engineThreading("gateway").countersFile(false);
    }

    private static KeelClient client(final List<Member> members)
    {
        return KeelClient.connect(new KeelClient.Context().members(members).clientId(3).maxInFlight(4096)
            .commandTimeoutNs(TimeUnit.SECONDS.toNanos(3))
            .attemptTimeoutNs(TimeUnit.SECONDS.toNanos(3)) // no resends: the node's command count is exact
            .commandCodecs(Ledger.domain().commands()).ownThread(false));
    }
}
