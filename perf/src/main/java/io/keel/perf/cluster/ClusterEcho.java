package io.keel.perf.cluster;

import io.aeron.archive.Archive;
import io.aeron.archive.ArchiveThreadingMode;
import io.aeron.archive.client.AeronArchive;
import io.aeron.cluster.ClusteredMediaDriver;
import io.aeron.cluster.ConsensusModule;
import io.aeron.cluster.client.AeronCluster;
import io.aeron.cluster.client.EgressListener;
import io.aeron.cluster.codecs.CloseReason;
import io.aeron.cluster.service.ClientSession;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredService;
import io.aeron.cluster.service.ClusteredServiceContainer;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.Header;
import io.keel.perf.IdleMode;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.SystemUnderTest;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The baseline for a replicated round trip: a single-node Aeron Cluster whose service echoes every message back
 * to the session that sent it. Everything runs in this JVM on 127.0.0.1: a {@link ClusteredMediaDriver} (media
 * driver SHARED, archive SHARED, consensus module), a {@link ClusteredServiceContainer} with the echo service, and
 * an {@link AeronCluster} client driven by the load thread. Each message carries its intended send time in its first
 * 8 bytes; the client records the round trip when the echo comes back on the egress. The cluster log is sequenced,
 * recorded by the archive and only then delivered to the service, as in a real cluster; the archive and consensus
 * module sync files per {@code fileSyncLevel} (0: never, the default here, as Keel's fsync {@code none}). Every
 * agent uses the given idle strategy; the Aeron, archive and cluster folders are temporary and deleted on close.
 */
public final class ClusterEcho implements SystemUnderTest
{
    private static final String LOOPBACK = "127.0.0.1";
    private static final String LOCAL_CONTROL = "aeron:ipc?term-length=64k";
    private static final long CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);
    private static final long SESSION_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);

    private final File baseDirectory;
    private final File aeronDirectory;
    private final int messageSizeBytes;
    private final LatencyRecorder recorder;
    private final IdleStrategy sendIdleStrategy;
    private final UnsafeBuffer sendBuffer;
    private final AtomicLong completed = new AtomicLong();
    private ClusteredMediaDriver clusteredMediaDriver;
    private ClusteredServiceContainer container;
    private AeronCluster client;
    private long completedCount;

    private ClusterEcho(final int messageSizeBytes, final IdleMode idleMode, final LatencyRecorder recorder)
    {
        this.messageSizeBytes = messageSizeBytes;
        this.recorder = recorder;
        this.sendIdleStrategy = idleMode.newIdleStrategy();
        this.sendBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(Math.max(64, messageSizeBytes), 64));
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
     * Starts the cluster, elects the single node, connects the client and waits until the session is open.
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
        if (messageSizeBytes < 8)
        {
            throw new IllegalArgumentException("message size must be >= 8 bytes, was: " + messageSizeBytes);
        }
        if (fileSyncLevel < 0 || fileSyncLevel > 2)
        {
            throw new IllegalArgumentException("fileSyncLevel must be 0, 1 or 2, was: " + fileSyncLevel);
        }
        final ClusterEcho echo = new ClusterEcho(messageSizeBytes, idleMode, recorder);
        try
        {
            echo.start(idleMode, fileSyncLevel);
            return echo;
        }
        catch (final RuntimeException ex)
        {
            echo.close();
            throw ex;
        }
    }

    private void start(final IdleMode idleMode, final int fileSyncLevel)
    {
        final int ingressPort = freeLoopbackPort();
        final String members = "0," + LOOPBACK + ":" + ingressPort + "," + LOOPBACK + ":" + freeLoopbackPort() + "," +
            LOOPBACK + ":" + freeLoopbackPort() + "," + LOOPBACK + ":0," + LOOPBACK + ":" + freeLoopbackPort();
        final String aeronDir = aeronDirectory.getAbsolutePath();
        final File clusterDir = new File(baseDirectory, "cluster");

        clusteredMediaDriver = ClusteredMediaDriver.launch(
            new MediaDriver.Context()
                .aeronDirectoryName(aeronDir)
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(idleMode.newIdleStrategy())
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .termBufferSparseFile(true)
                .warnIfDirectoryExists(false),
            new Archive.Context()
                .aeronDirectoryName(aeronDir)
                .archiveDir(new File(baseDirectory, "archive"))
                .deleteArchiveOnStart(true)
                .controlChannelEnabled(false)
                .localControlChannel(LOCAL_CONTROL)
                .archiveClientContext(localArchive(aeronDir))
                .replicationChannel("aeron:udp?endpoint=" + LOOPBACK + ":0")
                .recordingEventsEnabled(false)
                .threadingMode(ArchiveThreadingMode.SHARED)
                .idleStrategySupplier(idleMode::newIdleStrategy)
                .segmentFileLength(64 * 1024 * 1024)
                .fileSyncLevel(fileSyncLevel)
                .catalogFileSyncLevel(fileSyncLevel),
            new ConsensusModule.Context()
                .aeronDirectoryName(aeronDir)
                .clusterDir(clusterDir)
                .deleteDirOnStart(true)
                .clusterMemberId(0)
                .clusterMembers(members)
                .ingressChannel("aeron:udp?term-length=1m")
                .logChannel("aeron:udp?term-length=4m")
                .replicationChannel("aeron:udp?endpoint=" + LOOPBACK + ":0")
                .sessionTimeoutNs(SESSION_TIMEOUT_NS)
                .idleStrategySupplier(idleMode::newIdleStrategy)
                .fileSyncLevel(fileSyncLevel)
                .archiveContext(localArchive(aeronDir)));

        container = ClusteredServiceContainer.launch(new ClusteredServiceContainer.Context()
            .aeronDirectoryName(aeronDir)
            .clusterDir(clusterDir)
            .clusteredService(new EchoService())
            .idleStrategySupplier(idleMode::newIdleStrategy)
            .archiveContext(localArchive(aeronDir)));

        final EgressListener listener = this::onEcho;
        final long deadlineNs = System.nanoTime() + CONNECT_TIMEOUT_NS;
        while (true)
        {
            try
            {
                client = AeronCluster.connect(new AeronCluster.Context()
                    .aeronDirectoryName(aeronDir)
                    .ingressChannel("aeron:udp?term-length=1m")
                    .ingressEndpoints("0=" + LOOPBACK + ":" + ingressPort)
                    .egressChannel("aeron:udp?endpoint=" + LOOPBACK + ":0|term-length=1m")
                    .egressListener(listener));
                break;
            }
            catch (final RuntimeException ex)
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    throw new IllegalStateException("single-node Aeron Cluster did not accept a client within " +
                        TimeUnit.NANOSECONDS.toSeconds(CONNECT_TIMEOUT_NS) + "s", ex);
                }
            }
        }
    }

    private static AeronArchive.Context localArchive(final String aeronDir)
    {
        return new AeronArchive.Context()
            .aeronDirectoryName(aeronDir)
            .controlRequestChannel(LOCAL_CONTROL)
            .controlResponseChannel(LOCAL_CONTROL);
    }

    /**
     * Sends one message stamped with its intended time; waits (polling the egress) while the cluster pushes back.
     *
     * @param intendedNs intended send time.
     */
    @Override
    public void send(final long intendedNs)
    {
        final UnsafeBuffer buffer = sendBuffer;
        buffer.putLong(0, intendedNs);
        long result;
        while ((result = client.offer(buffer, 0, messageSizeBytes)) < 0)
        {
            if (io.aeron.Publication.CLOSED == result || io.aeron.Publication.MAX_POSITION_EXCEEDED == result)
            {
                throw new IllegalStateException("cluster ingress failed: " + io.aeron.Publication.errorString(result));
            }
            sendIdleStrategy.idle(poll());
        }
        sendIdleStrategy.reset();
    }

    @Override
    public int poll()
    {
        return client.pollEgress();
    }

    private void onEcho(
        final long clusterSessionId,
        final long timestamp,
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final Header header)
    {
        recorder.recordLatencyNs(System.nanoTime() - buffer.getLong(offset));
        completed.lazySet(++completedCount);
    }

    @Override
    public long completedCount()
    {
        return completed.get();
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
        return messageSizeBytes;
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
        CloseHelper.quietCloseAll(client, container, clusteredMediaDriver);
        IoUtil.delete(baseDirectory, true);
        IoUtil.delete(aeronDirectory, true);
    }

    static int freeLoopbackPort()
    {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(LOOPBACK), 0)))
        {
            return socket.getLocalPort();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * Sends every message back to its session as it is, retrying while the egress pushes back.
     */
    static final class EchoService implements ClusteredService
    {
        private IdleStrategy idleStrategy;

        @Override
        public void onStart(final Cluster cluster, final io.aeron.Image snapshotImage)
        {
            idleStrategy = cluster.idleStrategy();
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
        }

        @Override
        public void onTerminate(final Cluster cluster)
        {
        }
    }
}
