package io.keel.cli.replication;

import io.keel.cli.gateway.NodeProcess;
import io.keel.examples.ledger.Ledger;
import io.keel.gateway.GatewayContext;
import io.keel.gateway.Member;
import io.keel.replication.ReplicatedNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replicated node whose client or replication port is taken refuses to start and says which port; its
 * before-serving hook runs while it does not yet listen for clients.
 */
class ReplicatedNodePortTest
{
    @TempDir
    Path tmp;

    @Test
    void aTakenReplicationOrClientPortIsRefusedNamingIt() throws Exception
    {
        final List<Member> members = Member.parseList("0=127.0.0.1:" + NodeProcess.freePort() + ":" +
            NodeProcess.freePort() + ",1=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort());
        final Member self = members.get(0);
        for (final int port : new int[]{ self.replicationPort(), self.clientPort() })
        {
            try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress("127.0.0.1", port)))
            {
                final IllegalStateException ex = assertThrows(IllegalStateException.class, () ->
                    ReplicatedNode.launch(new ReplicatedNode.Context().members(members).memberId(0)
                        .dir(tmp.resolve("node-0")).domain(Ledger.domain()).countersFile(false)));
                final String what = port == self.clientPort() ? "client port " : "replication port ";
                assertTrue(ex.getMessage().contains(what + port) && ex.getMessage().contains("not free"),
                    ex.getMessage());
                taken.getLocalPort();
            }
        }
    }

    @Test
    void beforeServingRunsOnceBeforeTheNodeListensForClients() throws Exception
    {
        final List<Member> members = Member.parseList("0=127.0.0.1:" + NodeProcess.freePort() + ":" +
            NodeProcess.freePort() + ",1=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort());
        final int clientPort = members.get(0).clientPort();
        final int[] runs = new int[1];
        final boolean[] clientPortFree = new boolean[1];
        final ReplicatedNode.Context ctx = new ReplicatedNode.Context().members(members).memberId(0)
            .dir(tmp.resolve("node-0")).domain(Ledger.domain()).countersFile(false);
        try (ReplicatedNode node = ReplicatedNode.launch(ctx.beforeServing(() ->
            {
                runs[0]++;
                clientPortFree[0] = bindable(clientPort);
            })))
        {
            assertEquals(GatewayContext.NO_PRIMARY, ctx.gatewayContext().initialPrimaryMemberId(),
                "the gateway starts knowing no primary: it answers no one as the primary before the roles are known");
            assertEquals(1, runs[0]);
            assertTrue(clientPortFree[0], "the hook ran before the gateway bound the client port");
            assertTrue(!bindable(clientPort), "the node listens once launched");
            node.gateway();
        }
    }

    private static boolean bindable(final int port)
    {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", port)))
        {
            return socket.getLocalPort() == port;
        }
        catch (final java.net.SocketException ex)
        {
            return false;
        }
    }
}
