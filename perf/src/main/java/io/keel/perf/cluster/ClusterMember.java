package io.keel.perf.cluster;

import io.aeron.archive.Archive;
import io.aeron.archive.ArchiveThreadingMode;
import io.aeron.archive.client.AeronArchive;
import io.aeron.cluster.ClusteredMediaDriver;
import io.aeron.cluster.ConsensusModule;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredServiceContainer;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.keel.perf.IdleMode;
import org.agrona.CloseHelper;

import java.io.File;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One member of an Aeron Cluster running the echo service, as Aeron lays a member out: its own
 * {@link ClusteredMediaDriver} (media driver SHARED: one thread; archive SHARED: one thread; the consensus module:
 * one thread) and a {@link ClusteredServiceContainer} (one thread), every agent on the given idle strategy. Its
 * folders are {@code <dir>/archive} and {@code <dir>/cluster}; its driver directory is its own. All endpoints are
 * on 127.0.0.1. Used in this process by {@link ClusterEcho} and in a child JVM by {@link ClusterMemberMain}.
 */
public final class ClusterMember implements AutoCloseable
{
    static final String LOOPBACK = "127.0.0.1";
    private static final String LOCAL_CONTROL = "aeron:ipc?term-length=64k";
    private static final long SESSION_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);

    private final ClusteredMediaDriver clusteredMediaDriver;
    private final ClusteredServiceContainer container;
    private final ClusterEcho.EchoService service;

    /**
     * Settings of one member.
     */
    public static final class Settings
    {
        int memberId;
        String clusterMembers;
        int memberCount = 1;
        File dir;
        String aeronDir;
        IdleMode idle = IdleMode.YIELD;
        int fileSyncLevel;
        long leaderHeartbeatTimeoutNs = TimeUnit.SECONDS.toNanos(1);
        boolean fresh = true;
        Consumer<Cluster.Role> roleListener;

        /** @param memberId this member's id. @return this. */
        public Settings memberId(final int memberId)
        {
            this.memberId = memberId;
            return this;
        }

        /**
         * @param clusterMembers Aeron's member list, {@code id,ingress,consensus,log,catchup,archive|...}.
         * @param memberCount    how many members it lists.
         * @return this.
         */
        public Settings clusterMembers(final String clusterMembers, final int memberCount)
        {
            this.clusterMembers = clusterMembers;
            this.memberCount = memberCount;
            return this;
        }

        /** @param dir the member's folder (archive, cluster). @return this. */
        public Settings dir(final File dir)
        {
            this.dir = dir;
            return this;
        }

        /** @param aeronDir the member's media driver directory. @return this. */
        public Settings aeronDir(final String aeronDir)
        {
            this.aeronDir = aeronDir;
            return this;
        }

        /** @param idle idle strategy of every agent. @return this. */
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
         * @param leaderHeartbeatTimeoutNs how long followers wait for the leader before they elect another
         *                                 (Aeron's default is 10 s; here 1 s unless set). The heartbeat interval is a
         *                                 tenth of it, the election timeout {@link #electionTimeoutNs(long)}.
         * @return this.
         */
        public Settings leaderHeartbeatTimeoutNs(final long leaderHeartbeatTimeoutNs)
        {
            this.leaderHeartbeatTimeoutNs = leaderHeartbeatTimeoutNs;
            return this;
        }

        /**
         * @param fresh true: delete the member's folders on start (a new cluster); false: recover from them (a
         *              member restarted after a kill rejoins with its own log).
         * @return this.
         */
        public Settings fresh(final boolean fresh)
        {
            this.fresh = fresh;
            return this;
        }

        /** @param roleListener told the service's role as it changes (service thread), or null. @return this. */
        public Settings roleListener(final Consumer<Cluster.Role> roleListener)
        {
            this.roleListener = roleListener;
            return this;
        }

        /**
         * @param leaderHeartbeatTimeoutNs the heartbeat timeout.
         * @return the election timeout used with it: Aeron's default 1 s, or the heartbeat timeout when shorter.
         */
        public static long electionTimeoutNs(final long leaderHeartbeatTimeoutNs)
        {
            return Math.min(TimeUnit.SECONDS.toNanos(1), leaderHeartbeatTimeoutNs);
        }
    }

    private ClusterMember(final Settings settings)
    {
        if (settings.fileSyncLevel < 0 || settings.fileSyncLevel > 2)
        {
            throw new IllegalArgumentException("fileSyncLevel must be 0, 1 or 2, was: " + settings.fileSyncLevel);
        }
        final String aeronDir = settings.aeronDir;
        final IdleMode idle = settings.idle;
        final File clusterDir = new File(settings.dir, "cluster");
        final Archive.Context archive = new Archive.Context()
            .aeronDirectoryName(aeronDir)
            .archiveDir(new File(settings.dir, "archive"))
            .deleteArchiveOnStart(settings.fresh)
            .localControlChannel(LOCAL_CONTROL)
            .archiveClientContext(new AeronArchive.Context()
                .aeronDirectoryName(aeronDir)
                .controlResponseChannel("aeron:udp?endpoint=" + LOOPBACK + ":0"))
            .replicationChannel("aeron:udp?endpoint=" + LOOPBACK + ":0")
            .recordingEventsEnabled(false)
            .threadingMode(ArchiveThreadingMode.SHARED)
            .idleStrategySupplier(idle::newIdleStrategy)
            .segmentFileLength(64 * 1024 * 1024)
            .fileSyncLevel(settings.fileSyncLevel)
            .catalogFileSyncLevel(settings.fileSyncLevel);
        if (settings.memberCount > 1)
        {
            // followers replicate the leader's log recording from its archive: its control channel is on UDP
            archive.controlChannelEnabled(true)
                .controlChannel("aeron:udp?endpoint=" + archiveEndpoint(settings.clusterMembers, settings.memberId))
                .archiveId(settings.memberId);
        }
        else
        {
            archive.controlChannelEnabled(false);
        }
        final long heartbeatTimeoutNs = settings.leaderHeartbeatTimeoutNs;
        ClusteredMediaDriver driver = null;
        ClusteredServiceContainer serviceContainer = null;
        try
        {
            driver = ClusteredMediaDriver.launch(
                new MediaDriver.Context()
                    .aeronDirectoryName(aeronDir)
                    .threadingMode(ThreadingMode.SHARED)
                    .sharedIdleStrategy(idle.newIdleStrategy())
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true)
                    .termBufferSparseFile(true)
                    .warnIfDirectoryExists(false),
                archive,
                new ConsensusModule.Context()
                    .aeronDirectoryName(aeronDir)
                    .clusterDir(clusterDir)
                    .deleteDirOnStart(settings.fresh)
                    .clusterMemberId(settings.memberId)
                    .clusterMembers(settings.clusterMembers)
                    .ingressChannel("aeron:udp?term-length=1m")
                    .logChannel("aeron:udp?term-length=4m")
                    .replicationChannel("aeron:udp?endpoint=" + LOOPBACK + ":0")
                    .sessionTimeoutNs(SESSION_TIMEOUT_NS)
                    .leaderHeartbeatTimeoutNs(heartbeatTimeoutNs)
                    .leaderHeartbeatIntervalNs(Math.max(TimeUnit.MILLISECONDS.toNanos(5), heartbeatTimeoutNs / 10))
                    .electionTimeoutNs(Settings.electionTimeoutNs(heartbeatTimeoutNs))
                    .startupCanvassTimeoutNs(heartbeatTimeoutNs * 10)
                    .idleStrategySupplier(idle::newIdleStrategy)
                    .fileSyncLevel(settings.fileSyncLevel)
                    .archiveContext(localArchive(aeronDir)));
            service = new ClusterEcho.EchoService(settings.roleListener);
            serviceContainer = ClusteredServiceContainer.launch(new ClusteredServiceContainer.Context()
                .aeronDirectoryName(aeronDir)
                .clusterDir(clusterDir)
                .clusteredService(service)
                .idleStrategySupplier(idle::newIdleStrategy)
                .archiveContext(localArchive(aeronDir)));
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(serviceContainer, driver);
            throw ex;
        }
        this.clusteredMediaDriver = driver;
        this.container = serviceContainer;
    }

    /**
     * Starts the member: driver, archive, consensus module, echo service.
     *
     * @param settings the member.
     * @return the running member; close it to stop it.
     */
    public static ClusterMember launch(final Settings settings)
    {
        return new ClusterMember(settings);
    }

    /**
     * Aeron's member list for members on 127.0.0.1 with the given ports.
     *
     * @param ports per member: ingress, consensus, log, catchup, archive.
     * @return {@code id,ingress,consensus,log,catchup,archive|...}.
     */
    public static String clusterMembers(final int[][] ports)
    {
        final StringBuilder members = new StringBuilder();
        for (int id = 0; id < ports.length; id++)
        {
            members.append(id == 0 ? "" : "|").append(id);
            for (final int port : ports[id])
            {
                members.append(',').append(LOOPBACK).append(':').append(port);
            }
        }
        return members.toString();
    }

    /**
     * Free loopback ports for a cluster of {@code count} members.
     *
     * @param count members.
     * @return per member: ingress, consensus, log, catchup, archive.
     */
    public static int[][] freePorts(final int count)
    {
        final int[][] ports = new int[count][5];
        for (int id = 0; id < count; id++)
        {
            for (int i = 0; i < 5; i++)
            {
                ports[id][i] = ClusterEcho.freeLoopbackPort();
            }
        }
        return ports;
    }

    /**
     * @param clusterMembers Aeron's member list.
     * @return the ingress endpoints for a client: {@code 0=host:port,1=host:port...}.
     */
    public static String ingressEndpoints(final String clusterMembers)
    {
        final StringBuilder endpoints = new StringBuilder();
        for (final String member : clusterMembers.split("\\|"))
        {
            final String[] fields = member.split(",");
            endpoints.append(endpoints.length() == 0 ? "" : ",").append(fields[0]).append('=').append(fields[1]);
        }
        return endpoints.toString();
    }

    private static String archiveEndpoint(final String clusterMembers, final int memberId)
    {
        for (final String member : clusterMembers.split("\\|"))
        {
            final String[] fields = member.split(",");
            if (Integer.parseInt(fields[0]) == memberId)
            {
                return fields[5];
            }
        }
        throw new IllegalArgumentException("member " + memberId + " is not in " + clusterMembers);
    }

    private static AeronArchive.Context localArchive(final String aeronDir)
    {
        return new AeronArchive.Context()
            .aeronDirectoryName(aeronDir)
            .controlRequestChannel(LOCAL_CONTROL)
            .controlResponseChannel(LOCAL_CONTROL);
    }

    /**
     * @return the log position the echo service has processed (any thread).
     */
    public long servicePosition()
    {
        return service.logPosition();
    }

    /**
     * @return the echo service's role now.
     */
    public Cluster.Role role()
    {
        return service.role();
    }

    @Override
    public void close()
    {
        CloseHelper.quietCloseAll(container, clusteredMediaDriver);
    }
}
