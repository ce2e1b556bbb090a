package io.keel.gateway;

import io.aeron.Aeron;
import io.keel.engine.CommandOutcome;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.client.KeelClient;
import io.keel.journal.DurabilityPolicy;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.keel.gateway.ClientTestSupport.freePort;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * A client whose Aeron client is closed under it (a shared one closed by its owner, or one that closed itself when
 * its driver timed out) stops: its duty cycle thread ends instead of failing on every cycle (which once filled a
 * test JVM's heap with stack traces).
 */
class ClientAeronClosedTest
{
    @TempDir
    Path dir;

    private KeelNode node;
    private Aeron aeron;
    private KeelClient client;

    @AfterEach
    void closeAll()
    {
        CloseHelper.quietCloseAll(client, aeron, node);
    }

    @Test
    void aClientWhoseAeronIsClosedStopsItsDutyCycle() throws Exception
    {
        final List<Member> members = Member.parseList("0=127.0.0.1:" + freePort() + ":" + freePort());
        node = KeelNode.launch(new KeelNode.Context().members(members).memberId(0).primaryMemberId(0)
            .dir(dir.resolve("node")).domain(Ledger.domain()).fsync(DurabilityPolicy.NONE));
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(node.aeronDirectoryName()));
        client = KeelClient.connect(new KeelClient.Context().members(members).clientId(7).aeron(aeron)
            .commandCodecs(Ledger.domain().commands()));
        assertInstanceOf(CommandOutcome.Accepted.class,
            client.submit(new OpenAccount().set(1, 10)).get(20, TimeUnit.SECONDS));

        aeron.close();
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (clientThreadAlive())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("the client's duty cycle still runs 20 s after its Aeron client closed");
            }
            Thread.sleep(10);
        }
        assertFalse(client.isConnected());
        client.close(); // and closing it afterwards is quiet
    }

    private static boolean clientThreadAlive()
    {
        return Thread.getAllStackTraces().keySet().stream()
            .anyMatch(thread -> thread.isAlive() && "keel-client-7".equals(thread.getName()));
    }
}
