package io.keel.replication;

import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The third process of a replicated pair: it grants the primary a lease and votes for a standby's promotion only
 * when the lease has lapsed and the standby is in the in-sync set (see {@link WitnessState} for the rules). It
 * holds no log and takes no commands; one witness can serve {@link WitnessState#MAX_PAIRS} pairs.
 * <p>
 * Transport: plain UDP ({@link DatagramChannel}), one 64-byte request, one 64-byte reply. Requests are idempotent
 * and retried every heartbeat by the nodes, so a lost datagram costs one renewal; Aeron's reliability, flow control
 * and media driver would add a process-sized dependency and connection set-up after a restart for nothing. The
 * witness thread blocks in {@code receive}: it costs no CPU between requests (two per heartbeat per pair).
 */
public final class Witness implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Witness.class);

    /** Configuration; {@link #conclude()} validates it. */
    public static final class Context
    {
        /**
         * 40 ms: a standby is voted in L + L/10 = 44 ms after the primary's last renewal, within the nodes' default
         * 50 ms failure timeout, so the failure timeout alone sets the pace of a failover.
         */
        public static final int LEASE_DEFAULT_MS = 40;
        private String host = "127.0.0.1";
        private int port;
        private int leaseMs = Integer.getInteger("keel.witness.leaseMs", LEASE_DEFAULT_MS);
        private Path dir;

        /** @return this, checked. @throws IllegalArgumentException naming the bad setting. */
        public Context conclude()
        {
            if (port < 0 || port > 65535)
            {
                throw new IllegalArgumentException("--port " + port + " out of range [0, 65535]");
            }
            if (leaseMs < 5 || leaseMs > 60_000)
            {
                throw new IllegalArgumentException("--lease-ms " + leaseMs + " out of range [5, 60000]");
            }
            if (null == dir)
            {
                throw new IllegalArgumentException("--dir must be set (where " + WitnessState.FILE_NAME + " lives)");
            }
            return this;
        }

        /** @param host address to bind (default 127.0.0.1). @return this. */
        public Context host(final String host)
        {
            this.host = host;
            return this;
        }

        /** @param port UDP port (0: any free one). @return this. */
        public Context port(final int port)
        {
            this.port = port;
            return this;
        }

        /** @param leaseMs lease length granted to primaries (default 40). @return this. */
        public Context leaseMs(final int leaseMs)
        {
            this.leaseMs = leaseMs;
            return this;
        }

        /** @param dir directory of the state file. @return this. */
        public Context dir(final Path dir)
        {
            this.dir = dir;
            return this;
        }

        /** @return lease length in ms. */
        public int leaseMs()
        {
            return leaseMs;
        }
    }

    /**
     * The clock margin both sides apply: a primary stops acknowledging alone at (request sent + lease − margin), the
     * witness votes for another member after (last renewal + lease + margin).
     *
     * @param leaseMs lease length.
     * @return margin in ns: a tenth of the lease, at least 1 ms.
     */
    public static long marginNs(final long leaseMs)
    {
        return Math.max(TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(leaseMs) / 10);
    }

    private final Context ctx;
    private final DatagramChannel channel;
    private final WitnessState state;
    private final Thread thread;
    private final ByteBuffer bytes = ByteBuffer.allocateDirect(WitnessMessage.LENGTH + 1);
    private final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
    private final WitnessMessage message = new WitnessMessage();
    private final InetSocketAddress bound;
    private volatile boolean running = true;
    private volatile Throwable failure;
    private long requests;
    private long malformed;

    private Witness(final Context ctx)
    {
        this.ctx = ctx;
        final long nowNs = System.nanoTime();
        this.state = WitnessState.open(ctx.dir, TimeUnit.MILLISECONDS.toNanos(ctx.leaseMs),
            marginNs(ctx.leaseMs), nowNs);
        try
        {
            channel = DatagramChannel.open();
            channel.bind(new InetSocketAddress(ctx.host, ctx.port));
            bound = (InetSocketAddress)channel.getLocalAddress();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot listen on udp://" + ctx.host + ":" + ctx.port + ": " + ex, ex);
        }
        thread = new Thread(this::run, "keel-witness");
        thread.setDaemon(true);
    }

    /**
     * Load the state and start answering.
     *
     * @param ctx configuration.
     * @return the running witness.
     */
    public static Witness launch(final Context ctx)
    {
        final Witness witness = new Witness(ctx.conclude());
        witness.thread.start();
        LOG.info("witness on udp://{}:{}, lease {} ms, state {} ({} pairs)", witness.bound.getHostString(),
            witness.bound.getPort(), ctx.leaseMs, witness.state.file(), witness.state.pairs());
        for (final String pair : witness.state.describe())
        {
            LOG.info("{} (restored)", pair);
        }
        return witness;
    }

    private void run()
    {
        try
        {
            while (running)
            {
                bytes.clear();
                final SocketAddress from = channel.receive(bytes);
                final int length = bytes.position();
                message.wrap(buffer, 0);
                requests++;
                if (!message.valid(length) || WitnessMessage.TYPE_REPLY == message.type())
                {
                    malformed++;
                    continue;
                }
                final long epochBefore = state.epoch(message.pairId());
                final int holderBefore = state.holder(message.pairId());
                final boolean inSyncBefore = state.peerInSync(message.pairId());
                if (!state.decide(message, System.nanoTime(), ctx.leaseMs))
                {
                    LOG.warn("witness full ({} pairs): request for pair {} ignored", WitnessState.MAX_PAIRS,
                        Long.toHexString(message.pairId()));
                    continue;
                }
                final boolean changed = message.epoch() != epochBefore || message.holder() != holderBefore ||
                    message.peerInSync() != inSyncBefore;
                bytes.clear().limit(WitnessMessage.LENGTH);
                try
                {
                    channel.send(bytes, from);
                }
                catch (final ClosedChannelException ex)
                {
                    throw ex;
                }
                catch (final IOException ex)
                {
                    // one unanswerable sender (unreachable, buffer full): it retries; the others are served
                    LOG.warn("witness: cannot answer {}: {}", from, ex.toString());
                }
                finally
                {
                    if (changed)
                    {
                        // logged after the answer (the change was persisted before it): a vote's answer does not
                        // wait for the log line
                        LOG.info("pair {}: epoch {}, primary member {}, standby in sync: {}",
                            Long.toHexString(message.pairId()), message.epoch(), message.holder(),
                            message.peerInSync());
                    }
                }
            }
        }
        catch (final ClosedChannelException ex)
        {
            // closed: stop
        }
        catch (final IOException | RuntimeException ex)
        {
            failure = ex;
            LOG.error("witness failed", ex);
        }
    }

    /** @return the bound UDP address. */
    public InetSocketAddress address()
    {
        return bound;
    }

    /** @return the state (read it only while the witness is stopped, or in tests). */
    WitnessState state()
    {
        return state;
    }

    /** @return the failure that stopped the witness thread, or null. */
    public Throwable failure()
    {
        return failure;
    }

    /** @return whether the witness thread is still answering. */
    public boolean isRunning()
    {
        return thread.isAlive();
    }

    /** @return datagrams received so far (malformed ones included). */
    public long requests()
    {
        return requests;
    }

    /** @return datagrams ignored as malformed. */
    public long malformed()
    {
        return malformed;
    }

    /** Stop answering and wait for the thread. */
    @Override
    public void close()
    {
        running = false;
        try
        {
            channel.close();
            thread.join(5_000);
        }
        catch (final IOException ex)
        {
            LOG.warn("closing witness channel: {}", ex.toString());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
