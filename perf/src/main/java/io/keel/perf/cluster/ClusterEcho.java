package io.keel.perf.cluster;

import io.aeron.cluster.codecs.CloseReason;
import io.aeron.cluster.service.ClientSession;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredService;
import io.aeron.logbuffer.Header;
import io.keel.gateway.LoopbackPorts;
import io.keel.perf.IdleMode;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.SystemUnderTest;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.IdleStrategy;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The baseline for a replicated round trip: an Aeron Cluster of one or more members whose service echoes every
 * message back to the session that sent it. Everything runs in this JVM on 127.0.0.1: each member is a
 * {@link ClusterMember} (its own {@code ClusteredMediaDriver}: media driver SHARED, archive SHARED, consensus module;
 * and a {@code ClusteredServiceContainer} with the echo service; its own driver directory, folders and ports), and an
 * {@code AeronCluster} client driven by the load thread, on a member's driver or on its own embedded driver in INVOKER
 * mode. Each message carries its intended send time in its first 8 bytes; the client records the round trip when the
 * echo comes back on the egress. The cluster log is sequenced, recorded by the archive (of a majority of members, for
 * more than one) and only then delivered to the service, as in a real cluster; archives and consensus modules sync
 * files per {@code fileSyncLevel} (0: never, the default here, as Keel's fsync {@code none}). Every agent uses the
 * given idle strategy; the folders are temporary and deleted on close.
 */
public final class ClusterEcho implements SystemUnderTest
{
    private static final long ELECTION_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);

    private final File baseDirectory;
    private final File aeronDirectory;
    private final Settings settings;
    private final ClusterMember[] members;
    private final String[] aeronDirs;
    private ClusterEchoClient client;

    /**
     * What to start.
     */
    public static final class Settings
    {
        int memberCount = 1;
        int messageSizeBytes = 68;
        IdleMode idle = IdleMode.YIELD;
        int fileSyncLevel;
        boolean clientOwnDriver;
        long leaderHeartbeatTimeoutNs = TimeUnit.SECONDS.toNanos(1);

        /** @param memberCount members, 1 or more (3 for a cluster that survives one failure). @return this. */
        public Settings memberCount(final int memberCount)
        {
            this.memberCount = memberCount;
            return this;
        }

        /** @param messageSizeBytes echo size, at least 8 (the intended time). @return this. */
        public Settings messageSizeBytes(final int messageSizeBytes)
        {
            this.messageSizeBytes = messageSizeBytes;
            return this;
        }

        /** @param idle idle strategy of every agent and of the load thread's waits. @return this. */
        public Settings idle(final IdleMode idle)
        {
            this.idle = idle;
            return this;
        }

        /** @param fileSyncLevel archive and consensus module file sync: 0 none, 1 data, 2 data + metadata. @return this. */
        public Settings fileSyncLevel(final int fileSyncLevel)
        {
            this.fileSyncLevel = fileSyncLevel;
            return this;
        }

        /**
         * @param clientOwnDriver true: the client embeds its own media driver in INVOKER mode, run by the load thread
         *                        (as a {@code KeelClient} does); false (default): it uses member 0's driver.
         * @return this.
         */
        public Settings clientOwnDriver(final boolean clientOwnDriver)
        {
            this.clientOwnDriver = clientOwnDriver;
            return this;
        }

        /** @param leaderHeartbeatTimeoutNs see {@link ClusterMember.Settings#leaderHeartbeatTimeoutNs(long)}. @return this. */
        public Settings leaderHeartbeatTimeoutNs(final long leaderHeartbeatTimeoutNs)
        {
            this.leaderHeartbeatTimeoutNs = leaderHeartbeatTimeoutNs;
            return this;
        }
    }

    private ClusterEcho(final Settings settings)
    {
        this.settings = settings;
        this.members = new ClusterMember[settings.memberCount];
        this.aeronDirs = new String[settings.memberCount];
        try
        {
            this.baseDirectory = Files.createTempDirectory("keel-perf-cluster-").toFile();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        final File shm = new File("/dev/shm");
        this.aeronDirectory = shm.isDirectory() && shm.canWrite() ?
            new File(shm, "keel-perf-cluster-" + ProcessHandle.current().pid() + "-" + System.nanoTime()) :
            new File(baseDirectory, "aeron");
    }

    /**
     * Starts a single-node cluster, elects it, connects a client on its driver and waits until the session is open.
     *
     * @param messageSizeBytes echo size, at least 8 (the intended time).
     * @param idleMode         idle strategy of every agent and of the load thread's waits.
     * @param fileSyncLevel    archive and consensus module file sync: 0 none, 1 data, 2 data and metadata.
     * @param recorder         where round-trip times go (written by the load thread).
     * @return the started echo; close it to stop everything and delete its folders.
     */
    public static ClusterEcho launch(
        final int messageSizeBytes, final IdleMode idleMode, final int fileSyncLevel, final LatencyRecorder recorder)
    {
        return launch(new Settings().messageSizeBytes(messageSizeBytes).idle(idleMode).fileSyncLevel(fileSyncLevel),
            recorder);
    }

    /**
     * Starts the members, waits for a leader, connects the client and waits until the session is open.
     *
     * @param settings what to start.
     * @param recorder where round-trip times go (written by the load thread).
     * @return the started echo; close it to stop everything and delete its folders.
     */
    public static ClusterEcho launch(final Settings settings, final LatencyRecorder recorder)
    {
        if (settings.messageSizeBytes < 8)
        {
            throw new IllegalArgumentException("message size must be >= 8 bytes, was: " + settings.messageSizeBytes);
        }
        if (settings.fileSyncLevel < 0 || settings.fileSyncLevel > 2)
        {
            throw new IllegalArgumentException("fileSyncLevel must be 0, 1 or 2, was: " + settings.fileSyncLevel);
        }
        if (settings.memberCount < 1)
        {
            throw new IllegalArgumentException("memberCount must be >= 1, was: " + settings.memberCount);
        }
        final ClusterEcho echo = new ClusterEcho(settings);
        try
        {
            echo.start(recorder);
            return echo;
        }
        catch (final RuntimeException ex)
        {
            echo.close();
            throw ex;
        }
    }

    private void start(final LatencyRecorder recorder)
    {
        final int count = settings.memberCount;
        final String clusterMembers = ClusterMember.clusterMembers(ClusterMember.freePorts(count));
        for (int id = 0; id < count; id++)
        {
            aeronDirs[id] = count == 1 ? aeronDirectory.getAbsolutePath() :
                aeronDirectory.getAbsolutePath() + "-" + id;
            members[id] = ClusterMember.launch(new ClusterMember.Settings()
                .memberId(id)
                .clusterMembers(clusterMembers, count)
                .dir(count == 1 ? baseDirectory : new File(baseDirectory, "member-" + id))
                .aeronDir(aeronDirs[id])
                .idle(settings.idle)
                .fileSyncLevel(settings.fileSyncLevel)
                .leaderHeartbeatTimeoutNs(settings.leaderHeartbeatTimeoutNs));
        }
        final long deadlineNs = System.nanoTime() + ELECTION_TIMEOUT_NS;
        while (leaderId() < 0)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("the " + count + "-member Aeron Cluster elected no leader within " +
                    TimeUnit.NANOSECONDS.toSeconds(ELECTION_TIMEOUT_NS) + "s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        client = new ClusterEchoClient(ClusterMember.ingressEndpoints(clusterMembers),
            settings.clientOwnDriver ? null : aeronDirs[0], false, settings.messageSizeBytes, settings.idle, recorder);
    }

    /**
     * @return the id of the member whose service is leader now, or -1.
     */
    public int leaderId()
    {
        for (int id = 0; id < members.length; id++)
        {
            if (null != members[id] && Cluster.Role.LEADER == members[id].role())
            {
                return id;
            }
        }
        return -1;
    }

    /**
     * @param id a member.
     * @return the log position its echo service has processed.
     */
    public long servicePosition(final int id)
    {
        return members[id].servicePosition();
    }

    /**
     * @return the leader the client knows of.
     */
    public int clientLeaderId()
    {
        return client.leaderMemberId();
    }

    /**
     * Sends one message stamped with its intended time; waits (polling the egress) while the cluster pushes back.
     *
     * @param intendedNs intended send time.
     */
    @Override
    public void send(final long intendedNs)
    {
        client.send(intendedNs);
    }

    @Override
    public int poll()
    {
        return client.poll();
    }

    @Override
    public long completedCount()
    {
        return client.completedCount();
    }

    @Override
    public List<Thread> serviceThreads()
    {
        return List.of();
    }

    /**
     * @return the message size in bytes, both ways.
     */
    public int messageSizeBytes()
    {
        return settings.messageSizeBytes;
    }

    File baseDirectory()
    {
        return baseDirectory;
    }

    File aeronDirectory()
    {
        return aeronDirectory;
    }

    @Override
    public void close()
    {
        CloseHelper.quietClose(client);
        for (int id = members.length - 1; id >= 0; id--)
        {
            CloseHelper.quietClose(members[id]);
        }
        IoUtil.delete(baseDirectory, true);
        for (final String dir : aeronDirs)
        {
            if (null != dir)
            {
                IoUtil.delete(new File(dir), true);
            }
        }
        IoUtil.delete(aeronDirectory, true);
    }

    static int freeLoopbackPort()
    {
        return LoopbackPorts.freePort();
    }

    /**
     * Sends every message back to its session as it is, retrying while the egress pushes back.
     */
    static final class EchoService implements ClusteredService
    {
        private final Consumer<Cluster.Role> roleListener;
        private IdleStrategy idleStrategy;
        private Cluster cluster;
        private volatile long logPosition;
        private volatile Cluster.Role role = Cluster.Role.FOLLOWER;

        EchoService(final Consumer<Cluster.Role> roleListener)
        {
            this.roleListener = roleListener;
        }

        long logPosition()
        {
            return logPosition;
        }

        Cluster.Role role()
        {
            return role;
        }

        @Override
        public void onStart(final Cluster cluster, final io.aeron.Image snapshotImage)
        {
            this.cluster = cluster;
            idleStrategy = cluster.idleStrategy();
            role = cluster.role();
            if (null != roleListener)
            {
                roleListener.accept(role);
            }
        }

        @Override
        public void onSessionOpen(final ClientSession session, final long timestamp)
        {
        }

        @Override
        public void onSessionClose(final ClientSession session, final long timestamp, final CloseReason closeReason)
        {
        }

        @Override
        public void onSessionMessage(
            final ClientSession session,
            final long timestamp,
            final DirectBuffer buffer,
            final int offset,
            final int length,
            final Header header)
        {
            logPosition = header.position();
            idleStrategy.reset();
            long result;
            while ((result = session.offer(buffer, offset, length)) < 0)
            {
                if (io.aeron.Publication.CLOSED == result || io.aeron.Publication.NOT_CONNECTED == result ||
                    io.aeron.Publication.MAX_POSITION_EXCEEDED == result)
                {
                    return; // the client has gone: nobody to echo to
                }
                idleStrategy.idle();
            }
        }

        @Override
        public void onTimerEvent(final long correlationId, final long timestamp)
        {
        }

        @Override
        public void onTakeSnapshot(final io.aeron.ExclusivePublication snapshotPublication)
        {
        }

        @Override
        public void onRoleChange(final Cluster.Role newRole)
        {
            role = newRole;
            if (null != roleListener)
            {
                roleListener.accept(newRole);
            }
        }

        @Override
        public void onTerminate(final Cluster cluster)
        {
        }
    }
}
