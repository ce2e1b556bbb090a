package io.keel.perf.gateway;

import io.keel.engine.Engine;
import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.KeelNode;
import io.keel.gateway.LoopbackPorts;
import io.keel.gateway.Member;
import io.keel.gateway.client.KeelClient;
import io.keel.gateway.client.Response;
import io.keel.gateway.client.ResponseListener;
import io.keel.gateway.protocol.ErrorCode;
import io.keel.journal.DurabilityPolicy;
import io.keel.perf.IdleMode;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.SystemUnderTest;
import io.keel.replication.AckMode;
import io.keel.replication.ReplicatedNode;
import net.openhft.chronicle.bytes.Bytes;
import org.agrona.BitUtil;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Client → node → client over Aeron UDP on 127.0.0.1: a {@link KeelNode} (ledger domain, journal in a temp dir)
 * in this process, or a replicated pair of {@link ReplicatedNode}s ({@link Settings#replicated(AckMode)}), each
 * with its own embedded media driver, and a {@link KeelClient} driven by the load thread ({@code ownThread(false)}:
 * the load thread runs the client's duty cycle through {@link #poll()}). The client path is the same for both.
 * Every operation is a {@code Deposit} to one account: one command, one event journaled, one answer. The intended send time travels in a table indexed by command id, so
 * the latency runs from it to the answer's arrival.
 */
public final class GatewayRoundTrip implements SystemUnderTest
{
    /**
     * {@code -Dkeel.bench.client.watch=false}: the client keeps no watch on the standby (a pair's series);
     * {@code silent}: it opens one only once the primary left a command unanswered for 10 ms; default: the client's
     * own default (a watch kept open all the time).
     */
    public static final String WATCH_PROP = "keel.bench.client.watch";

    private static final long CLIENT_ID = 7;
    private static final long ACCOUNT = 1;
    private static final long CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(20);

    private final LatencyRecorder recorder;
    private final Path dir;
    private final AtomicLong completed = new AtomicLong();
    private final Listener listener = new Listener();
    private final UnsafeBuffer command = new UnsafeBuffer(new byte[64]);
    private final IdleStrategy sendIdle;
    private final long[] intendedNs;
    private final int intendedMask;
    private final int commandLength;
    private final List<Thread> serviceThreads = new ArrayList<>();
    private static final long SCRAPE_INTERVAL_MS = 1_000;

    private KeelNode node;
    private final ReplicatedNode[] pair = new ReplicatedNode[2];
    private long startEpoch;
    private KeelClient client;
    private MetricsScraper scraper;
    private long completedCount;
    private long failedCount;

    /**
     * What to start.
     */
    public static final class Settings
    {
        IdleMode idle = IdleMode.YIELD;
        DurabilityPolicy fsync = DurabilityPolicy.NONE;
        int window = 256;
        boolean clientOwnDriver = true;
        boolean threadPerDriver;
        boolean engineInGateway;
        String metrics = "default";
        AckMode replicated;
        long failureTimeoutMs = 250;

        /**
         * @param ack null (default): one unreplicated {@link KeelNode}; SYNC or ASYNC: a replicated pair of
         *            {@link ReplicatedNode}s in this process, answers released per that ack mode.
         * @return this.
         */
        public Settings replicated(final AckMode ack)
        {
            this.replicated = ack;
            return this;
        }

        /**
         * @param failureTimeoutMs a replicated pair's failure timeout (default 250 ms, as the demo: 50 ms can flap
         *                         when two cores run a pair, a client and the load side by side).
         * @return this.
         */
        public Settings failureTimeoutMs(final long failureTimeoutMs)
        {
            this.failureTimeoutMs = failureTimeoutMs;
            return this;
        }

        /**
         * @param metrics {@code off}: no counters file, error file or latency histogram; {@code on}: counters file,
         *                latency histogram and the Prometheus endpoint scraped once a second by a background thread
         *                (as a Prometheus server would, a few times more often); {@code default}: the node's
         *                defaults (counters file on, no endpoint).
         * @return this.
         */
        public Settings metrics(final String metrics)
        {
            if (!"off".equals(metrics) && !"on".equals(metrics) && !"default".equals(metrics))
            {
                throw new IllegalArgumentException("metrics '" + metrics + "': expected on, off or default");
            }
            this.metrics = metrics;
            return this;
        }

        /**
         * @param idle idle strategy of every node agent, the drivers and the load thread.
         * @return this.
         */
        public Settings idle(final IdleMode idle)
        {
            this.idle = idle;
            return this;
        }

        /**
         * @param fsync the journal's durability policy.
         * @return this.
         */
        public Settings fsync(final DurabilityPolicy fsync)
        {
            this.fsync = fsync;
            return this;
        }

        /**
         * @param window the client's in-flight window (pipelining bound).
         * @return this.
         */
        public Settings window(final int window)
        {
            this.window = window;
            return this;
        }

        /**
         * @param engineInGateway true: the node runs its business logic inside the gateway's duty cycle
         *                        ({@code --engine-threading gateway}); false: on a thread of its own.
         * @return this.
         */
        public Settings engineInGateway(final boolean engineInGateway)
        {
            this.engineInGateway = engineInGateway;
            return this;
        }

        /**
         * @param threadPerDriver true: both media drivers get a thread of their own (SHARED threading), the layout
         *                        before the INVOKER change, kept to compare against; false: the node's gateway
         *                        thread and the client's poll run their drivers.
         * @return this.
         */
        public Settings threadPerDriver(final boolean threadPerDriver)
        {
            this.threadPerDriver = threadPerDriver;
            return this;
        }

        /**
         * @param clientOwnDriver true: the client embeds its own media driver (as a separate process would);
         *                        false: it shares the node's driver, like the raw Aeron ping-pong's two ends.
         * @return this.
         */
        public Settings clientOwnDriver(final boolean clientOwnDriver)
        {
            this.clientOwnDriver = clientOwnDriver;
            return this;
        }
    }

    private GatewayRoundTrip(final Settings settings, final LatencyRecorder recorder, final Path dir)
    {
        this.recorder = recorder;
        this.dir = dir;
        this.sendIdle = settings.idle.newIdleStrategy();
        final int tableLength = BitUtil.findNextPositivePowerOfTwo(settings.window * 4);
        this.intendedNs = new long[tableLength];
        this.intendedMask = tableLength - 1;
        final Bytes<byte[]> bytes = Bytes.allocateElasticOnHeap(64);
        new Deposit().set(ACCOUNT, 1).writeMarshallable(bytes);
        commandLength = (int)bytes.writePosition();
        command.putBytes(0, bytes.underlyingObject(), 0, commandLength);
    }

    /**
     * Start a node and a connected client, open the account, and find the node's hot threads.
     *
     * @param settings what to start.
     * @param recorder where round trips go (written on the load thread).
     * @return the running round trip; close it to stop everything and delete its files.
     */
    public static GatewayRoundTrip launch(final Settings settings, final LatencyRecorder recorder)
    {
        for (int attempt = 1; ; attempt++)
        {
            final Path dir;
            try
            {
                dir = Files.createTempDirectory("keel-perf-gateway-");
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
            final GatewayRoundTrip roundTrip = new GatewayRoundTrip(settings, recorder, dir);
            try
            {
                roundTrip.start(settings);
                return roundTrip;
            }
            catch (final RuntimeException ex)
            {
                roundTrip.close();
                // a port found free a moment ago can be taken before the node binds it (another process's
                // ephemeral port): pick new ports, a few times
                if (attempt >= 3 || !String.valueOf(ex.getMessage()).contains("in use") &&
                    !String.valueOf(ex.getMessage()).contains("not free"))
                {
                    throw ex;
                }
            }
        }
    }

    private void start(final Settings settings)
    {
        final String idle = settings.idle.label();
        final List<Member> members;
        if (null == settings.replicated)
        {
            members = Member.parseList("0=127.0.0.1:" + freeLoopbackPort() + ":" + freeLoopbackPort());
            startNode(settings, members, idle);
        }
        else
        {
            members = Member.parseList("0=127.0.0.1:" + freeLoopbackPort() + ":" + freeLoopbackPort() +
                ",1=127.0.0.1:" + freeLoopbackPort() + ":" + freeLoopbackPort());
            startPair(settings, members, idle);
        }
        final KeelClient.Context clientContext = new KeelClient.Context()
            .members(members).clientId(CLIENT_ID).commandCodecs(Ledger.domain().commands())
            .maxInFlight(settings.window).idle(idle).ownThread(false)
            .connectTimeoutNs(CONNECT_TIMEOUT_NS).invokeDriver(!settings.threadPerDriver)
            .watchStandbys(!"false".equals(System.getProperty(WATCH_PROP, "true")));
        if ("silent".equals(System.getProperty(WATCH_PROP)))
        {
            clientContext.watchWhenSilentNs(TimeUnit.MILLISECONDS.toNanos(10));
        }
        if (!settings.clientOwnDriver)
        {
            clientContext.aeronDirectoryName(
                null != node ? node.aeronDirectoryName() : primary().aeronDirectoryName());
        }
        client = KeelClient.connect(clientContext);

        final long deadlineNs = System.nanoTime() + CONNECT_TIMEOUT_NS;
        final long openId = client.nextCommandId();
        final boolean[] opened = new boolean[1];
        client.trySubmit(openId, new OpenAccount().set(ACCOUNT, 0), new ResponseListener()
        {
            public void onResponse(final Response response)
            {
                opened[0] = true;
            }

            public void onFailure(final long commandId, final ErrorCode code, final boolean outcomeUnknown)
            {
                throw new IllegalStateException("cannot open the benchmark account: " + code);
            }
        });
        while (!opened[0] && System.nanoTime() < deadlineNs)
        {
            sendIdle.idle(client.poll());
        }
        if (!opened[0])
        {
            throw new IllegalStateException("the node did not answer within " +
                TimeUnit.NANOSECONDS.toSeconds(CONNECT_TIMEOUT_NS) + "s");
        }
        if (null != settings.replicated)
        {
            awaitStandbyCaughtUp(deadlineNs); // the replication stream flows, in ASYNC mode too
            startEpoch = primary().replication().epoch();
        }
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            final String name = thread.getName();
            if (name.startsWith("keel-gateway") || name.equals("keel-business-logic") || name.contains("driver-conductor"))
            {
                serviceThreads.add(thread);
            }
        }
    }

    private void startNode(final Settings settings, final List<Member> members, final String idle)
    {
        final KeelNode.Context nodeContext = new KeelNode.Context()
            .members(members).memberId(0).dir(dir.resolve("node")).domain(Ledger.domain())
            .fsync(settings.fsync).idle(idle).driverThreading(settings.threadPerDriver ? "shared" : "invoker")
            .engineThreading(settings.engineInGateway ? "gateway" : "dedicated");
        nodeContext.gatewayContext().maxInFlightPerSession(Math.max(settings.window, 1024));
        if ("off".equals(settings.metrics))
        {
            nodeContext.countersFile(false);
        }
        else if ("on".equals(settings.metrics))
        {
            nodeContext.countersFile(true).metricsPort(freeLoopbackPort());
        }
        node = KeelNode.launch(nodeContext);
        if ("on".equals(settings.metrics))
        {
            scraper = MetricsScraper.start(node.observability().metricsPort(), SCRAPE_INTERVAL_MS);
        }
    }

    private void startPair(final Settings settings, final List<Member> members, final String idle)
    {
        if (!"default".equals(settings.metrics) || settings.threadPerDriver)
        {
            throw new IllegalArgumentException("a replicated pair runs with the node's default metrics and " +
                "INVOKER drivers only");
        }
        for (int id = 0; id < pair.length; id++)
        {
            final ReplicatedNode.Context context = new ReplicatedNode.Context()
                .members(members).memberId(id).dir(dir.resolve("node-" + id)).domain(Ledger.domain())
                .ack(settings.replicated).fsync(settings.fsync).idle(idle)
                .engineThreading(settings.engineInGateway ? "gateway" : "dedicated");
            context.gatewayContext().maxInFlightPerSession(Math.max(settings.window, 1024));
            context.replicationContext().failureTimeoutMs(settings.failureTimeoutMs);
            pair[id] = ReplicatedNode.launch(context);
        }
        final long deadlineNs = System.nanoTime() + CONNECT_TIMEOUT_NS;
        while (null == primary() || (AckMode.SYNC == settings.replicated &&
            primary().replication().ackGate().status() != io.keel.replication.AckGate.Status.RELEASE))
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("the replicated pair had no primary with a standby within " +
                    TimeUnit.NANOSECONDS.toSeconds(CONNECT_TIMEOUT_NS) + "s");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    private void awaitStandbyCaughtUp(final long deadlineNs)
    {
        while (true)
        {
            final ReplicatedNode primary = primary();
            final ReplicatedNode standby = standby();
            if (null != primary && null != standby && standby.engine().journal().committedPosition() >=
                primary.engine().journal().committedPosition())
            {
                return;
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new IllegalStateException("the standby did not receive the primary's journal within " +
                    TimeUnit.NANOSECONDS.toSeconds(CONNECT_TIMEOUT_NS) + "s");
            }
            sendIdle.idle(client.poll());
        }
    }

    /**
     * @return true when a replicated pair's primary changed since the client connected (a failover: figures
     * measured across it include it).
     */
    public boolean primaryChanged()
    {
        final ReplicatedNode primary = primary();
        return null != pair[0] && (null == primary || primary.replication().epoch() != startEpoch);
    }

    /**
     * @return the member of a replicated pair that is primary now, or null (also for a single node).
     */
    public ReplicatedNode primary()
    {
        for (final ReplicatedNode member : pair)
        {
            if (null != member && member.replication().isPrimary())
            {
                return member;
            }
        }
        return null;
    }

    /**
     * @return the member of a replicated pair that is not primary now, or null (also for a single node).
     */
    public ReplicatedNode standby()
    {
        final ReplicatedNode primary = primary();
        for (final ReplicatedNode member : pair)
        {
            if (null != member && member != primary)
            {
                return member;
            }
        }
        return null;
    }

    /**
     * @return the gateway thread (a pair's primary's), or null when it is not found.
     */
    public Thread gatewayThread()
    {
        final ReplicatedNode primary = primary();
        return thread(null == primary ? "keel-gateway" : "keel-gateway-" + primary.replication().memberId());
    }

    /**
     * @return the engine's business-logic thread, or null when it is not found or a pair runs (two engines).
     */
    public Thread engineThread()
    {
        return null == node ? null : thread("keel-business-logic"); // a pair has two of that name
    }

    private Thread thread(final String prefix)
    {
        for (final Thread thread : serviceThreads)
        {
            if (thread.getName().startsWith(prefix))
            {
                return thread;
            }
        }
        return null;
    }

    /**
     * @return encoded size of a command message on the wire (header + payload), for the baseline's message size.
     */
    public int commandMessageLength()
    {
        return io.keel.gateway.protocol.Protocol.COMMAND_PAYLOAD_OFFSET + commandLength;
    }

    /**
     * @return size of an accepted answer on the wire.
     */
    public static int responseMessageLength()
    {
        return io.keel.gateway.protocol.Protocol.RESPONSE_DETAIL_OFFSET;
    }

    @Override
    public void send(final long intendedNs)
    {
        final KeelClient client = this.client;
        final long commandId = client.nextCommandId();
        this.intendedNs[(int)commandId & intendedMask] = intendedNs;
        while (!client.trySubmit(commandId, Ledger.DEPOSIT, command, 0, commandLength, 0, Engine.ANY_VERSION,
            listener))
        {
            sendIdle.idle(client.poll());
        }
        sendIdle.reset();
    }

    @Override
    public int poll()
    {
        return client.poll();
    }

    @Override
    public long completedCount()
    {
        return completed.get();
    }

    /**
     * @return commands the client gave up on (0 in a healthy run).
     */
    public long failedCount()
    {
        return failedCount;
    }

    /**
     * @return the node (counters, engine).
     */
    public KeelNode node()
    {
        return node;
    }

    @Override
    public List<Thread> serviceThreads()
    {
        return serviceThreads;
    }

    @Override
    public void close()
    {
        CloseHelper.quietCloseAll(scraper, client, node, pair[0], pair[1]);
        IoUtil.delete(dir.toFile(), true);
    }

    /** @return scrapes of the metrics endpoint that succeeded (metrics on), else 0. */
    public long scrapes()
    {
        return null == scraper ? 0 : scraper.scrapes();
    }

    /** @return bytes of the last scrape (metrics on), else 0. */
    public int lastScrapeBytes()
    {
        return null == scraper ? 0 : scraper.lastBytes();
    }

    private static int freeLoopbackPort()
    {
        return LoopbackPorts.freePort();
    }

    private final class Listener implements ResponseListener
    {
        @Override
        public void onResponse(final Response response)
        {
            recorder.recordLatencyNs(System.nanoTime() - intendedNs[(int)response.commandId() & intendedMask]);
            completed.lazySet(++completedCount);
        }

        @Override
        public void onFailure(final long commandId, final ErrorCode code, final boolean outcomeUnknown)
        {
            failedCount++;
            recorder.recordLatencyNs(System.nanoTime() - intendedNs[(int)commandId & intendedMask]);
            completed.lazySet(++completedCount);
        }
    }
}
