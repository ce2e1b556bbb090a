package io.keel.engine;

import io.keel.journal.JournalContext;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.OffsetEpochNanoClock;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;

/**
 * Configuration of an {@link Engine}. Defaults come from system properties ({@code keel.engine.*});
 * {@link #conclude()} validates every setting and fails naming it.
 */
public final class EngineContext
{
    /** Ring buffer slots, a power of two. */
    public static final String RING_SIZE_PROP = "keel.engine.ring.size";
    /** How the business-logic thread waits for work: busy-spin, yield, backoff or sleep. */
    public static final String IDLE_STRATEGY_PROP = "keel.engine.idle";
    /** Most commands processed between two journal flushes. */
    public static final String MAX_BATCH_PROP = "keel.engine.max.batch";
    /** Answers waiting for durability, at most. */
    public static final String MAX_PENDING_RESPONSES_PROP = "keel.engine.max.pending.responses";
    /** Commands remembered for idempotent retries. */
    public static final String IDEMPOTENCY_WINDOW_PROP = "keel.engine.idempotency.window";
    /** Largest encoded command. */
    public static final String MAX_COMMAND_LENGTH_PROP = "keel.engine.max.command.length";
    /** Most events one command may emit. */
    public static final String MAX_EVENTS_PER_COMMAND_PROP = "keel.engine.max.events.per.command";
    /** Most encoded event bytes one command may emit. */
    public static final String MAX_EVENT_BYTES_PER_COMMAND_PROP = "keel.engine.max.event.bytes.per.command";
    /** Snapshot after this many events (0 = never by count). */
    public static final String SNAPSHOT_EVERY_EVENTS_PROP = "keel.engine.snapshot.every.events";
    /** Snapshot after this many ms when events arrived since the last one (0 = never by time). */
    public static final String SNAPSHOT_INTERVAL_MS_PROP = "keel.engine.snapshot.interval.ms";
    /** Snapshots kept on disk. */
    public static final String SNAPSHOT_RETAIN_PROP = "keel.engine.snapshot.retain";
    /** System property: true to delete journal segments the oldest kept snapshot covers. */
    public static final String JOURNAL_RETENTION_PROP = "keel.engine.journal.retention";

    public static final int RING_SIZE_DEFAULT = 8192;
    public static final int RING_SIZE_MAX = 1 << 22;
    public static final int MAX_BATCH_DEFAULT = 2048;
    public static final int IDEMPOTENCY_WINDOW_DEFAULT = 1 << 18;
    public static final int MAX_COMMAND_LENGTH_DEFAULT = 512;
    public static final int MAX_EVENTS_PER_COMMAND_DEFAULT = 64;
    public static final int MAX_EVENT_BYTES_PER_COMMAND_DEFAULT = 16 * 1024;
    public static final int SNAPSHOT_RETAIN_DEFAULT = 3;

    private Domain domain;
    private JournalContext journalContext = new JournalContext();
    private Path snapshotDir;
    private int ringSize = Integer.getInteger(RING_SIZE_PROP, RING_SIZE_DEFAULT);
    private String idleStrategyName = System.getProperty(IDLE_STRATEGY_PROP, "backoff");
    private IdleStrategy idleStrategy;
    private int maxBatchSize = Integer.getInteger(MAX_BATCH_PROP, 0);
    private int maxPendingResponses = Integer.getInteger(MAX_PENDING_RESPONSES_PROP, 0);
    private int idempotencyWindow = Integer.getInteger(IDEMPOTENCY_WINDOW_PROP, IDEMPOTENCY_WINDOW_DEFAULT);
    private org.agrona.concurrent.status.CountersManager countersManager;
    private org.agrona.concurrent.errors.DistinctErrorLog errorLog;
    private boolean recordLatency;
    private boolean invoked;
    private boolean journalRetention = Boolean.getBoolean(JOURNAL_RETENTION_PROP);
    private java.util.function.LongSupplier retentionFloor = () -> Long.MAX_VALUE;
    private int maxCommandLengthBytes = Integer.getInteger(MAX_COMMAND_LENGTH_PROP, MAX_COMMAND_LENGTH_DEFAULT);
    private int maxEventsPerCommand = Integer.getInteger(MAX_EVENTS_PER_COMMAND_PROP, MAX_EVENTS_PER_COMMAND_DEFAULT);
    private int maxEventBytesPerCommand =
        Integer.getInteger(MAX_EVENT_BYTES_PER_COMMAND_PROP, MAX_EVENT_BYTES_PER_COMMAND_DEFAULT);
    private long snapshotEveryEvents = Long.getLong(SNAPSHOT_EVERY_EVENTS_PROP, 0);
    private long snapshotIntervalNs = TimeUnit.MILLISECONDS.toNanos(Long.getLong(SNAPSHOT_INTERVAL_MS_PROP, 0));
    private int snapshotRetainCount = Integer.getInteger(SNAPSHOT_RETAIN_PROP, SNAPSHOT_RETAIN_DEFAULT);
    private boolean snapshotOnClose;
    private long epoch;
    private long drainTimeoutNs = TimeUnit.SECONDS.toNanos(10);
    private EpochNanoClock clock;
    private ErrorHandler errorHandler;
    private LongUnaryOperator releaseGate;
    private java.util.function.Supplier<String> availability;
    private boolean startAsFollower;
    private boolean concluded;

    /**
     * Validate the settings and derive the rest. Called by {@link Engine#launch(EngineContext)}.
     *
     * @return this.
     * @throws IllegalArgumentException naming the first bad setting.
     */
    public EngineContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (null == domain)
        {
            throw new IllegalArgumentException("domain must be set");
        }
        domain.conclude();
        if (null == journalContext)
        {
            throw new IllegalArgumentException("journalContext must be set");
        }
        journalContext.conclude();
        if (ringSize < 2 || ringSize > RING_SIZE_MAX || Integer.bitCount(ringSize) != 1)
        {
            throw new IllegalArgumentException(RING_SIZE_PROP + " (ringSize) = " + ringSize +
                " must be a power of two in [2, " + RING_SIZE_MAX + "]");
        }
        if (null == idleStrategy)
        {
            idleStrategy = idleStrategy(idleStrategyName);
        }
        if (0 == maxBatchSize)
        {
            maxBatchSize = Math.min(ringSize, MAX_BATCH_DEFAULT);
        }
        if (maxBatchSize < 1 || maxBatchSize > ringSize)
        {
            throw new IllegalArgumentException(MAX_BATCH_PROP + " (maxBatchSize) = " + maxBatchSize +
                " must be in [1, ringSize = " + ringSize + "]");
        }
        if (0 == maxPendingResponses)
        {
            maxPendingResponses = Math.max(ringSize, maxBatchSize * 2);
        }
        if (maxPendingResponses < maxBatchSize)
        {
            throw new IllegalArgumentException(MAX_PENDING_RESPONSES_PROP + " (maxPendingResponses) = " +
                maxPendingResponses + " must be at least maxBatchSize = " + maxBatchSize);
        }
        if (idempotencyWindow < 1 || idempotencyWindow > (1 << 26))
        {
            throw new IllegalArgumentException(IDEMPOTENCY_WINDOW_PROP + " (idempotencyWindow) = " +
                idempotencyWindow + " must be in [1, 2^26]");
        }
        if (maxCommandLengthBytes < 8 || maxCommandLengthBytes > 1 << 20)
        {
            throw new IllegalArgumentException(MAX_COMMAND_LENGTH_PROP + " (maxCommandLengthBytes) = " +
                maxCommandLengthBytes + " must be in [8, 1 MiB]");
        }
        if (maxEventsPerCommand < 1 || maxEventsPerCommand > journalContext.maxFramesPerGroup())
        {
            throw new IllegalArgumentException(MAX_EVENTS_PER_COMMAND_PROP + " (maxEventsPerCommand) = " +
                maxEventsPerCommand + " must be in [1, journal maxFramesPerGroup = " +
                journalContext.maxFramesPerGroup() + "]");
        }
        if (maxEventBytesPerCommand < 8 || maxEventBytesPerCommand > 64 * 1024 * 1024)
        {
            throw new IllegalArgumentException(MAX_EVENT_BYTES_PER_COMMAND_PROP + " (maxEventBytesPerCommand) = " +
                maxEventBytesPerCommand + " must be in [8, 64 MiB]");
        }
        final int maxPayload = journalContext.maxFrameLengthBytes() - io.keel.journal.FrameDescriptor.HEADER_LENGTH;
        if (maxEventBytesPerCommand > maxPayload)
        {
            throw new IllegalArgumentException(MAX_EVENT_BYTES_PER_COMMAND_PROP + " (maxEventBytesPerCommand) = " +
                maxEventBytesPerCommand + " must fit one journal frame payload (" + maxPayload + " bytes, from " +
                JournalContext.MAX_FRAME_LENGTH_PROP + ")");
        }
        if (snapshotEveryEvents < 0)
        {
            throw new IllegalArgumentException(SNAPSHOT_EVERY_EVENTS_PROP + " (snapshotEveryEvents) = " +
                snapshotEveryEvents + " must be >= 0");
        }
        if (snapshotIntervalNs < 0)
        {
            throw new IllegalArgumentException(SNAPSHOT_INTERVAL_MS_PROP + " (snapshotIntervalNs) = " +
                snapshotIntervalNs + " must be >= 0");
        }
        if (snapshotRetainCount < 1)
        {
            throw new IllegalArgumentException(SNAPSHOT_RETAIN_PROP + " (snapshotRetainCount) = " +
                snapshotRetainCount + " must be >= 1");
        }
        if (null == snapshotDir)
        {
            snapshotDir = journalContext.dir().resolve("snapshots");
        }
        if (epoch < 0)
        {
            throw new IllegalArgumentException("epoch = " + epoch + " must be >= 0 (0 = continue the journal's)");
        }
        if (drainTimeoutNs <= 0)
        {
            throw new IllegalArgumentException("drainTimeoutNs = " + drainTimeoutNs + " must be > 0");
        }
        if (null == clock)
        {
            clock = new OffsetEpochNanoClock();
        }
        if (null == releaseGate)
        {
            releaseGate = LongUnaryOperator.identity();
        }
        if (null == availability)
        {
            availability = () -> null;
        }
        concluded = true;
        return this;
    }

    /**
     * Idle strategy by name.
     *
     * @param name busy-spin (a dedicated core), yield, backoff (default: spins, yields, then parks) or sleep.
     * @return a new strategy.
     */
    public static IdleStrategy idleStrategy(final String name)
    {
        switch (name)
        {
            case "busy-spin":
                return new BusySpinIdleStrategy();
            case "yield":
                return new YieldingIdleStrategy();
            case "backoff":
                return new BackoffIdleStrategy(10, 20, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(100));
            case "sleep":
                return new SleepingMillisIdleStrategy(1);
            default:
                throw new IllegalArgumentException(IDLE_STRATEGY_PROP + " = '" + name +
                    "': expected busy-spin, yield, backoff or sleep");
        }
    }

    /** @return the application. */
    public Domain domain()
    {
        return domain;
    }

    /**
     * @param domain the application: types, handler, aggregates.
     * @return this.
     */
    public EngineContext domain(final Domain domain)
    {
        this.domain = domain;
        return this;
    }

    /** @return journal configuration. */
    public JournalContext journalContext()
    {
        return journalContext;
    }

    /**
     * @param journalContext journal configuration (directory, durability...).
     * @return this.
     */
    public EngineContext journalContext(final JournalContext journalContext)
    {
        this.journalContext = journalContext;
        return this;
    }

    /** @return snapshot directory (default: {@code snapshots} in the journal directory). */
    public Path snapshotDir()
    {
        return snapshotDir;
    }

    /**
     * @param snapshotDir snapshot directory.
     * @return this.
     */
    public EngineContext snapshotDir(final Path snapshotDir)
    {
        this.snapshotDir = snapshotDir;
        return this;
    }

    /** @return ring buffer slots. */
    public int ringSize()
    {
        return ringSize;
    }

    /**
     * @param ringSize ring buffer slots, a power of two.
     * @return this.
     */
    public EngineContext ringSize(final int ringSize)
    {
        this.ringSize = ringSize;
        return this;
    }

    /** @return how the business-logic thread waits for work. */
    public IdleStrategy idleStrategy()
    {
        return idleStrategy;
    }

    /**
     * @param idleStrategy how the business-logic thread waits for work.
     * @return this.
     */
    public EngineContext idleStrategy(final IdleStrategy idleStrategy)
    {
        this.idleStrategy = idleStrategy;
        return this;
    }

    /**
     * @param name of the idle strategy, see {@link #idleStrategy(String)}.
     * @return this.
     */
    public EngineContext idleStrategyName(final String name)
    {
        this.idleStrategy = idleStrategy(name);
        return this;
    }

    /**
     * Run the business logic inside the host's own duty cycle instead of on a thread of its own: the host (a node's
     * gateway thread) calls {@link Engine#invoke()} each cycle, so one thread receives a command, decides, journals
     * and answers it with no hand-off between threads. The engine's idle strategy is then unused (the host's
     * applies); everything else is unchanged (still one writer, still the ring for any other producer).
     *
     * @param invoked true to be invoked by a host; false (the default) for a dedicated business-logic thread.
     * @return this.
     */
    public EngineContext invoked(final boolean invoked)
    {
        this.invoked = invoked;
        return this;
    }

    /**
     * Journal retention: after each snapshot, delete the journal segments wholly before the OLDEST snapshot kept
     * ({@link #snapshotRetainCount(int)} of them), so any kept snapshot can still be recovered from, while the disk
     * holds a bounded log. Off by default: the full history stays (time travel to any version). The deleted
     * history is gone from this node: time travel before the journal's start answers that it is not retained.
     *
     * @param retention true to delete covered segments.
     * @return this.
     */
    public EngineContext journalRetention(final boolean retention)
    {
        this.journalRetention = retention;
        return this;
    }

    /**
     * @param floor read on the business thread before each deletion: retention keeps everything from this position
     *              on (a replicator streaming to a connected standby supplies the standby's position, so the
     *              segments it still needs are not deleted under it).
     * @return this.
     */
    public EngineContext retentionFloor(final java.util.function.LongSupplier floor)
    {
        this.retentionFloor = floor;
        return this;
    }

    /** @return see {@link #retentionFloor(java.util.function.LongSupplier)}. */
    public java.util.function.LongSupplier retentionFloor()
    {
        return retentionFloor;
    }

    /** @return true when covered journal segments are deleted after snapshots. */
    public boolean journalRetention()
    {
        return journalRetention;
    }

    /** @return true when a host invokes the business logic (see {@link #invoked(boolean)}). */
    public boolean invoked()
    {
        return invoked;
    }

    /** @return most commands between two journal flushes. */
    public int maxBatchSize()
    {
        return maxBatchSize;
    }

    /**
     * @param maxBatchSize most commands between two journal flushes (0 = min(ringSize, 2048)).
     * @return this.
     */
    public EngineContext maxBatchSize(final int maxBatchSize)
    {
        this.maxBatchSize = maxBatchSize;
        return this;
    }

    /** @return most answers waiting for durability. */
    public int maxPendingResponses()
    {
        return maxPendingResponses;
    }

    /**
     * @param maxPendingResponses most answers waiting for durability (0 = derived from the ring size).
     * @return this.
     */
    public EngineContext maxPendingResponses(final int maxPendingResponses)
    {
        this.maxPendingResponses = maxPendingResponses;
        return this;
    }

    /** @return commands remembered for idempotent retries. */
    public int idempotencyWindow()
    {
        return idempotencyWindow;
    }

    /**
     * @param idempotencyWindow commands remembered for idempotent retries.
     * @return this.
     */
    public EngineContext idempotencyWindow(final int idempotencyWindow)
    {
        this.idempotencyWindow = idempotencyWindow;
        return this;
    }

    /** @return largest encoded command. */
    public int maxCommandLengthBytes()
    {
        return maxCommandLengthBytes;
    }

    /**
     * @param maxCommandLengthBytes largest encoded command: the size of each ring slot's bytes.
     * @return this.
     */
    public EngineContext maxCommandLengthBytes(final int maxCommandLengthBytes)
    {
        this.maxCommandLengthBytes = maxCommandLengthBytes;
        return this;
    }

    /** @return most events one command may emit. */
    public int maxEventsPerCommand()
    {
        return maxEventsPerCommand;
    }

    /**
     * @param maxEventsPerCommand most events one command may emit.
     * @return this.
     */
    public EngineContext maxEventsPerCommand(final int maxEventsPerCommand)
    {
        this.maxEventsPerCommand = maxEventsPerCommand;
        return this;
    }

    /** @return most encoded event bytes one command may emit. */
    public int maxEventBytesPerCommand()
    {
        return maxEventBytesPerCommand;
    }

    /**
     * @param maxEventBytesPerCommand most encoded event bytes one command may emit.
     * @return this.
     */
    public EngineContext maxEventBytesPerCommand(final int maxEventBytesPerCommand)
    {
        this.maxEventBytesPerCommand = maxEventBytesPerCommand;
        return this;
    }

    /** @return snapshot after this many events (0 = never by count). */
    public long snapshotEveryEvents()
    {
        return snapshotEveryEvents;
    }

    /**
     * @param snapshotEveryEvents snapshot after this many events (0 = never by count).
     * @return this.
     */
    public EngineContext snapshotEveryEvents(final long snapshotEveryEvents)
    {
        this.snapshotEveryEvents = snapshotEveryEvents;
        return this;
    }

    /** @return snapshot this often when events arrived since the last one (0 = never by time). */
    public long snapshotIntervalNs()
    {
        return snapshotIntervalNs;
    }

    /**
     * @param snapshotIntervalNs snapshot this often when events arrived since the last one (0 = never by time).
     * @return this.
     */
    public EngineContext snapshotIntervalNs(final long snapshotIntervalNs)
    {
        this.snapshotIntervalNs = snapshotIntervalNs;
        return this;
    }

    /** @return snapshots kept on disk. */
    public int snapshotRetainCount()
    {
        return snapshotRetainCount;
    }

    /**
     * @param snapshotRetainCount snapshots kept on disk.
     * @return this.
     */
    public EngineContext snapshotRetainCount(final int snapshotRetainCount)
    {
        this.snapshotRetainCount = snapshotRetainCount;
        return this;
    }

    /** @return true when {@link Engine#close()} takes a final snapshot. */
    public boolean snapshotOnClose()
    {
        return snapshotOnClose;
    }

    /**
     * @param snapshotOnClose take a final snapshot on close, so the next start replays nothing.
     * @return this.
     */
    public EngineContext snapshotOnClose(final boolean snapshotOnClose)
    {
        this.snapshotOnClose = snapshotOnClose;
        return this;
    }

    /** @return where the engine allocates its counters (a node's counters file), or null for a private buffer. */
    public org.agrona.concurrent.status.CountersManager countersManager()
    {
        return countersManager;
    }

    /**
     * @param countersManager where the engine allocates its counters, e.g. a node's memory-mapped counters file so
     *                        they can be read from outside the process; null (default) keeps them private.
     * @return this.
     */
    public EngineContext countersManager(final org.agrona.concurrent.status.CountersManager countersManager)
    {
        this.countersManager = countersManager;
        return this;
    }

    /** @return where distinct errors are logged, or null for a private in-memory log. */
    public org.agrona.concurrent.errors.DistinctErrorLog errorLog()
    {
        return errorLog;
    }

    /**
     * @param errorLog where the engine records distinct errors, e.g. over a node's memory-mapped error file so they
     *                 can be read after a crash; null (default) keeps a private in-memory log.
     * @return this.
     */
    public EngineContext errorLog(final org.agrona.concurrent.errors.DistinctErrorLog errorLog)
    {
        this.errorLog = errorLog;
        return this;
    }

    /** @return true when the engine keeps a histogram of command latency. */
    public boolean recordLatency()
    {
        return recordLatency;
    }

    /**
     * @param recordLatency keep an HdrHistogram of command latency (ring publish to answer release), read with
     *                      {@link EngineCounters#latencyInterval}; costs one clock read per command and one per
     *                      released batch, allocates nothing. Default false.
     * @return this.
     */
    public EngineContext recordLatency(final boolean recordLatency)
    {
        this.recordLatency = recordLatency;
        return this;
    }

    /** @return epoch frames are written with (0 = the journal's last epoch, at least 1). */
    public long epoch()
    {
        return epoch;
    }

    /**
     * @param epoch epoch frames are written with (0 = the journal's last epoch, at least 1).
     * @return this.
     */
    public EngineContext epoch(final long epoch)
    {
        this.epoch = epoch;
        return this;
    }

    /** @return how long close waits for the ring to drain. */
    public long drainTimeoutNs()
    {
        return drainTimeoutNs;
    }

    /**
     * @param drainTimeoutNs how long close waits for the ring to drain.
     * @return this.
     */
    public EngineContext drainTimeoutNs(final long drainTimeoutNs)
    {
        this.drainTimeoutNs = drainTimeoutNs;
        return this;
    }

    /** @return clock for event timestamps. */
    public EpochNanoClock clock()
    {
        return clock;
    }

    /**
     * @param clock for event timestamps (the engine keeps them non-decreasing).
     * @return this.
     */
    public EngineContext clock(final EpochNanoClock clock)
    {
        this.clock = clock;
        return this;
    }

    /** @return extra error handler, or null. */
    public ErrorHandler errorHandler()
    {
        return errorHandler;
    }

    /**
     * @param errorHandler also told about every error (after the engine counts and logs it).
     * @return this.
     */
    public EngineContext errorHandler(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
        return this;
    }

    /** @return maps the journal's durable position to the position up to which answers may be released. */
    public LongUnaryOperator releaseGate()
    {
        return releaseGate;
    }

    /**
     * Where replication plugs in: answers are released up to {@code releaseGate(durablePosition)}, e.g.
     * {@code durable -> Math.min(durable, standbyAckedPosition)} in SYNC mode. Called on the business-logic thread
     * after every batch and while idle with answers pending; must not allocate or block, and must never return
     * more than it was given. Default: the durable position.
     *
     * @param releaseGate the gate.
     * @return this.
     */
    public EngineContext releaseGate(final LongUnaryOperator releaseGate)
    {
        this.releaseGate = releaseGate;
        return this;
    }

    /** @return tells whether commands may be taken and answered now (null) or why not. */
    public java.util.function.Supplier<String> availability()
    {
        return availability;
    }

    /**
     * Where replication says whether this engine may take and answer commands: asked once per batch on the
     * business-logic thread; {@code null} means yes, otherwise one of the {@link Availability} reasons. While it
     * refuses, new commands are answered FAILED with that reason (nothing is journaled) and the answers waiting for
     * release are failed with it (after releasing what the release gate allows). Must not allocate or block.
     * Default: always available.
     *
     * @param availability the check.
     * @return this.
     */
    public EngineContext availability(final java.util.function.Supplier<String> availability)
    {
        this.availability = availability;
        return this;
    }

    /** @return true when the engine starts as a follower (see {@link #startAsFollower(boolean)}). */
    public boolean startAsFollower()
    {
        return startAsFollower;
    }

    /**
     * Start as a follower of a replicated pair: after recovery the business-logic thread does not append; it tails
     * its own journal (which the replication layer appends to) and applies every group with the recovery code path,
     * refusing commands with {@link Availability#NOT_PRIMARY}, until {@link Engine#lead(long, boolean, long)}.
     *
     * @param startAsFollower true for a member of a replicated pair.
     * @return this.
     */
    public EngineContext startAsFollower(final boolean startAsFollower)
    {
        this.startAsFollower = startAsFollower;
        return this;
    }
}
