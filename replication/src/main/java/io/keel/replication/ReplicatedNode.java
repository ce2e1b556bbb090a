package io.keel.replication;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.exceptions.RegistrationException;
import io.keel.engine.Availability;
import io.keel.engine.Domain;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.gateway.Credentials;
import io.keel.gateway.Gateway;
import io.keel.gateway.GatewayContext;
import io.keel.gateway.KeelNode;
import io.keel.gateway.ops.NodeObservability;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalContext;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.CompositeAgent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One member of a replicated pair, assembled: an embedded media driver in INVOKER mode, the engine (journal in
 * {@code dir/journal}, snapshots in {@code dir/journal/snapshots}), the replication agent on the same journal, and
 * the gateway on the member's client port. Two hot threads: the engine's business-logic thread, and the gateway
 * thread, whose duty cycle runs the driver, the gateway, the replication agent and the {@link RoleCoordinator}.
 * <p>
 * The engine starts as a follower: it applies the journal as the replication agent appends the primary's frames
 * (a hot standby). When the node is promoted it leads in the new epoch from the end of its journal; answers are
 * released through the {@link AckGate}; without a standby in SYNC mode waiting clients get NO_STANDBY, and a node
 * that is not the primary answers commands with NOT_PRIMARY and connects with a REDIRECT to the primary.
 */
public final class ReplicatedNode implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedNode.class);
    /**
     * The journal keeps its last 1 MiB in memory: the primary's replication and the standby's engine read what was
     * just written from there, not from the file (one system call fewer per batch on each side of a round trip).
     * A reader further behind reads the file. {@code -Dkeel.journal.tail.cache.size} overrides it (0: none).
     */
    static final int TAIL_CACHE_BYTES = 1 << 20;

    /**
     * Configuration; {@link #conclude()} checks it before anything starts.
     */
    public static final class Context
    {
        private List<io.keel.gateway.Member> members;
        private int memberId = -1;
        private Path dir;
        private Domain domain;
        private AckMode ack = AckMode.SYNC;
        private DurabilityPolicy fsync = DurabilityPolicy.BATCH;
        private String idle = System.getProperty(KeelNode.Context.IDLE_PROP, "yield");
        private String engineIdle;
        private Path credentialsFile;
        private Consumer<String> roleListener;
        private Consumer<MediaDriver.Context> driverCustomizer;
        private Runnable beforeServing;
        private final ReplicationContext replication = new ReplicationContext();
        private final EngineContext engine = new EngineContext();
        private final GatewayContext gateway = new GatewayContext();
        private boolean countersFile = !"false".equals(System.getProperty(KeelNode.Context.COUNTERS_FILE_PROP));
        private String metricsHost = "127.0.0.1";
        private int metricsPort;

        /**
         * @return this, checked.
         * @throws IllegalArgumentException naming the first bad setting.
         */
        public Context conclude()
        {
            if (null == members || members.size() != Member.MAX_MEMBERS)
            {
                throw new IllegalArgumentException("--members must list exactly " + Member.MAX_MEMBERS +
                    " members for a replicated pair: " + members);
            }
            if (members.stream().noneMatch(m -> m.id() == memberId))
            {
                throw new IllegalArgumentException("--id " + memberId + " is not one of --members " + members);
            }
            if (null == dir)
            {
                throw new IllegalArgumentException("--dir must be set");
            }
            if (null == domain)
            {
                throw new IllegalArgumentException("domain must be set");
            }
            if (null == engineIdle)
            {
                engineIdle = System.getProperty(KeelNode.Context.ENGINE_IDLE_PROP, idle);
            }
            if (metricsPort < 0 || metricsPort > 65535 || (metricsPort > 0 && !countersFile))
            {
                throw new IllegalArgumentException("--metrics-port " + metricsPort + ": expected 1..65535, with the " +
                    "counters file on");
            }
            return this;
        }

        /**
         * @param countersFile keep counters (engine, gateway, node, replication) in {@code DIR/keel-counters.dat},
         *                     the distinct error log in {@code DIR/keel-errors.dat} and a command latency histogram,
         *                     readable from outside the process (default true; property
         *                     {@value KeelNode.Context#COUNTERS_FILE_PROP}).
         * @return this.
         */
        public Context countersFile(final boolean countersFile)
        {
            this.countersFile = countersFile;
            return this;
        }

        /** @param metricsPort serve Prometheus metrics on this port (0 = none, the default). @return this. */
        public Context metricsPort(final int metricsPort)
        {
            this.metricsPort = metricsPort;
            return this;
        }

        /** @param metricsHost address the Prometheus endpoint binds to (default 127.0.0.1). @return this. */
        public Context metricsHost(final String metricsHost)
        {
            this.metricsHost = metricsHost;
            return this;
        }

        /** @param members both members. @return this. */
        public Context members(final List<io.keel.gateway.Member> members)
        {
            this.members = members;
            return this;
        }

        /** @param memberId this member. @return this. */
        public Context memberId(final int memberId)
        {
            this.memberId = memberId;
            return this;
        }

        /** @param dir node directory: journal in {@code dir/journal}, node state in {@code dir}. @return this. */
        public Context dir(final Path dir)
        {
            this.dir = dir;
            return this;
        }

        /** @param domain the application. @return this. */
        public Context domain(final Domain domain)
        {
            this.domain = domain;
            return this;
        }

        /** @param ack SYNC (default) or ASYNC. @return this. */
        public Context ack(final AckMode ack)
        {
            this.ack = ack;
            return this;
        }

        /** @param fsync journal durability. @return this. */
        public Context fsync(final DurabilityPolicy fsync)
        {
            this.fsync = fsync;
            return this;
        }

        /** @param idle idle strategy of the gateway thread (and the engine unless set): yield, backoff, spin. @return this. */
        public Context idle(final String idle)
        {
            this.idle = idle;
            return this;
        }

        /** @param engineIdle idle strategy of the engine's thread (null: as {@link #idle}). @return this. */
        public Context engineIdle(final String engineIdle)
        {
            this.engineIdle = engineIdle;
            return this;
        }

        /**
         * Where the business logic runs: {@code dedicated} (default) on a thread of its own; {@code gateway} inside
         * the gateway's duty cycle, which also runs the replicator and the media driver, so the node has one hot
         * thread (see {@link KeelNode.Context#engineThreading(String)}).
         *
         * @param engineThreading {@code dedicated} or {@code gateway}.
         * @return this.
         */
        public Context engineThreading(final String engineThreading)
        {
            engine.invoked(KeelNode.Context.engineInGatewayThread(engineThreading));
            return this;
        }

        /** @param credentialsFile see {@link Credentials}; null turns authentication off. @return this. */
        public Context credentialsFile(final Path credentialsFile)
        {
            this.credentialsFile = credentialsFile;
            return this;
        }

        /** @param listener told each role the node settles in (gateway thread; keep it short). @return this. */
        public Context roleListener(final Consumer<String> listener)
        {
            this.roleListener = listener;
            return this;
        }

        /**
         * @param customizer applied to the embedded media driver's context after Keel's settings and before launch
         *                   (buffer lengths, socket options, or fault-injecting channel endpoints in drills).
         * @return this.
         */
        public Context driverCustomizer(final Consumer<MediaDriver.Context> customizer)
        {
            this.driverCustomizer = customizer;
            return this;
        }

        /**
         * @param beforeServing run on the launching thread once the engine has recovered and the driver is up, just
         *                      before the gateway thread starts (it runs replication too): nothing is served yet and no
         *                      peer is counting on this node's heartbeats. {@code keel node} collects the garbage of
         *                      start-up here, so that its pause never lands in a later failover.
         * @return this.
         */
        public Context beforeServing(final Runnable beforeServing)
        {
            this.beforeServing = beforeServing;
            return this;
        }

        /** @return replication settings (heartbeat, failure timeout, degrade...). */
        public ReplicationContext replicationContext()
        {
            return replication;
        }

        /** @return engine settings. */
        public EngineContext engineContext()
        {
            return engine;
        }

        /** @return gateway settings. */
        public GatewayContext gatewayContext()
        {
            return gateway;
        }
    }

    private final Context ctx;
    private final MediaDriver driver;
    private final Aeron aeron;
    private final Engine engine;
    private final ReplicationNode replication;
    private final RoleCoordinator coordinator;
    private final Gateway gateway;
    private final NodeObservability observability;
    private final ErrorHandler errorRecorder;
    private volatile AckGate gate;
    private volatile boolean closed;

    private ReplicatedNode(final Context ctx)
    {
        this.ctx = ctx;
        final io.keel.gateway.Member self = ctx.members.stream().filter(m -> m.id() == ctx.memberId).findFirst()
            .orElseThrow();
        KeelNode.checkPortFree(self.host(), self.clientPort(), "client");
        KeelNode.checkPortFree(self.host(), self.replicationPort(), "replication");
        final String idle = KeelNode.Context.engineIdleName(ctx.idle);
        MediaDriver mediaDriver = null;
        Aeron client = null;
        Engine startedEngine = null;
        ReplicationNode startedReplication = null;
        AgentInvoker invoker = null;
        NodeObservability ops = null;
        try
        {
            Files.createDirectories(ctx.dir);
            if (ctx.countersFile)
            {
                ops = NodeObservability.open(ctx.dir, ctx.memberId);
                ctx.engine.countersManager(ops.countersManager()).errorLog(ops.errorLog()).recordLatency(true);
                final ErrorHandler recorder = ops.errorHandler("gateway");
                final ErrorHandler user = ctx.gateway.errorHandler();
                ctx.gateway.countersManager(ops.countersManager()).errorHandler(null == user ? recorder : ex ->
                {
                    recorder.onError(ex);
                    user.onError(ex);
                });
                errorRecorder = ops.errorHandler("replication");
            }
            else
            {
                errorRecorder = null;
            }
            final MediaDriver.Context driverContext = KeelNode.driverContext(
                KeelNode.embeddedDriverDir(ctx.memberId), idle).threadingMode(ThreadingMode.INVOKER);
            if (null != ctx.driverCustomizer)
            {
                ctx.driverCustomizer.accept(driverContext);
            }
            mediaDriver = MediaDriver.launch(driverContext);
            client = Aeron.connect(KeelNode.clientContext(mediaDriver.aeronDirectoryName(), mediaDriver));
            startedEngine = Engine.launch(ctx.engine
                .retentionFloor(this::retentionFloor)
                .domain(ctx.domain)
                .idleStrategyName(KeelNode.Context.engineIdleName(ctx.engineIdle))
                .journalContext(new JournalContext().dir(ctx.dir.resolve("journal")).durability(ctx.fsync)
                    .tailCacheBytes(Integer.getInteger(JournalContext.TAIL_CACHE_PROP, TAIL_CACHE_BYTES)))
                .startAsFollower(true)
                .releaseGate(this::releasable)
                .availability(this::availability));
            final Path snapshotDir = startedEngine.context().snapshotDir();
            deleteSnapshotsAbove(snapshotDir, startedEngine.journal().committedPosition());
            final List<Member> members = new ArrayList<>();
            for (final io.keel.gateway.Member member : ctx.members)
            {
                members.add(new Member(member.id(), member.host(), member.clientPort(), member.replicationPort()));
            }
            final RoleCoordinator[] coordinatorRef = new RoleCoordinator[1];
            startedReplication = ReplicationNode.launchHosted(ctx.replication
                .nodeId(ctx.memberId)
                .members(members)
                .journal(startedEngine.journal())
                .stateDir(ctx.dir)
                .snapshotDir(snapshotDir)
                .ackMode(ctx.ack)
                .truncationListener(position ->
                {
                    deleteSnapshotsAbove(snapshotDir, position);
                    coordinatorRef[0].onTruncated(position);
                }), client);
            gate = startedReplication.ackGate();
            coordinator = new RoleCoordinator(startedReplication, startedEngine, ctx.roleListener);
            coordinatorRef[0] = coordinator;
            invoker = new AgentInvoker(this::onError, null, null == ops ?
                new CompositeAgent(startedReplication.agent(), coordinator) :
                new CompositeAgent(startedReplication.agent(), coordinator,
                new ReplicationCountersExport(startedReplication, startedEngine.journal(), ops.countersManager())));
            invoker.start();
            final Credentials credentials = null == ctx.credentialsFile ? null : Credentials.read(ctx.credentialsFile);
            ctx.gateway.members(ctx.members).memberId(ctx.memberId).credentials(credentials)
                .idleStrategyName(idle)
                .driverInvoker(mediaDriver.sharedAgentInvoker())
                .companion(invoker)
                .epochSupplier(startedReplication::epoch)
                .initialPrimaryMemberId(GatewayContext.NO_PRIMARY); // the coordinator routes once roles are known
            if (null != ctx.beforeServing)
            {
                ctx.beforeServing.run();
            }
            final Gateway launched;
            try
            {
                launched = Gateway.launch(ctx.gateway, startedEngine, client);
            }
            catch (final RegistrationException ex)
            {
                throw new IllegalStateException("cannot listen for clients on " + self.clientEndpoint() + ": " +
                    ex.getMessage(), ex);
            }
            coordinator.gateway(launched);
            if (null != ops)
            {
                final ReplicationNode member = startedReplication;
                try
                {
                    ops.start(startedEngine, () -> member.isPrimary() ?
                        NodeObservability.ROLE_PRIMARY : NodeObservability.ROLE_STANDBY,
                        member::epoch, ctx.metricsHost, ctx.metricsPort);
                }
                catch (final RuntimeException ex)
                {
                    launched.stopIngress();
                    launched.close();
                    throw ex;
                }
            }
            driver = mediaDriver;
            aeron = client;
            engine = startedEngine;
            replication = startedReplication;
            gateway = launched;
            observability = ops;
            LOG.info("member {} up: clients udp://{}, replication udp://{}:{}, journal {} at position {}, ack {}, " +
                "fsync {}, {}{}", ctx.memberId, self.clientEndpoint(), self.host(), self.replicationPort(),
                ctx.dir.resolve("journal"), startedEngine.journal().committedPosition(), ctx.ack, ctx.fsync,
                null == ops ? "no counters file" : "counters " + ctx.dir.resolve("keel-counters.dat"),
                null == ops || ops.metricsPort() < 0 ? "" : ", metrics http://" + ctx.metricsHost + ":" +
                    ops.metricsPort() + "/metrics");
        }
        catch (final IOException ex)
        {
            CloseHelper.quietCloseAll(invoker, startedReplication, startedEngine, client, mediaDriver, ops);
            throw new IllegalStateException("cannot create node directory " + ctx.dir + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(invoker, startedReplication, startedEngine, client, mediaDriver, ops);
            throw ex;
        }
    }

    /**
     * Check the configuration, start the driver, recover the engine (as a follower), start replication and the
     * gateway. The node then follows a primary it hears, or promotes itself (see the replication README).
     *
     * @param ctx configuration.
     * @return the running node.
     */
    public static ReplicatedNode launch(final Context ctx)
    {
        return new ReplicatedNode(ctx.conclude());
    }

    private long releasable(final long durablePosition)
    {
        final AckGate g = gate;
        return null == g ? AckGate.NOTHING : g.releasablePosition(durablePosition);
    }

    private String availability()
    {
        final AckGate g = gate;
        if (null == g)
        {
            return Availability.NOT_PRIMARY;
        }
        switch (g.status())
        {
            case RELEASE:
                return null;
            case NO_STANDBY:
                return Availability.NO_STANDBY;
            default:
                return Availability.NOT_PRIMARY;
        }
    }

    private void onError(final Throwable ex)
    {
        LOG.error("member {}: replication duty cycle error", ctx.memberId, ex);
        if (null != errorRecorder)
        {
            errorRecorder.onError(ex);
        }
    }

    /** Snapshots above a truncation point describe a history that was cut: never load them. */
    /**
     * Journal retention keeps what a connected standby still needs: its acknowledged position. A standby that is
     * away does not hold retention back; when it returns behind the journal's start it gets the snapshot.
     */
    private long retentionFloor()
    {
        final AckGate current = gate;
        return null != current && current.standbyConnected ? current.standbyAckedPosition() : Long.MAX_VALUE;
    }

    static void deleteSnapshotsAbove(final Path snapshotDir, final long position)
    {
        if (!Files.isDirectory(snapshotDir))
        {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(snapshotDir, "snapshot-*.snap"))
        {
            for (final Path file : files)
            {
                final String name = file.getFileName().toString();
                final long at;
                try
                {
                    at = Long.parseLong(name.substring("snapshot-".length(), name.length() - ".snap".length()));
                }
                catch (final NumberFormatException ex)
                {
                    continue;
                }
                if (at > position)
                {
                    Files.delete(file);
                    LOG.warn("deleted snapshot {}: it is above the log end {} (a cut history)", file, position);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot delete snapshots above " + position + " in " + snapshotDir + ": " +
                ex, ex);
        }
    }

    /** @return counters/error files, sampler and metrics endpoint, or null when the node runs without them. */
    public NodeObservability observability()
    {
        return observability;
    }

    /** @return the engine. */
    public Engine engine()
    {
        return engine;
    }

    /** @return the gateway. */
    public Gateway gateway()
    {
        return gateway;
    }

    /** @return the replication member. */
    public ReplicationNode replication()
    {
        return replication;
    }

    /** @return the embedded driver's directory. */
    public String aeronDirectoryName()
    {
        return driver.aeronDirectoryName();
    }

    /** @return true when authentication is on. */
    public boolean authenticating()
    {
        return null != ctx.credentialsFile;
    }

    /**
     * Wait until the node is closed or its engine fails.
     *
     * @return the engine's failure, or null when the node was closed.
     */
    public String awaitShutdown()
    {
        return KeelNode.awaitShutdown(() -> closed, engine);
    }

    /**
     * Stop taking commands, stop replication (with the gateway thread that runs it), close the engine (answers not
     * yet released fail: clients retry them) and the driver.
     */
    @Override
    public void close()
    {
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        gateway.stopIngress();
        engine.detachFromHost(); // an engine run by the gateway thread finishes its work on this thread, in close()
        gateway.close(); // its duty cycle runs replication: after this nothing appends on the agent's behalf
        CloseHelper.quietClose(replication);
        CloseHelper.quietClose(engine);
        final long graceEndNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        while (System.nanoTime() - graceEndNs < 0)
        {
            driver.sharedAgentInvoker().invoke();
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
        CloseHelper.quietCloseAll(aeron, driver, observability);
        LOG.info("member {} stopped", ctx.memberId);
    }
}
