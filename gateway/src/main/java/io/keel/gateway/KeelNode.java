package io.keel.gateway;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.exceptions.RegistrationException;
import io.keel.engine.Domain;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.gateway.ops.NodeObservability;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalContext;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One Keel node assembled: a media driver (embedded, or an external one), the engine with its journal in
 * {@code dir/journal}, and the gateway on the member's client port.
 *
 * <pre>{@code
 * try (KeelNode node = KeelNode.launch(new KeelNode.Context()
 *     .members(Member.parseList("0=127.0.0.1:9100:9200")).memberId(0).dir(dir).domain(Ledger.domain())))
 * {
 *     node.awaitShutdown();
 * }
 * }</pre>
 * {@link #close()} stops the ingress, drains the engine (every command in its ring is decided, journaled and
 * answered), delivers the answers, then stops the driver.
 */
public final class KeelNode implements AutoCloseable
{
    /**
     * Configuration of a node; {@link #conclude()} checks everything before anything starts.
     */
    public static final class Context
    {
        /** Idle strategy of every node agent: yield (default), backoff, or spin. */
        public static final String IDLE_PROP = "keel.node.idle";
        /** Idle strategy of the engine's business-logic thread when it should differ from {@link #IDLE_PROP}. */
        public static final String ENGINE_IDLE_PROP = "keel.node.engine.idle";
        /** How the embedded media driver runs: invoker (default) or shared. */
        public static final String DRIVER_THREADING_PROP = "keel.node.driver.threading";
        /** System property: where the business logic runs, {@code gateway} or {@code dedicated}. */
        public static final String ENGINE_THREADING_PROP = "keel.node.engine.threading";
        /** Set to false to run a node without its counters and error files. */
        public static final String COUNTERS_FILE_PROP = "keel.node.counters.file";

        private List<Member> members;
        private int memberId;
        private Path dir;
        private Domain domain;
        private String ack = "sync";
        private DurabilityPolicy fsync = DurabilityPolicy.BATCH;
        private String idle = System.getProperty(IDLE_PROP, "yield");
        private String engineIdle;
        private String driverThreading = System.getProperty(DRIVER_THREADING_PROP, "invoker");
        private String engineThreading = System.getProperty(ENGINE_THREADING_PROP, "dedicated");
        private Path credentialsFile;
        private String aeronDir;
        private int primaryMemberId = -1;
        private final GatewayContext gateway = new GatewayContext();
        private final EngineContext engine = new EngineContext();
        private Credentials credentials;
        private boolean countersFile = !"false".equals(System.getProperty(COUNTERS_FILE_PROP));
        private String metricsHost = "127.0.0.1";
        private int metricsPort;
        private Runnable beforeServing;

        /**
         * @param countersFile keep counters ({@code DIR/keel-counters.dat}), the distinct error log
         *                     ({@code DIR/keel-errors.dat}) and a command latency histogram readable from outside
         *                     the process (default true; property {@value #COUNTERS_FILE_PROP}).
         * @return this.
         */
        public Context countersFile(final boolean countersFile)
        {
            this.countersFile = countersFile;
            return this;
        }

        /**
         * @param metricsPort serve Prometheus metrics on this port (0 = none, the default); needs the counters file.
         * @return this.
         */
        public Context metricsPort(final int metricsPort)
        {
            this.metricsPort = metricsPort;
            return this;
        }

        /**
         * @param beforeServing run on the launching thread once the engine has recovered and the driver is up, just
         *                      before the gateway starts listening: nothing is served yet. {@code keel node} collects
         *                      the garbage of start-up here.
         * @return this.
         */
        public Context beforeServing(final Runnable beforeServing)
        {
            this.beforeServing = beforeServing;
            return this;
        }

        /**
         * @param metricsHost address the Prometheus endpoint binds to (default 127.0.0.1).
         * @return this.
         */
        public Context metricsHost(final String metricsHost)
        {
            this.metricsHost = metricsHost;
            return this;
        }

        /**
         * @return this, checked.
         * @throws IllegalArgumentException naming the first bad setting.
         */
        public Context conclude()
        {
            if (null == members)
            {
                throw new IllegalArgumentException("--members must be set");
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
            if (!"sync".equals(ack) && !"async".equals(ack))
            {
                throw new IllegalArgumentException("--ack '" + ack + "': expected sync or async");
            }
            engineIdleName(idle);
            if (null == engineIdle)
            {
                engineIdle = System.getProperty(ENGINE_IDLE_PROP, idle);
            }
            engineIdleName(engineIdle);
            if (!"invoker".equals(driverThreading) && !"shared".equals(driverThreading))
            {
                throw new IllegalArgumentException("--driver-threading '" + driverThreading +
                    "': expected invoker or shared");
            }
            engineInGatewayThread(engineThreading);
            if (metricsPort < 0 || metricsPort > 65535 || (metricsPort > 0 && !countersFile))
            {
                throw new IllegalArgumentException("--metrics-port " + metricsPort + ": expected 1..65535, with the " +
                    "counters file on");
            }
            if (primaryMemberId >= 0 && members.stream().noneMatch(m -> m.id() == primaryMemberId))
            {
                throw new IllegalArgumentException("--primary " + primaryMemberId + " is not one of --members");
            }
            if (null != credentialsFile)
            {
                credentials = Credentials.read(credentialsFile);
            }
            if (null != aeronDir && !new File(aeronDir, "cnc.dat").exists())
            {
                throw new IllegalArgumentException("--aeron-dir " + aeronDir + " has no running media driver " +
                    "(no cnc.dat): start one with ./keel driver --aeron-dir " + aeronDir);
            }
            return this;
        }

        /**
         * What a command-line {@code --engine-threading} value asks for.
         *
         * @param engineThreading {@code gateway} or {@code dedicated}.
         * @return true for {@code gateway}: the business logic runs in the gateway's duty cycle.
         * @throws IllegalArgumentException naming the option and the values it takes.
         */
        public static boolean engineInGatewayThread(final String engineThreading)
        {
            if (!"gateway".equals(engineThreading) && !"dedicated".equals(engineThreading))
            {
                throw new IllegalArgumentException("--engine-threading '" + engineThreading +
                    "': expected gateway or dedicated");
            }
            return "gateway".equals(engineThreading);
        }

        /**
         * The idle strategy name the engine and driver use for a command-line {@code --idle} value.
         *
         * @param idle yield, backoff, sleep, spin or busy-spin.
         * @return the name {@link EngineContext#idleStrategy(String)} takes.
         * @throws IllegalArgumentException naming the option and the values it takes.
         */
        public static String engineIdleName(final String idle)
        {
            switch (idle)
            {
                case "spin":
                case "busy-spin":
                    return "busy-spin";
                case "yield":
                case "backoff":
                case "sleep":
                    return idle;
                default:
                    throw new IllegalArgumentException("--idle '" + idle + "': expected yield, backoff or spin");
            }
        }

        /**
         * @param members every member.
         * @return this.
         */
        public Context members(final List<Member> members)
        {
            this.members = members;
            return this;
        }

        /** @return every member. */
        public List<Member> members()
        {
            return members;
        }

        /**
         * @param memberId this member.
         * @return this.
         */
        public Context memberId(final int memberId)
        {
            this.memberId = memberId;
            return this;
        }

        /** @return this member. */
        public int memberId()
        {
            return memberId;
        }

        /**
         * @param dir node directory: the journal goes in {@code dir/journal}.
         * @return this.
         */
        public Context dir(final Path dir)
        {
            this.dir = dir;
            return this;
        }

        /**
         * @param domain the application.
         * @return this.
         */
        public Context domain(final Domain domain)
        {
            this.domain = domain;
            return this;
        }

        /**
         * @param ack sync or async: when the primary may answer relative to the standby's ack (needs a standby;
         *            with one member the node runs unreplicated).
         * @return this.
         */
        public Context ack(final String ack)
        {
            this.ack = ack;
            return this;
        }

        /**
         * @param fsync none, batch or always.
         * @return this.
         */
        public Context fsync(final DurabilityPolicy fsync)
        {
            this.fsync = fsync;
            return this;
        }

        /**
         * @param idle yield (default, shared cores), backoff, or spin (dedicated cores only).
         * @return this.
         */
        public Context idle(final String idle)
        {
            this.idle = idle;
            return this;
        }

        /**
         * @param engineIdle idle strategy of the engine's business-logic thread (default: as {@link #idle}).
         * @return this.
         */
        public Context engineIdle(final String engineIdle)
        {
            this.engineIdle = engineIdle;
            return this;
        }

        /**
         * How the embedded media driver runs.
         *
         * @param driverThreading {@code invoker} (default): the driver has no thread of its own; the gateway's duty
         *                        cycle runs it, so the node has two hot threads (gateway + driver, engine), which
         *                        suits two cores. {@code shared}: one driver thread (conductor, sender and
         *                        receiver), three hot threads; use it when other agents (replication) need the
         *                        driver independently of the gateway.
         * @return this.
         */
        public Context driverThreading(final String driverThreading)
        {
            this.driverThreading = driverThreading;
            return this;
        }

        /**
         * Where the business logic runs.
         *
         * @param engineThreading {@code dedicated} (default): a business-logic thread of its own, fed by the ring.
         *                        {@code gateway}: inside the gateway's duty cycle, so one thread receives, decides,
         *                        journals and answers a command (no hand-off between threads; with the driver
         *                        invoked too, a node has one hot thread). Any journal fsync then also runs on the
         *                        gateway thread.
         * @return this.
         */
        public Context engineThreading(final String engineThreading)
        {
            this.engineThreading = engineThreading;
            return this;
        }

        /**
         * @param retention true to delete journal segments the oldest kept snapshot covers (see
         *                  {@link EngineContext#journalRetention(boolean)}).
         * @return this.
         */
        public Context journalRetention(final boolean retention)
        {
            engine.journalRetention(retention);
            return this;
        }

        /**
         * @param credentialsFile see {@link Credentials}; null turns authentication off.
         * @return this.
         */
        public Context credentialsFile(final Path credentialsFile)
        {
            this.credentialsFile = credentialsFile;
            return this;
        }

        /**
         * @param aeronDir directory of an external media driver; null embeds one.
         * @return this.
         */
        public Context aeronDir(final String aeronDir)
        {
            this.aeronDir = aeronDir;
            return this;
        }

        /**
         * @param primaryMemberId the member clients are redirected to, until replication elects one (-1 = this).
         * @return this.
         */
        public Context primaryMemberId(final int primaryMemberId)
        {
            this.primaryMemberId = primaryMemberId;
            return this;
        }

        /** @return gateway settings, to adjust limits. */
        public GatewayContext gatewayContext()
        {
            return gateway;
        }

        /** @return engine settings, to adjust limits. */
        public EngineContext engineContext()
        {
            return engine;
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(KeelNode.class);
    private final Context ctx;
    private final NodeObservability observability;
    private final MediaDriver driver;
    private final Aeron aeron;
    private final Engine engine;
    private final Gateway gateway;
    private final String aeronDirectoryName;
    private volatile boolean closed;

    private KeelNode(final Context ctx)
    {
        this.ctx = ctx;
        final Member self = ctx.members.stream().filter(m -> m.id() == ctx.memberId).findFirst().orElseThrow();
        checkPortFree(self);
        final String idle = Context.engineIdleName(ctx.idle);
        final boolean invoker = null == ctx.aeronDir && "invoker".equals(ctx.driverThreading);
        MediaDriver mediaDriver = null;
        Aeron client = null;
        Engine started = null;
        NodeObservability ops = null;
        try
        {
            if (null == ctx.aeronDir)
            {
                final MediaDriver.Context driverContext = driverContext(embeddedDriverDir(ctx.memberId), idle);
                if (invoker)
                {
                    driverContext.threadingMode(ThreadingMode.INVOKER);
                }
                mediaDriver = MediaDriver.launch(driverContext);
                aeronDirectoryName = mediaDriver.aeronDirectoryName();
            }
            else
            {
                aeronDirectoryName = ctx.aeronDir;
            }
            client = Aeron.connect(clientContext(aeronDirectoryName, invoker ? mediaDriver : null));
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
            }
            started = Engine.launch(ctx.engine
                .invoked(Context.engineInGatewayThread(ctx.engineThreading))
                .domain(ctx.domain)
                .idleStrategyName(Context.engineIdleName(ctx.engineIdle))
                .journalContext(new JournalContext().dir(ctx.dir.resolve("journal")).durability(ctx.fsync)));
            ctx.gateway.members(ctx.members).memberId(ctx.memberId).credentials(ctx.credentials)
                .idleStrategyName(idle)
                .driverInvoker(invoker ? mediaDriver.sharedAgentInvoker() : null);
            if (ctx.primaryMemberId >= 0)
            {
                ctx.gateway.initialPrimaryMemberId(ctx.primaryMemberId); // before its thread answers anyone
            }
            if (null != ctx.beforeServing)
            {
                ctx.beforeServing.run();
            }
            final Gateway launched;
            try
            {
                launched = Gateway.launch(ctx.gateway, started, client);
            }
            catch (final RegistrationException ex)
            {
                throw new IllegalStateException("cannot listen for clients on " + self.clientEndpoint() + ": " +
                    ex.getMessage(), ex);
            }
            if (null != ops)
            {
                final Engine running = started;
                try
                {
                    ops.start(running, () -> launched.primaryMemberId() == self.id() ?
                        NodeObservability.ROLE_PRIMARY : NodeObservability.ROLE_STANDBY,
                        () -> NodeObservability.epochOf(running), ctx.metricsHost, ctx.metricsPort);
                }
                catch (final RuntimeException ex)
                {
                    launched.stopIngress();
                    CloseHelper.quietClose(started);
                    launched.close();
                    throw ex;
                }
            }
            driver = mediaDriver;
            aeron = client;
            engine = started;
            gateway = launched;
            observability = ops;
            LOG.info("node {} up: clients udp://{}, {} (primary {}), journal {} at position {}, fsync {}, {}{}",
                ctx.memberId, self.clientEndpoint(), launched.isPrimary() ? "PRIMARY" : "STANDBY",
                launched.primaryMemberId(), ctx.dir.resolve("journal"), started.journal().committedPosition(),
                ctx.fsync, null == ops ? "no counters file" : "counters " + ctx.dir.resolve("keel-counters.dat"),
                null == ops || ops.metricsPort() < 0 ? "" : ", metrics http://" + ctx.metricsHost + ":" +
                    ops.metricsPort() + "/metrics");
        }
        catch (final IOException ex)
        {
            CloseHelper.quietCloseAll(started, client, mediaDriver, ops);
            throw new IllegalStateException("cannot create node directory " + ctx.dir + ": " + ex, ex);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(started, client, mediaDriver, ops);
            throw ex;
        }
    }

    /**
     * Check the configuration, start the driver, recover the engine from its journal, open the gateway.
     *
     * @param ctx configuration.
     * @return the running node.
     * @throws IllegalArgumentException on bad configuration.
     * @throws IllegalStateException when the client port is taken.
     * @throws io.keel.journal.JournalCorruptedException when the journal cannot be trusted (names file and offset).
     */
    public static KeelNode launch(final Context ctx)
    {
        return new KeelNode(ctx.conclude());
    }

    /**
     * A media driver context for Keel: SHARED threading (one thread for conductor, sender and receiver: right for
     * small machines), the given idle strategy, its directory deleted on start and on shutdown.
     *
     * @param dir  driver directory.
     * @param idle idle strategy name (spin, yield, backoff).
     * @return the context.
     */
    public static MediaDriver.Context driverContext(final String dir, final String idle)
    {
        return new MediaDriver.Context()
            .aeronDirectoryName(dir)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(EngineContext.idleStrategy(Context.engineIdleName(idle)))
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .termBufferSparseFile(true)
            .publicationTermBufferLength(1 << 20)
            .ipcTermBufferLength(1 << 20);
    }

    /**
     * An Aeron client context for a process that may embed its driver in INVOKER mode: then the client has no
     * conductor thread either (its owner invokes {@link Aeron#conductorAgentInvoker()} from its duty cycle), and
     * blocking registrations run the driver themselves while they wait.
     *
     * @param aeronDir       driver directory.
     * @param invokedDriver  the embedded driver when it runs in INVOKER mode, else null.
     * @return the context.
     */
    public static Aeron.Context clientContext(final String aeronDir, final MediaDriver invokedDriver)
    {
        final Aeron.Context context = new Aeron.Context().aeronDirectoryName(aeronDir);
        if (null != invokedDriver)
        {
            context.useConductorAgentInvoker(true).driverAgentInvoker(invokedDriver.sharedAgentInvoker());
        }
        return context;
    }

    /**
     * @param memberId member.
     * @return a fresh driver directory under /dev/shm when it exists, else the temp directory (dead processes'
     * directories are reaped first: see {@link DriverDirectories}).
     */
    public static String embeddedDriverDir(final int memberId)
    {
        return DriverDirectories.fresh("node-" + memberId);
    }

    private static void checkPortFree(final Member self)
    {
        checkPortFree(self.host(), self.clientPort(), "client");
    }

    /**
     * Refuse to start, with a message that says so, when a UDP port this node must bind is taken: Aeron would
     * otherwise fail later with a less helpful error, or (on some systems) share the port.
     *
     * @param host address to bind.
     * @param port UDP port.
     * @param what what the port is for, e.g. {@code client} or {@code replication}.
     * @throws IllegalStateException when the port cannot be bound.
     */
    public static void checkPortFree(final String host, final int port, final String what)
    {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(host, port)))
        {
            socket.getLocalPort();
        }
        catch (final SocketException ex)
        {
            throw new IllegalStateException(what + " port " + port + " on " + host + " is not free (" +
                ex.getMessage() + "): is another node running?");
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

    /** @return the Aeron directory in use (embedded or external driver). */
    public String aeronDirectoryName()
    {
        return aeronDirectoryName;
    }

    /** @return true when authentication is on. */
    public boolean authenticating()
    {
        return null != ctx.credentials;
    }

    /** @return true when the driver is embedded. */
    public boolean embeddedDriver()
    {
        return null != driver;
    }

    /**
     * Wait until the node is closed or its engine fails.
     *
     * @return the engine's failure, or null when the node was closed.
     */
    public String awaitShutdown()
    {
        return awaitShutdown(() -> closed, engine);
    }

    /**
     * Wait, checking every 50 ms, until a node is closed or its engine fails (shared by the node kinds).
     *
     * @param closed true once the node is closed.
     * @param engine the node's engine.
     * @return the engine's failure, or null when the node was closed (or the waiting thread interrupted).
     */
    public static String awaitShutdown(final BooleanSupplier closed, final Engine engine)
    {
        while (!closed.getAsBoolean())
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
        CloseHelper.quietClose(engine);
        gateway.close();
        // a bounded grace so the driver can send the last answers and CLOSE messages before it stops; an
        // INVOKER-mode driver has no thread of its own, so this thread runs it meanwhile
        final long graceEndNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        final org.agrona.concurrent.AgentInvoker invoker = null == driver ? null : driver.sharedAgentInvoker();
        while (System.nanoTime() - graceEndNs < 0)
        {
            if (null != invoker)
            {
                invoker.invoke();
                if (null != aeron.conductorAgentInvoker())
                {
                    aeron.conductorAgentInvoker().invoke();
                }
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
        CloseHelper.quietCloseAll(aeron, driver, observability);
        LOG.info("node {} stopped", ctx.memberId);
    }
}
