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
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalContext;
import org.agrona.CloseHelper;
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
        private final ReplicationContext replication = new ReplicationContext();
        private final EngineContext engine = new EngineContext();
        private final GatewayContext gateway = new GatewayContext();

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
    private volatile AckGate gate;
    private volatile boolean closed;

    private ReplicatedNode(final Context ctx)
    {
        this.ctx = ctx;
        final io.keel.gateway.Member self = ctx.members.stream().filter(m -> m.id() == ctx.memberId).findFirst()
            .orElseThrow();
        final String idle = engineIdleName(ctx.idle);
        MediaDriver mediaDriver = null;
        Aeron client = null;
        Engine startedEngine = null;
        ReplicationNode startedReplication = null;
        AgentInvoker invoker = null;
        try
        {
            Files.createDirectories(ctx.dir);
            mediaDriver = MediaDriver.launch(KeelNode.driverContext(KeelNode.embeddedDriverDir(ctx.memberId), idle)
                .threadingMode(ThreadingMode.INVOKER));
            client = Aeron.connect(KeelNode.clientContext(mediaDriver.aeronDirectoryName(), mediaDriver));
            startedEngine = Engine.launch(ctx.engine
                .domain(ctx.domain)
                .idleStrategyName(engineIdleName(ctx.engineIdle))
                .journalContext(new JournalContext().dir(ctx.dir.resolve("journal")).durability(ctx.fsync))
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
                .ackMode(ctx.ack)
                .truncationListener(position ->
                {
                    deleteSnapshotsAbove(snapshotDir, position);
                    coordinatorRef[0].onTruncated(position);
                }), client);
            gate = startedReplication.ackGate();
            coordinator = new RoleCoordinator(startedReplication, startedEngine, ctx.roleListener);
            coordinatorRef[0] = coordinator;
            invoker = new AgentInvoker(this::onError, null, new CompositeAgent(startedReplication.agent(), coordinator));
            invoker.start();
            final Credentials credentials = null == ctx.credentialsFile ? null : Credentials.read(ctx.credentialsFile);
            ctx.gateway.members(ctx.members).memberId(ctx.memberId).credentials(credentials)
                .idleStrategyName(idle)
                .driverInvoker(mediaDriver.sharedAgentInvoker())
                .companion(invoker);
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
            driver = mediaDriver;
            aeron = client;
            engine = startedEngine;
            replication = startedReplication;
            gateway = launched;
        }
        catch (final IOException ex)
        {
            CloseHelper.quietCloseAll(invoker, startedReplication, startedEngine, client, mediaDriver);
            throw new IllegalStateException("cannot create node directory " + ctx.dir + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(invoker, startedReplication, startedEngine, client, mediaDriver);
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
    }

    /** Snapshots above a truncation point describe a history that was cut: never load them. */
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

    private static String engineIdleName(final String idle)
    {
        return "spin".equals(idle) ? "busy-spin" : idle;
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
        while (!closed)
        {
            final String failure = engine.failure();
            if (null != failure)
            {
                return failure;
            }
            try
            {
                Thread.sleep(50);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
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
        gateway.close(); // its duty cycle runs replication: after this nothing appends on the agent's behalf
        CloseHelper.quietClose(replication);
        CloseHelper.quietClose(engine);
        final long graceEndNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        while (System.nanoTime() - graceEndNs < 0)
        {
            driver.sharedAgentInvoker().invoke();
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
        CloseHelper.quietCloseAll(aeron, driver);
    }
}
