package io.keel.gateway.ops;

import io.keel.engine.CounterTypes;
import io.keel.engine.Engine;
import io.keel.engine.EngineCounters;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * What a node shows the outside world, off its hot path: the counters file ({@code keel stat}), the distinct error
 * log file ({@code keel errors}), a sampler thread (ring depth, journal positions, latency percentiles, role, epoch,
 * heartbeat; 10 times a second) and, when asked, a Prometheus endpoint.
 * <p>
 * Use: {@link #open} before the engine and gateway (give them {@link #countersManager()} and {@link #errorLog()}),
 * then {@link #start} once they run, {@link #close()} after they stopped.
 * <p>
 * Extension point for replication: allocate counters of type {@link CounterTypes#REPLICATION} from
 * {@link #countersManager()} (replication position, lag bytes/ms, failovers), and pass role and epoch suppliers
 * to {@link #start}; they then show in {@code keel stat}, Prometheus and {@code keel health}.
 */
public final class NodeObservability implements AutoCloseable
{
    /** Role gauge values. */
    public static final int ROLE_UNKNOWN = 0;
    /** This node takes commands. */
    public static final int ROLE_PRIMARY = 1;
    /** This node follows or redirects clients to another member. */
    public static final int ROLE_STANDBY = 2;
    /** Sampling period. */
    public static final long SAMPLE_PERIOD_MS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(NodeObservability.class);
    private final int nodeId;
    private final CountersFile countersFile;
    private final ErrorFile errorFile;
    private final AtomicCounter role;
    private final AtomicCounter epoch;
    private final AtomicCounter latencyP50;
    private final AtomicCounter latencyP90;
    private final AtomicCounter latencyP99;
    private final AtomicCounter latencyP999;
    private final AtomicCounter latencyMax;
    private final AtomicCounter latencyCount;
    private final AtomicCounter samplerErrors;
    private volatile boolean running;
    private Thread sampler;
    private HTTPServer server;
    private LatencyWindow latency;
    private long lastRole = -1;
    private long lastEpoch = -1;

    private NodeObservability(final Path dir, final int nodeId)
    {
        this.nodeId = nodeId;
        this.countersFile = CountersFile.create(dir, nodeId);
        this.errorFile = ErrorFile.create(dir, nodeId);
        final CountersManager m = countersFile.manager();
        role = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_GAUGE, "role (1 primary, 2 standby)");
        epoch = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_GAUGE, "epoch");
        latencyP50 = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_GAUGE, "latency p50 ns (30 s)");
        latencyP90 = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_GAUGE, "latency p90 ns (30 s)");
        latencyP99 = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_GAUGE, "latency p99 ns (30 s)");
        latencyP999 = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_GAUGE,
            "latency p99.9 ns (30 s)");
        latencyMax = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_GAUGE, "latency max ns (30 s)");
        latencyCount = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_COUNTER, "latency samples");
        samplerErrors = CounterTypes.newCounter(m, CounterTypes.NODE, CounterTypes.KIND_COUNTER, "sampler errors");
    }

    /**
     * Create the node's counters and error files in its directory (replacing those of a previous run; its errors
     * are saved as text first).
     *
     * @param dir    node directory.
     * @param nodeId member id.
     * @return the files, not yet sampling.
     */
    public static NodeObservability open(final Path dir, final int nodeId)
    {
        return new NodeObservability(dir, nodeId);
    }

    /** @return where the engine, gateway and replication allocate their counters. */
    public CountersManager countersManager()
    {
        return countersFile.manager();
    }

    /** @return the node's one distinct error log (thread-safe). */
    public org.agrona.concurrent.errors.DistinctErrorLog errorLog()
    {
        return errorFile.log();
    }

    /** @return an error handler that records into the distinct error log and logs each error once. */
    public ErrorHandler errorHandler(final String part)
    {
        return new ErrorHandler()
        {
            private final java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();

            @Override
            public void onError(final Throwable throwable)
            {
                errorFile.log().record(throwable);
                if (seen.size() < 1000 && seen.add(throwable.getClass().getName() + ": " + throwable.getMessage()))
                {
                    LOG.error("{} error (logged once, recorded each time in {})", part, ErrorFile.FILE_NAME,
                        throwable);
                }
            }
        };
    }

    /**
     * Start sampling (and serving Prometheus when {@code metricsPort > 0}).
     *
     * @param engine      the running engine.
     * @param roleSupplier  one of the ROLE_ values, asked each sample.
     * @param epochSupplier the current epoch, asked each sample.
     * @param metricsHost   address to bind the Prometheus endpoint to (e.g. 127.0.0.1).
     * @param metricsPort   its port, or 0 for none.
     * @throws IllegalStateException when the port cannot be bound.
     */
    public void start(final Engine engine, final LongSupplier roleSupplier, final LongSupplier epochSupplier,
        final String metricsHost, final int metricsPort)
    {
        final EngineCounters counters = engine.counters();
        latency = counters.recordsLatency() ? new LatencyWindow(counters) : null;
        running = true;
        sampler = new Thread(() ->
        {
            while (running)
            {
                try
                {
                    sample(engine, roleSupplier, epochSupplier);
                }
                catch (final Throwable ex)
                {
                    samplerErrors.increment();
                    errorFile.log().record(ex);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(SAMPLE_PERIOD_MS));
            }
        }, "keel-node-sampler");
        sampler.setDaemon(true);
        sample(engine, roleSupplier, epochSupplier);
        sampler.start();
        if (metricsPort > 0)
        {
            final PrometheusRegistry registry = new PrometheusRegistry();
            registry.register(new PrometheusCollector(nodeId, countersFile.reader(), latency));
            try
            {
                server = HTTPServer.builder().hostname(metricsHost).port(metricsPort).registry(registry)
                    .buildAndStart();
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException("cannot serve metrics on " + metricsHost + ":" + metricsPort + ": " +
                    ex.getMessage(), ex);
            }
            LOG.info("node {}: Prometheus metrics on http://{}:{}/metrics", nodeId, metricsHost, server.getPort());
        }
    }

    private void sample(final Engine engine, final LongSupplier roleSupplier, final LongSupplier epochSupplier)
    {
        final long nowMs = System.currentTimeMillis();
        engine.sampleGauges();
        final long roleNow = roleSupplier.getAsLong();
        final long epochNow = epochSupplier.getAsLong();
        role.setRelease(roleNow);
        epoch.setRelease(epochNow);
        if (roleNow != lastRole || epochNow != lastEpoch)
        {
            if (-1 != lastRole)
            {
                LOG.info("node {}: role {} -> {}, epoch {} -> {}", nodeId, roleName(lastRole), roleName(roleNow),
                    lastEpoch, epochNow);
            }
            lastRole = roleNow;
            lastEpoch = epochNow;
        }
        if (null != latency)
        {
            latency.sample(nowMs);
            latency.read((window, total) ->
            {
                latencyP50.setRelease(window.getValueAtPercentile(50));
                latencyP90.setRelease(window.getValueAtPercentile(90));
                latencyP99.setRelease(window.getValueAtPercentile(99));
                latencyP999.setRelease(window.getValueAtPercentile(99.9));
                latencyMax.setRelease(window.getMaxValue());
                latencyCount.setRelease(total.getTotalCount());
            });
        }
        countersFile.file().heartbeat(nowMs);
    }

    /**
     * The epoch an unreplicated engine appends in (as the engine decides it: its configured epoch, else the journal's
     * last, at least 1). Replication replaces this with the live epoch it manages.
     *
     * @param engine the engine.
     * @return its epoch.
     */
    public static long epochOf(final Engine engine)
    {
        final long configured = engine.context().epoch();
        return Math.max(0 == configured ? 1 : configured, engine.journal().lastEpoch());
    }

    static String roleName(final long role)
    {
        return ROLE_PRIMARY == role ? "PRIMARY" : ROLE_STANDBY == role ? "STANDBY" : "UNKNOWN";
    }

    /** @return the Prometheus port actually bound, or -1. */
    public int metricsPort()
    {
        return null == server ? -1 : server.getPort();
    }

    /** @return the counters file. */
    public CountersFile countersFile()
    {
        return countersFile;
    }

    @Override
    public void close()
    {
        running = false;
        if (null != sampler)
        {
            LockSupport.unpark(sampler);
            try
            {
                sampler.join(TimeUnit.SECONDS.toMillis(5));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        CloseHelper.quietClose(server);
        countersFile.file().markClosed(System.currentTimeMillis());
        // the mappings stay until the process exits: other threads may still bump a counter while stopping
    }
}
