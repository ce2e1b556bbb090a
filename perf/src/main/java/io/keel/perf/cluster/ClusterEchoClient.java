package io.keel.perf.cluster;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.cluster.client.AeronCluster;
import io.aeron.cluster.client.EgressListener;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.Header;
import io.keel.gateway.DriverDirectories;
import io.keel.gateway.KeelNode;
import io.keel.perf.IdleMode;
import io.keel.perf.LatencyRecorder;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client side of the Aeron Cluster echo, driven by one thread (the load thread): an {@link AeronCluster} with
 * its own embedded media driver in INVOKER mode, whose duty cycle (driver and client conductor) runs in
 * {@link #poll()} like a {@code KeelClient}'s; or its own driver on a thread of its own (SHARED) with a client
 * conductor thread, which a leader change needs (AeronCluster adds the new leader's ingress publication with a
 * blocking call that waits for a conductor thread); or the driver of a member in this process. Every message carries its
 * intended send time in its first 8 bytes; an echo records {@code now - intended} and the arrival time. Sends and
 * polls allocate nothing.
 */
final class ClusterEchoClient implements AutoCloseable
{
    private static final long CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);
    /** How long the client waits for a new leader before it closes itself (failover on two loaded cores). */
    private static final long NEW_LEADER_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);

    private final int messageSizeBytes;
    private final LatencyRecorder recorder;
    private final IdleStrategy sendIdleStrategy;
    private final UnsafeBuffer sendBuffer;
    private final AtomicLong completed = new AtomicLong();
    private final MediaDriver driver;
    private final Aeron aeron;
    private final AgentInvoker driverInvoker;
    private final AgentInvoker conductorInvoker;
    private final AeronCluster client;
    private long completedCount;
    private volatile long lastEchoNs;
    private volatile int lastEchoLeader = -1;
    private volatile String lastSessionEvent = "none";

    /**
     * Connects, retrying until the cluster has a leader that accepts the session.
     *
     * @param ingressEndpoints {@code 0=host:port,...}.
     * @param sharedAeronDir   a member's driver directory to share, or null: an own embedded driver.
     * @param threadedDriver   with an own driver: true, SHARED threading and a conductor thread; false, INVOKER.
     * @param messageSizeBytes message size, at least 8.
     * @param idle             idle strategy of the waits.
     * @param recorder         where round trips go.
     */
    ClusterEchoClient(
        final String ingressEndpoints,
        final String sharedAeronDir,
        final boolean threadedDriver,
        final int messageSizeBytes,
        final IdleMode idle,
        final LatencyRecorder recorder)
    {
        this.messageSizeBytes = messageSizeBytes;
        this.recorder = recorder;
        this.sendIdleStrategy = idle.newIdleStrategy();
        this.sendBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(Math.max(64, messageSizeBytes), 64));
        MediaDriver ownDriver = null;
        Aeron ownAeron = null;
        AeronCluster connected = null;
        try
        {
            if (null == sharedAeronDir)
            {
                ownDriver = MediaDriver.launch(KeelNode.driverContext(DriverDirectories.fresh("perf-cluster-client"),
                    idle.label()).threadingMode(threadedDriver ? ThreadingMode.SHARED : ThreadingMode.INVOKER));
                ownAeron = Aeron.connect(KeelNode.clientContext(ownDriver.aeronDirectoryName(),
                    threadedDriver ? null : ownDriver));
            }
            driver = ownDriver;
            aeron = ownAeron;
            driverInvoker = null == ownDriver || threadedDriver ? null : ownDriver.sharedAgentInvoker();
            conductorInvoker = null == ownAeron ? null : ownAeron.conductorAgentInvoker();
            final EgressListener listener = new EgressListener()
            {
                @Override
                public void onMessage(
                    final long clusterSessionId,
                    final long timestamp,
                    final DirectBuffer buffer,
                    final int offset,
                    final int length,
                    final Header header)
                {
                    onEcho(buffer, offset);
                }

                @Override
                public void onSessionEvent(
                    final long correlationId,
                    final long clusterSessionId,
                    final long leadershipTermId,
                    final int leaderMemberId,
                    final io.aeron.cluster.codecs.EventCode code,
                    final String detail)
                {
                    lastSessionEvent = code + " (leader " + leaderMemberId + ", term " + leadershipTermId + "): " +
                        detail;
                }
            };
            final long deadlineNs = System.nanoTime() + CONNECT_TIMEOUT_NS;
            while (null == connected)
            {
                final AeronCluster.Context context = new AeronCluster.Context()
                    .ingressChannel("aeron:udp?term-length=1m")
                    .ingressEndpoints(ingressEndpoints)
                    .egressChannel("aeron:udp?endpoint=" + ClusterMember.LOOPBACK + ":0|term-length=1m")
                    .egressListener(listener)
                    .newLeaderTimeoutNs(NEW_LEADER_TIMEOUT_NS);
                if (null == ownAeron)
                {
                    context.aeronDirectoryName(sharedAeronDir);
                }
                else
                {
                    context.aeron(ownAeron).ownsAeronClient(false);
                }
                try (AeronCluster.AsyncConnect connect = AeronCluster.asyncConnect(context))
                {
                    while (null == connected)
                    {
                        invoke();
                        connected = connect.poll();
                        if (System.nanoTime() - deadlineNs > 0)
                        {
                            throw new IllegalStateException("the Aeron Cluster did not accept a client within " +
                                TimeUnit.NANOSECONDS.toSeconds(CONNECT_TIMEOUT_NS) + "s");
                        }
                        if (null == connected)
                        {
                            sendIdleStrategy.idle();
                        }
                    }
                }
                catch (final io.aeron.exceptions.TimeoutException | io.aeron.cluster.client.ClusterException ex)
                {
                    if (System.nanoTime() - deadlineNs > 0)
                    {
                        throw new IllegalStateException("the Aeron Cluster did not accept a client within " +
                            TimeUnit.NANOSECONDS.toSeconds(CONNECT_TIMEOUT_NS) + "s", ex);
                    }
                }
            }
            sendIdleStrategy.reset();
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(connected, ownAeron, ownDriver);
            throw ex;
        }
        client = connected;
    }

    private int invoke()
    {
        int work = 0;
        if (null != driverInvoker)
        {
            work += driverInvoker.invoke();
        }
        if (null != conductorInvoker)
        {
            work += conductorInvoker.invoke();
        }
        return work;
    }

    /**
     * Sends one message stamped with its intended time; while the cluster pushes back (or has no leader), polls.
     *
     * @param intendedNs intended send time.
     */
    void send(final long intendedNs)
    {
        final UnsafeBuffer buffer = sendBuffer;
        buffer.putLong(0, intendedNs);
        long result;
        while ((result = client.offer(buffer, 0, messageSizeBytes)) < 0)
        {
            if (Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
            {
                throw new IllegalStateException("cluster ingress failed: " + Publication.errorString(result));
            }
            sendIdleStrategy.idle(poll());
        }
        sendIdleStrategy.reset();
    }

    /**
     * Like {@link #send(long)}, but gives up at {@code deadlineNs} instead of waiting for a leader.
     *
     * @param intendedNs intended send time.
     * @param deadlineNs give up after.
     * @return true when sent.
     */
    boolean trySend(final long intendedNs, final long deadlineNs)
    {
        final UnsafeBuffer buffer = sendBuffer;
        buffer.putLong(0, intendedNs);
        while (client.offer(buffer, 0, messageSizeBytes) < 0)
        {
            if (client.isClosed() || System.nanoTime() - deadlineNs > 0)
            {
                return false;
            }
            sendIdleStrategy.idle(poll());
        }
        sendIdleStrategy.reset();
        return true;
    }

    int poll()
    {
        return invoke() + client.pollEgress();
    }

    private void onEcho(final DirectBuffer buffer, final int offset)
    {
        final long nowNs = System.nanoTime();
        recorder.recordLatencyNs(nowNs - buffer.getLong(offset));
        lastEchoLeader = client.leaderMemberId();
        lastEchoNs = nowNs;
        completed.lazySet(++completedCount);
    }

    long completedCount()
    {
        return completed.get();
    }

    /** @return arrival time of the last echo (System.nanoTime), 0 before the first. */
    long lastEchoNs()
    {
        return lastEchoNs;
    }

    /** @return the leader the client knew of when the last echo arrived. */
    int lastEchoLeader()
    {
        return lastEchoLeader;
    }

    /** @return the leader the client knows of now. */
    int leaderMemberId()
    {
        return client.leaderMemberId();
    }

    /** @return the last session event from the cluster (why a session closed, for example). */
    String lastSessionEvent()
    {
        return lastSessionEvent;
    }

    boolean isClosed()
    {
        return client.isClosed();
    }

    @Override
    public void close()
    {
        CloseHelper.quietCloseAll(client, aeron, driver);
    }
}
