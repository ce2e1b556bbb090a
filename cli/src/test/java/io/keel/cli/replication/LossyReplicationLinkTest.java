package io.keel.cli.replication;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ext.DebugReceiveChannelEndpoint;
import io.aeron.driver.ext.DebugSendChannelEndpoint;
import io.aeron.driver.ext.LossGenerator;
import io.aeron.driver.media.ReceiveChannelEndpoint;
import io.aeron.driver.media.SendChannelEndpoint;
import io.aeron.driver.media.UdpChannel;
import io.keel.cli.KeelCli;
import io.keel.cli.gateway.NodeProcess;
import io.keel.examples.ledger.Ledger;
import io.keel.gateway.Member;
import io.keel.journal.DurabilityPolicy;
import io.keel.replication.AckMode;
import io.keel.replication.ReplicatedNode;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replication traffic lost, stalled and cut between two full nodes (engine, gateway, replication, real Aeron on
 * loopback) while a ledger load runs through them in SYNC mode. The faults are injected inside the media drivers, on
 * the replication channels only (Aeron's debug channel endpoints with a loss generator of ours): random loss of
 * data, heartbeats, acks, NAKs and status messages; stalls shorter than the failure timeout; and a cut longer than
 * it, which makes the standby promote itself while the old primary is still alive.
 * <p>
 * Promises checked: every command the client saw acknowledged is in the final journal exactly once (an isolated old
 * primary that acknowledged anything the other side lacked would lose it to truncation on rejoin), the journals are
 * byte-identical afterwards, money is conserved (the bank's own checks), and the faults really happened (drops
 * counted, a promotion during the cut, a truncation-or-step-down on rejoin). Member 0 runs its business logic in
 * its gateway thread, member 1 on a thread of its own, so both layouts go through promotion, step-down and rebuild.
 */
class LossyReplicationLinkTest
{
    static final long AWAIT_MS = 30_000;
    static final long FAILURE_TIMEOUT_MS = 250;

    @TempDir
    Path tmp;

    final ReplicatedNode[] nodes = new ReplicatedNode[2];
    final LinkFault fault = new LinkFault();
    List<Member> members;
    String memberList;

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(nodes);
    }

    @Test
    void lossStallsAndACutOnTheReplicationLinkLoseNoAcknowledgedCommandAndLeaveIdenticalJournals() throws Exception
    {
        memberList = "0=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort() +
            ",1=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort();
        members = Member.parseList(memberList);
        final Set<Integer> replicationPorts = members.stream().map(Member::replicationPort)
            .collect(Collectors.toSet());
        start(0, replicationPorts);
        await("member 0 primary", () -> nodes[0].replication().isPrimary());
        start(1, replicationPorts);
        await("member 1 following", () -> !nodes[1].replication().isPrimary() &&
            nodes[1].replication().leaderId() == 0);

        final Path history = tmp.resolve("history.txt");
        final CompletableFuture<Integer> bank = CompletableFuture.supplyAsync(() -> KeelCli.newCommandLine().execute(
            "bank", "--members", memberList, "--accounts", "20", "--rate", "300", "--duration", "14s",
            "--timeout", "30s", "--client-id", "1", "--history", history.toString()));
        ReplicatedPairProcessTest.awaitOkLines(history, 200);

        // 1. random loss on every replication datagram, both ways: Aeron's NAKs and our resend requests repair it
        fault.lossRate = 0.05;
        final int beforeLoss = ReplicatedPairProcessTest.okLines(history);
        ReplicatedPairProcessTest.awaitOkLines(history, beforeLoss + 400);
        fault.lossRate = 0;
        assertTrue(fault.dropped.get() > 0, "the loss generator dropped datagrams");

        // 2. stalls shorter than the failure timeout: answers are delayed, nobody is promoted
        final long promotionsBeforeStalls = promotions();
        for (int i = 0; i < 5; i++)
        {
            fault.cut = true;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(FAILURE_TIMEOUT_MS / 5));
            fault.cut = false;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
        final int afterStalls = ReplicatedPairProcessTest.okLines(history);
        ReplicatedPairProcessTest.awaitOkLines(history, afterStalls + 100);
        assertEquals(promotionsBeforeStalls, promotions(), "a stall shorter than the failure timeout promotes no one");

        // 3. a cut longer than the failure timeout: the standby promotes itself while the old primary lives; in
        // SYNC the old primary can acknowledge nothing the new one lacks, and on healing it steps down and rejoins
        final int oldPrimary = nodes[0].replication().isPrimary() ? 0 : 1;
        final int standby = 1 - oldPrimary;
        fault.cut = true;
        await("member " + standby + " promoted during the cut", () -> nodes[standby].replication().isPrimary());
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(FAILURE_TIMEOUT_MS));
        fault.cut = false;
        await("member " + oldPrimary + " steps down and follows " + standby, () ->
            !nodes[oldPrimary].replication().isPrimary() && nodes[oldPrimary].replication().leaderId() == standby);

        assertEquals(0, bank.get(120, TimeUnit.SECONDS), "keel bank checks (conservation, history vs balances)");
        final long end = nodes[standby].engine().journal().committedPosition();
        await("the rejoined member acks the new primary's end " + end,
            () -> nodes[standby].replication().ackGate().standbyAckedPosition() >= end);
        System.out.println("lossy link: " + fault.dropped.get() + " datagrams dropped; member " + standby + " " +
            nodes[standby].replication().counters() + "; member " + oldPrimary + " " +
            nodes[oldPrimary].replication().counters());
        CloseHelper.quietCloseAll(nodes[oldPrimary], nodes[standby]);

        ReplicatedPairProcessTest.assertAcknowledgedExactlyOnce(history, tmp.resolve("node-" + standby));
        ReplicatedPairProcessTest.assertJournalsIdentical(tmp.resolve("node-0"), tmp.resolve("node-1"));
    }

    void start(final int id, final Set<Integer> replicationPorts)
    {
        final ReplicatedNode.Context context = new ReplicatedNode.Context()
            .members(members)
            .memberId(id)
            .dir(tmp.resolve("node-" + id))
            .domain(Ledger.domain())
            .ack(AckMode.SYNC)
            .fsync(DurabilityPolicy.NONE)
            .idle("backoff")
            .countersFile(false)
            .engineThreading(0 == id ? "gateway" : "dedicated") // both layouts through every role change
            .driverCustomizer(driver -> faultyReplicationChannels(driver, replicationPorts, fault));
        context.replicationContext().failureTimeoutMs(FAILURE_TIMEOUT_MS).heartbeatIntervalMs(10);
        nodes[id] = ReplicatedNode.launch(context);
    }

    long promotions()
    {
        return nodes[0].replication().counters().promotions() + nodes[1].replication().counters().promotions();
    }

    /** The replication channels (and only they) go through endpoints that ask {@code fault} about each datagram. */
    static void faultyReplicationChannels(
        final MediaDriver.Context driver, final Set<Integer> replicationPorts, final LossGenerator fault)
    {
        driver
            .receiveChannelEndpointSupplier((channel, dispatcher, status, context) -> isReplication(channel,
                replicationPorts) ?
                new DebugReceiveChannelEndpoint(channel, dispatcher, status, context, fault, fault) :
                new ReceiveChannelEndpoint(channel, dispatcher, status, context))
            .sendChannelEndpointSupplier((channel, status, context) -> isReplication(channel, replicationPorts) ?
                new DebugSendChannelEndpoint(channel, status, context, fault, fault) :
                new SendChannelEndpoint(channel, status, context));
    }

    static boolean isReplication(final UdpChannel channel, final Set<Integer> replicationPorts)
    {
        return replicationPorts.contains(port(channel.remoteData())) ||
            replicationPorts.contains(port(channel.localData()));
    }

    static int port(final InetSocketAddress address)
    {
        return null == address ? -1 : address.getPort();
    }

    static void await(final String what, final BooleanSupplier condition)
    {
        ReplicatedPairProcessTest.await(what, AWAIT_MS, condition);
    }

    /** Drops every datagram while cut, and a random share of them at the loss rate otherwise. */
    static final class LinkFault implements LossGenerator
    {
        volatile double lossRate;
        volatile boolean cut;
        final AtomicLong dropped = new AtomicLong();

        @Override
        public boolean shouldDropFrame(final InetSocketAddress address, final UnsafeBuffer buffer, final int length)
        {
            final boolean drop = cut || (lossRate > 0 && ThreadLocalRandom.current().nextDouble() < lossRate);
            if (drop)
            {
                dropped.incrementAndGet();
            }
            return drop;
        }
    }
}
