package io.keel.replication;

import io.keel.journal.FrameDescriptor;
import io.keel.journal.Journal;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * Configuration of a {@link ReplicationNode}. Defaults come from system properties ({@code keel.replication.*});
 * {@link #conclude()} validates every setting and names the one that is wrong.
 */
public final class ReplicationContext
{
    public static final String HEARTBEAT_INTERVAL_PROP = "keel.replication.heartbeatIntervalMs";
    public static final String FAILURE_TIMEOUT_PROP = "keel.replication.failureTimeoutMs";
    public static final String MAX_BATCH_PROP = "keel.replication.maxBatchBytes";
    public static final String MAX_IN_FLIGHT_PROP = "keel.replication.maxInFlightBytes";
    public static final String TERM_LENGTH_PROP = "keel.replication.termLengthBytes";
    public static final String IDLE_PROP = "keel.replication.idle";
    public static final String ACK_PROP = "keel.replication.ack";
    public static final String DEGRADE_PROP = "keel.replication.degradeToAsyncAfterMs";
    public static final String PROMOTE_BEHIND_PROP = "keel.replication.promoteBehindAfterMs";
    public static final String WITNESS_PROP = "keel.replication.witness";
    /** Test hook: while this file exists, the node drops all replication traffic to and from its peer. */
    public static final String PEER_LINK_DOWN_FILE_PROP = "keel.replication.test.peerLinkDownFile";
    /** Test hook: while this file exists, the node drops all traffic to and from the witness. */
    public static final String WITNESS_LINK_DOWN_FILE_PROP = "keel.replication.test.witnessLinkDownFile";

    public static final long HEARTBEAT_INTERVAL_DEFAULT_MS = 5;
    public static final long FAILURE_TIMEOUT_DEFAULT_MS = 50;
    public static final int MAX_BATCH_DEFAULT_BYTES = 60 * 1024;
    public static final int MAX_IN_FLIGHT_DEFAULT_BYTES = 4 * 1024 * 1024;
    public static final int TERM_LENGTH_DEFAULT_BYTES = 16 * 1024 * 1024;
    public static final int STREAM_ID_DEFAULT = 1_001;
    /** Largest failure timeout accepted. */
    public static final long FAILURE_TIMEOUT_MAX_MS = 60_000;

    /** Test hook: decides whether a received FRAMES message is dropped before the standby looks at it. */
    @FunctionalInterface
    public interface ReceiveFilter
    {
        /**
         * @param startPosition position of the batch's first frame.
         * @param framesLength  bytes of frames in the batch.
         * @return true to drop the batch as if the network had lost it.
         */
        boolean drop(long startPosition, int framesLength);
    }

    private int nodeId = Integer.getInteger("keel.replication.nodeId", -1);
    private List<Member> members;
    private Journal journal;
    private Path stateDir;
    private AckMode ackMode = AckMode.parse(System.getProperty(ACK_PROP, "sync"));
    private long degradeToAsyncAfterMs = Long.getLong(DEGRADE_PROP, -1);
    private long promoteBehindAfterMs = Long.getLong(PROMOTE_BEHIND_PROP, -1);
    private long heartbeatIntervalMs = Long.getLong(HEARTBEAT_INTERVAL_PROP, HEARTBEAT_INTERVAL_DEFAULT_MS);
    private long failureTimeoutMs = Long.getLong(FAILURE_TIMEOUT_PROP, FAILURE_TIMEOUT_DEFAULT_MS);
    private int maxBatchBytes = Integer.getInteger(MAX_BATCH_PROP, MAX_BATCH_DEFAULT_BYTES);
    private int maxInFlightBytes = Integer.getInteger(MAX_IN_FLIGHT_PROP, MAX_IN_FLIGHT_DEFAULT_BYTES);
    private int termLengthBytes = Integer.getInteger(TERM_LENGTH_PROP, TERM_LENGTH_DEFAULT_BYTES);
    private int streamId = STREAM_ID_DEFAULT;
    private String idle = System.getProperty(IDLE_PROP, "yield");
    private String aeronDirectoryName;
    private boolean launchEmbeddedDriver = true;
    private boolean autoPromote = true;
    private ReceiveFilter receiveFilter;
    private String witness = System.getProperty(WITNESS_PROP);
    private java.net.InetSocketAddress witnessAddress;
    private long pairId;
    private java.util.function.BooleanSupplier peerLinkDown = FileFlag.of(System.getProperty(PEER_LINK_DOWN_FILE_PROP));
    private java.util.function.BooleanSupplier witnessLinkDown =
        FileFlag.of(System.getProperty(WITNESS_LINK_DOWN_FILE_PROP));
    private java.util.function.LongConsumer truncationListener;
    private Path snapshotDir;
    private Supplier<IdleStrategy> idleStrategySupplier;
    private Member self;
    private Member peer;
    private boolean concluded;

    /**
     * Validate and derive. Called by {@link ReplicationNode#launch(ReplicationContext)}.
     *
     * @return this.
     * @throws IllegalArgumentException naming the bad setting.
     */
    public ReplicationContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (null == members || members.size() != Member.MAX_MEMBERS)
        {
            throw new IllegalArgumentException("members must list exactly " + Member.MAX_MEMBERS +
                " members (a primary and a standby): " + members);
        }
        for (final Member member : members)
        {
            if (member.id() == nodeId)
            {
                self = member;
            }
            else
            {
                peer = member;
            }
        }
        if (null == self)
        {
            throw new IllegalArgumentException("nodeId " + nodeId + " is not one of the members " + members);
        }
        if (null == journal)
        {
            throw new IllegalArgumentException("journal must be set (an open, writable journal)");
        }
        if (null == stateDir)
        {
            throw new IllegalArgumentException("stateDir must be set (where " + NodeStateFile.FILE_NAME + " lives)");
        }
        if (heartbeatIntervalMs < 1 || heartbeatIntervalMs > 1_000)
        {
            throw new IllegalArgumentException(HEARTBEAT_INTERVAL_PROP + " = " + heartbeatIntervalMs +
                " out of range [1, 1000]");
        }
        if (failureTimeoutMs < 3 * heartbeatIntervalMs || failureTimeoutMs > FAILURE_TIMEOUT_MAX_MS)
        {
            throw new IllegalArgumentException(FAILURE_TIMEOUT_PROP + " = " + failureTimeoutMs +
                " must be at least 3 heartbeat intervals (" + 3 * heartbeatIntervalMs + ") and at most " +
                FAILURE_TIMEOUT_MAX_MS);
        }
        if (termLengthBytes < 64 * 1024 || termLengthBytes > 1024 * 1024 * 1024 || Integer.bitCount(termLengthBytes) != 1)
        {
            throw new IllegalArgumentException(TERM_LENGTH_PROP + " = " + termLengthBytes +
                " must be a power of two in [64 KiB, 1 GiB]");
        }
        final int maxMessageBytes = Math.min(termLengthBytes / 8, 16 * 1024 * 1024);
        final int maxFrameBytes = org.agrona.BitUtil.align(journal.context().maxFrameLengthBytes(),
            FrameDescriptor.FRAME_ALIGNMENT);
        if (maxBatchBytes < 1024 || batchBufferBytes() > maxMessageBytes)
        {
            throw new IllegalArgumentException(MAX_BATCH_PROP + " = " + maxBatchBytes + " plus one largest journal " +
                "frame (" + maxFrameBytes + ") must fit one Aeron message (" + maxMessageBytes + " bytes for " +
                TERM_LENGTH_PROP + " = " + termLengthBytes + "), and be at least 1024");
        }
        if (maxInFlightBytes < batchBufferBytes())
        {
            throw new IllegalArgumentException(MAX_IN_FLIGHT_PROP + " = " + maxInFlightBytes +
                " must hold at least one batch (" + batchBufferBytes() + ")");
        }
        if (degradeToAsyncAfterMs < -1 || degradeToAsyncAfterMs > FAILURE_TIMEOUT_MAX_MS)
        {
            throw new IllegalArgumentException(DEGRADE_PROP + " = " + degradeToAsyncAfterMs +
                " must be -1 (never) or in [0, " + FAILURE_TIMEOUT_MAX_MS + "]");
        }
        if (promoteBehindAfterMs != -1 &&
            (promoteBehindAfterMs < failureTimeoutMs || promoteBehindAfterMs > FAILURE_TIMEOUT_MAX_MS))
        {
            throw new IllegalArgumentException(PROMOTE_BEHIND_PROP + " = " + promoteBehindAfterMs +
                " must be -1 (never) or in [the failure timeout " + failureTimeoutMs + ", " + FAILURE_TIMEOUT_MAX_MS +
                "]");
        }
        if (null != witness)
        {
            if (promoteBehindAfterMs >= 0)
            {
                throw new IllegalArgumentException(PROMOTE_BEHIND_PROP + " = " + promoteBehindAfterMs +
                    " and a witness: with a witness a standby's promotion follows the witness's in-sync set");
            }
            if (degradeToAsyncAfterMs >= 0)
            {
                throw new IllegalArgumentException(DEGRADE_PROP + " = " + degradeToAsyncAfterMs + " and a witness: " +
                    "with a witness a primary acknowledges alone safely once its standby is out of the in-sync set; " +
                    "degrading is not needed");
            }
            witnessAddress = parseWitness(witness);
        }
        pairId = pairId(members);
        if (null == idleStrategySupplier)
        {
            idleStrategySupplier = idleStrategy(idle);
        }
        if (null == aeronDirectoryName)
        {
            aeronDirectoryName = io.aeron.CommonContext.getAeronDirectoryName() + "-keel-" + nodeId;
        }
        concluded = true;
        return this;
    }

    /**
     * Idle strategy by name: {@code yield} (default), {@code backoff}, {@code sleep} (1 ms) or {@code spin} (only
     * with a dedicated core per spinning thread).
     *
     * @param name of the strategy.
     * @return a supplier of fresh instances.
     */
    public static Supplier<IdleStrategy> idleStrategy(final String name)
    {
        switch (name)
        {
            case "yield": return YieldingIdleStrategy::new;
            case "backoff": return () -> new BackoffIdleStrategy(10, 20, 1_000, 100_000);
            case "sleep": return () -> new SleepingMillisIdleStrategy(1);
            case "spin": return BusySpinIdleStrategy::new;
            default: throw new IllegalArgumentException(IDLE_PROP + " = '" + name +
                "': expected yield, backoff, sleep or spin");
        }
    }

    static java.net.InetSocketAddress parseWitness(final String hostPort)
    {
        final int colon = hostPort.lastIndexOf(':');
        final int port;
        try
        {
            port = colon > 0 ? Integer.parseInt(hostPort.substring(colon + 1)) : -1;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("witness '" + hostPort + "': expected host:port");
        }
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("witness '" + hostPort + "': expected host:port with port in [1, 65535]");
        }
        return new java.net.InetSocketAddress(hostPort.substring(0, colon), port);
    }

    /** The pair's name at the witness: a 64-bit FNV-1a hash of the members, sorted by id. */
    static long pairId(final List<Member> members)
    {
        final StringBuilder text = new StringBuilder();
        members.stream().sorted(java.util.Comparator.comparingInt(Member::id)).forEach(m -> text.append(m.id())
            .append('=').append(m.host()).append(':').append(m.clientPort()).append(':').append(m.replicationPort())
            .append(','));
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < text.length(); i++)
        {
            hash ^= text.charAt(i);
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    int batchBufferBytes()
    {
        return ReplicationMessage.FRAMES_HEADER_LENGTH + maxBatchBytes +
            org.agrona.BitUtil.align(journal.context().maxFrameLengthBytes(), FrameDescriptor.FRAME_ALIGNMENT);
    }

    /** @return this member. */
    public Member self()
    {
        return self;
    }

    /** @return the other member. */
    public Member peer()
    {
        return peer;
    }

    /** @return this node's member id. */
    public int nodeId()
    {
        return nodeId;
    }

    /** @param nodeId this node's member id. @return this. */
    public ReplicationContext nodeId(final int nodeId)
    {
        this.nodeId = nodeId;
        return this;
    }

    /** @return members of the pair. */
    public List<Member> members()
    {
        return members;
    }

    /** @param members of the pair (exactly two). @return this. */
    public ReplicationContext members(final List<Member> members)
    {
        this.members = members;
        return this;
    }

    /** @return the node's journal. */
    public Journal journal()
    {
        return journal;
    }

    /** @param journal open and writable; the node does not close it. @return this. */
    public ReplicationContext journal(final Journal journal)
    {
        this.journal = journal;
        return this;
    }

    /** @return directory of the node-state file. */
    public Path stateDir()
    {
        return stateDir;
    }

    /** @param stateDir directory of the node-state file. @return this. */
    public ReplicationContext stateDir(final Path stateDir)
    {
        this.stateDir = stateDir;
        return this;
    }

    /** @return ack mode. */
    public AckMode ackMode()
    {
        return ackMode;
    }

    /** @param ackMode SYNC (default) or ASYNC. @return this. */
    public ReplicationContext ackMode(final AckMode ackMode)
    {
        this.ackMode = ackMode;
        return this;
    }

    /** @return ms without a standby after which SYNC releases like ASYNC; -1 never (the default). */
    public long degradeToAsyncAfterMs()
    {
        return degradeToAsyncAfterMs;
    }

    /** @param ms without a standby before SYNC degrades to ASYNC; -1 never. @return this. */
    public ReplicationContext degradeToAsyncAfterMs(final long ms)
    {
        this.degradeToAsyncAfterMs = ms;
        return this;
    }

    /**
     * @return ms of silence from the primary after which a standby that is still catching up promotes itself anyway;
     * -1 never (the default). See {@link #promoteBehindAfterMs(long)}.
     */
    public long promoteBehindAfterMs()
    {
        return promoteBehindAfterMs;
    }

    /**
     * Availability over the acknowledged tail, for a primary that does not acknowledge in SYNC (ASYNC, or SYNC
     * degraded). A standby that began following and has not yet reached the primary's committed position does not
     * promote itself: the primary may only be stalled, and a promotion would make it step down and cut everything it
     * acknowledged beyond the standby's log. With this set, a standby still catching up promotes itself once its
     * primary has been silent this long, accepting that loss (logged with the bytes it was behind and counted as
     * {@code promotions behind}). A SYNC primary's standby holds what was acknowledged and is not concerned. Not
     * with a witness, whose in-sync set decides.
     *
     * @param ms of silence, at least the failure timeout; -1 never (the default).
     * @return this.
     */
    public ReplicationContext promoteBehindAfterMs(final long ms)
    {
        this.promoteBehindAfterMs = ms;
        return this;
    }

    /** @return heartbeat interval in ms. */
    public long heartbeatIntervalMs()
    {
        return heartbeatIntervalMs;
    }

    /** @param ms heartbeat interval. @return this. */
    public ReplicationContext heartbeatIntervalMs(final long ms)
    {
        this.heartbeatIntervalMs = ms;
        return this;
    }

    /** @return ms of silence after which the peer counts as lost. */
    public long failureTimeoutMs()
    {
        return failureTimeoutMs;
    }

    /** @param ms of silence after which the peer counts as lost. @return this. */
    public ReplicationContext failureTimeoutMs(final long ms)
    {
        this.failureTimeoutMs = ms;
        return this;
    }

    /** @return most frame bytes per FRAMES message (one frame may overshoot it). */
    public int maxBatchBytes()
    {
        return maxBatchBytes;
    }

    /** @param bytes most frame bytes per FRAMES message. @return this. */
    public ReplicationContext maxBatchBytes(final int bytes)
    {
        this.maxBatchBytes = bytes;
        return this;
    }

    /** @return most bytes sent ahead of the standby's appended position. */
    public int maxInFlightBytes()
    {
        return maxInFlightBytes;
    }

    /** @param bytes most bytes sent ahead of the standby's appended position. @return this. */
    public ReplicationContext maxInFlightBytes(final int bytes)
    {
        this.maxInFlightBytes = bytes;
        return this;
    }

    /** @return Aeron term length of the replication publication. */
    public int termLengthBytes()
    {
        return termLengthBytes;
    }

    /** @param bytes Aeron term length (power of two). @return this. */
    public ReplicationContext termLengthBytes(final int bytes)
    {
        this.termLengthBytes = bytes;
        return this;
    }

    /** @return Aeron stream id of the replication channel. */
    public int streamId()
    {
        return streamId;
    }

    /** @param streamId Aeron stream id. @return this. */
    public ReplicationContext streamId(final int streamId)
    {
        this.streamId = streamId;
        return this;
    }

    /** @return supplier of the agent's idle strategy. */
    public Supplier<IdleStrategy> idleStrategySupplier()
    {
        return idleStrategySupplier;
    }

    /** @param name idle strategy name, see {@link #idleStrategy(String)}. @return this. */
    public ReplicationContext idle(final String name)
    {
        this.idle = name;
        this.idleStrategySupplier = idleStrategy(name);
        return this;
    }

    /** @return the idle strategy name. */
    public String idle()
    {
        return idle;
    }

    /** @return Aeron directory. */
    public String aeronDirectoryName()
    {
        return aeronDirectoryName;
    }

    /** @param dir Aeron directory (of the embedded driver when launched). @return this. */
    public ReplicationContext aeronDirectoryName(final String dir)
    {
        this.aeronDirectoryName = dir;
        return this;
    }

    /** @return whether the node launches its own embedded media driver. */
    public boolean launchEmbeddedDriver()
    {
        return launchEmbeddedDriver;
    }

    /** @param launch whether to launch an embedded media driver. @return this. */
    public ReplicationContext launchEmbeddedDriver(final boolean launch)
    {
        this.launchEmbeddedDriver = launch;
        return this;
    }

    /** @return whether a standby promotes itself when the primary is lost. */
    public boolean autoPromote()
    {
        return autoPromote;
    }

    /** @param autoPromote whether a standby promotes itself when the primary is lost. @return this. */
    public ReplicationContext autoPromote(final boolean autoPromote)
    {
        this.autoPromote = autoPromote;
        return this;
    }

    /** @return told the position after each truncation by log matching (agent thread), or null. */
    public Path snapshotDir()
    {
        return snapshotDir;
    }

    /**
     * Where the application keeps its snapshots: a primary sends the newest one to a standby it cannot stream to
     * (empty, or behind its first retained segment); a standby installs the one it receives there.
     *
     * @param dir snapshot directory (the engine's), or null for none (such a standby cannot catch up then).
     * @return this.
     */
    public ReplicationContext snapshotDir(final Path dir)
    {
        this.snapshotDir = dir;
        return this;
    }

    /** @return called with the new end after the log was cut back (or restarted at a snapshot). */
    public java.util.function.LongConsumer truncationListener()
    {
        return truncationListener;
    }

    /**
     * @param listener told the position after each truncation by log matching, on the agent thread, before anything
     *                 is appended after it (e.g. to delete snapshots of the cut history).
     * @return this.
     */
    public ReplicationContext truncationListener(final java.util.function.LongConsumer listener)
    {
        this.truncationListener = listener;
        return this;
    }

    /** @return the witness as host:port, or null for a pair without one. */
    public String witness()
    {
        return witness;
    }

    /**
     * @param hostPort the witness ({@code ./keel witness}) as host:port; null (the default) for none. With a witness
     *                 a standby promotes itself only with its vote, and a primary acknowledges alone only while it
     *                 holds the witness's lease and its standby is out of the in-sync set.
     * @return this.
     */
    public ReplicationContext witness(final String hostPort)
    {
        this.witness = hostPort;
        return this;
    }

    java.net.InetSocketAddress witnessAddress()
    {
        return witnessAddress;
    }

    /** @return the pair's id at the witness (after {@link #conclude()}). */
    public long pairId()
    {
        return pairId;
    }

    /** @return test hook: true while traffic with the peer is to be dropped, or null. */
    public java.util.function.BooleanSupplier peerLinkDown()
    {
        return peerLinkDown;
    }

    /** @param hook test hook: true while traffic with the peer is to be dropped (both ways). @return this. */
    public ReplicationContext peerLinkDown(final java.util.function.BooleanSupplier hook)
    {
        this.peerLinkDown = hook;
        return this;
    }

    /** @return test hook: true while traffic with the witness is to be dropped, or null. */
    public java.util.function.BooleanSupplier witnessLinkDown()
    {
        return witnessLinkDown;
    }

    /** @param hook test hook: true while traffic with the witness is to be dropped (both ways). @return this. */
    public ReplicationContext witnessLinkDown(final java.util.function.BooleanSupplier hook)
    {
        this.witnessLinkDown = hook;
        return this;
    }

    /** @return test hook dropping received batches, or null. */
    public ReceiveFilter receiveFilter()
    {
        return receiveFilter;
    }

    /** @param filter test hook dropping received batches. @return this. */
    public ReplicationContext receiveFilter(final ReceiveFilter filter)
    {
        this.receiveFilter = filter;
        return this;
    }
}
