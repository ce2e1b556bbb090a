package io.keel.gateway;

import io.keel.engine.CommandOutcome;
import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.journal.DurabilityPolicy;
import io.keel.gateway.client.KeelClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.keel.gateway.ClientTestSupport.await;
import static io.keel.gateway.ClientTestSupport.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The media drivers may run inside the duty cycles that use them (INVOKER) or on threads of their own: commands go
 * through either way, with the client driving its own duty cycle.
 */
class DriverThreadingTest
{
    @TempDir
    Path dir;

    @Test
    void commandsRoundTripWithDriversInvokedFromDutyCycles() throws Exception
    {
        roundTrip("invoker", true);
    }

    @Test
    void commandsRoundTripWithADriverThreadEach() throws Exception
    {
        roundTrip("shared", false);
    }

    @Test
    void unknownDriverThreadingIsRefusedNamingTheSetting()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new KeelNode.Context()
            .members(Member.parseList("0=127.0.0.1:9999:9998")).memberId(0).dir(dir).domain(Ledger.domain())
            .driverThreading("dedicated").conclude());
        assertTrue(ex.getMessage().contains("--driver-threading"), ex.getMessage());
    }

    private void roundTrip(final String nodeThreading, final boolean clientInvokesDriver) throws Exception
    {
        final List<Member> members = Member.parseList("0=127.0.0.1:" + freePort() + ":" + freePort());
        try (KeelNode node = KeelNode.launch(new KeelNode.Context().members(members).memberId(0)
                .dir(dir.resolve("node")).domain(Ledger.domain()).fsync(DurabilityPolicy.NONE)
                .driverThreading(nodeThreading));
            KeelClient client = KeelClient.connect(new KeelClient.Context().members(members).clientId(3)
                .commandTimeoutNs(TimeUnit.SECONDS.toNanos(20)).attemptTimeoutNs(TimeUnit.SECONDS.toNanos(20))
                .commandCodecs(Ledger.domain().commands()).ownThread(false).invokeDriver(clientInvokesDriver)))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new OpenAccount().set(1, 10))));
            for (int i = 0; i < 100; i++)
            {
                assertInstanceOf(CommandOutcome.Accepted.class, await(client, client.submit(new Deposit().set(1, 1))));
            }
            assertEquals(101, node.engine().counters().commands());
        }
    }
}
