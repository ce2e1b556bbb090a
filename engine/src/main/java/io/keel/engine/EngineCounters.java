package io.keel.engine;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * What the engine is doing, readable from any thread and, when the node gives the engine its counters file
 * ({@link EngineContext#countersManager}), from outside the process while it runs and after it died. Written by
 * the business-logic thread only (ordered writes, no contention), except {@link #ringFull()} which producers count,
 * {@link #errors()} which any thread counts, and the sampled gauges (ring depth, journal positions, fsyncs) which
 * {@link Engine#sampleGauges()} refreshes off the hot path.
 */
public final class EngineCounters
{
    /** Longest command latency the histogram tracks; longer ones are recorded as this. */
    public static final long LATENCY_MAX_NS = TimeUnit.SECONDS.toNanos(60);
    private static final int PRIVATE_COUNTERS = 128;

    private final CountersManager manager;
    final Counter commands;
    final Counter accepted;
    final Counter rejected;
    final Counter failed;
    final Counter duplicates;
    final Counter events;
    final Counter batches;
    final Counter ringFull;
    final Counter errors;
    final Counter snapshots;
    final Counter snapshotsSkipped;
    final Counter snapshotPauseNsLast;
    final Counter snapshotPauseNsMax;
    final Counter snapshotBytesLast;
    final Counter replayedEvents;
    final Counter replayNs;
    final Counter durablePosition;
    final Counter committedPosition;
    final Counter ringDepth;
    final Counter ringRemaining;
    final Counter fsyncs;
    final Counter fsyncNsTotal;
    final Counter fsyncNsMax;
    private final Counter otherRejections;
    private final Int2ObjectHashMap<Counter> rejectionsByCode = new Int2ObjectHashMap<>();
    private final SingleWriterRecorder latency;

    /** Counters in a private buffer, no latency histogram: an engine embedded without a node. */
    EngineCounters()
    {
        this(null, false);
    }

    /**
     * @param manager       where to allocate (a node's counters file), or null for a private buffer.
     * @param recordLatency keep a histogram of command latency (ring publish to answer release).
     */
    EngineCounters(final CountersManager manager, final boolean recordLatency)
    {
        this.manager = null != manager ? manager : new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(PRIVATE_COUNTERS * CountersManager.METADATA_LENGTH)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(PRIVATE_COUNTERS * CountersManager.COUNTER_LENGTH)));
        commands = counter("commands in");
        accepted = counter("accepted");
        rejected = counter("rejected");
        failed = counter("failed");
        duplicates = counter("duplicates");
        events = counter("events");
        batches = counter("batches (journal flushes)");
        ringFull = counter("ring full");
        errors = counter("errors");
        snapshots = counter("snapshots");
        snapshotsSkipped = counter("snapshots skipped");
        snapshotPauseNsLast = gauge("snapshot pause last ns");
        snapshotPauseNsMax = gauge("snapshot pause max ns");
        snapshotBytesLast = gauge("snapshot bytes last");
        replayedEvents = gauge("replayed events");
        replayNs = gauge("replay ns");
        durablePosition = gauge("journal durable position");
        committedPosition = gauge("journal committed position");
        ringDepth = gauge("ring depth");
        ringRemaining = gauge("ring remaining");
        fsyncs = counter("fsyncs");
        fsyncNsTotal = counter("fsync ns total");
        fsyncNsMax = gauge("fsync ns max");
        otherRejections = newCounter(CounterTypes.REJECTION, CounterTypes.KIND_COUNTER, "OTHER");
        latency = recordLatency ? new SingleWriterRecorder(1, LATENCY_MAX_NS, 3) : null;
    }

    private Counter counter(final String label)
    {
        return newCounter(CounterTypes.ENGINE, CounterTypes.KIND_COUNTER, label);
    }

    private Counter gauge(final String label)
    {
        return newCounter(CounterTypes.ENGINE, CounterTypes.KIND_GAUGE, label);
    }

    private Counter newCounter(final int typeId, final int kind, final String label)
    {
        final int id = CounterTypes.allocate(manager, typeId, kind, label);
        return new Counter(manager.valuesBuffer(), id, manager);
    }

    static void increment(final Counter counter)
    {
        counter.setRelease(counter.getPlain() + 1);
    }

    static void add(final Counter counter, final long delta)
    {
        counter.setRelease(counter.getPlain() + delta);
    }

    /**
     * Count a rejection by its reason. Business-logic thread only; allocates once per reason (its counter).
     */
    void onRejection(final Rejection rejection)
    {
        increment(rejected);
        Counter counter = rejectionsByCode.get(rejection.code());
        if (null == counter)
        {
            try
            {
                counter = newCounter(CounterTypes.REJECTION, CounterTypes.KIND_COUNTER, rejection.name());
            }
            catch (final IllegalStateException ex)
            {
                counter = otherRejections; // counters file full: still counted, under OTHER
            }
            rejectionsByCode.put(rejection.code(), counter);
        }
        increment(counter);
    }

    /**
     * Record one command's latency. Business-logic thread only; never allocates.
     */
    void recordLatency(final long latencyNs)
    {
        if (null != latency)
        {
            latency.recordValue(Math.min(Math.max(latencyNs, 0), LATENCY_MAX_NS));
        }
    }

    /** @return true when command latency is recorded. */
    public boolean recordsLatency()
    {
        return null != latency;
    }

    /**
     * The command latency (ring publish to answer release, ns) recorded since the previous call. Give it to
     * one reader only (e.g. the node's sampler), which may hand the previous histogram back to be reused.
     *
     * @param recycle the histogram returned by the previous call, or null.
     * @return latencies since the previous call, or null when latency is not recorded.
     */
    public Histogram latencyInterval(final Histogram recycle)
    {
        return null == latency ? null : latency.getIntervalHistogram(recycle);
    }

    /** @return the counters manager these counters live in (private unless the node provided one). */
    public CountersManager countersManager()
    {
        return manager;
    }

    /** @return journal position after the last whole group written (sampled). */
    public long committedPosition()
    {
        return committedPosition.get();
    }

    /** @return commands in the ring not yet taken by the business-logic thread (sampled). */
    public long ringDepth()
    {
        return ringDepth.get();
    }

    /** @return free ring slots (sampled). */
    public long ringRemaining()
    {
        return ringRemaining.get();
    }

    /** @return journal fsyncs (sampled). */
    public long fsyncs()
    {
        return fsyncs.get();
    }

    /** @return time spent in journal fsyncs, ns (sampled). */
    public long fsyncNsTotal()
    {
        return fsyncNsTotal.get();
    }

    /** @return commands taken from the ring (including duplicates). */
    public long commands()
    {
        return commands.get();
    }

    /** @return commands accepted (first time). */
    public long accepted()
    {
        return accepted.get();
    }

    /** @return commands rejected for a typed reason (first time). */
    public long rejected()
    {
        return rejected.get();
    }

    /** @return commands that failed (handler threw, or the engine stopped). */
    public long failed()
    {
        return failed.get();
    }

    /** @return retries answered from the idempotency window. */
    public long duplicates()
    {
        return duplicates.get();
    }

    /** @return events journaled and applied since start (replay not included). */
    public long events()
    {
        return events.get();
    }

    /** @return batches processed (one journal flush each). */
    public long batches()
    {
        return batches.get();
    }

    /** @return submissions refused because the ring was full. */
    public long ringFull()
    {
        return ringFull.get();
    }

    /** @return errors recorded (handler exceptions, response handler exceptions, I/O). */
    public long errors()
    {
        return errors.get();
    }

    /** @return snapshots written. */
    public long snapshots()
    {
        return snapshots.get();
    }

    /** @return snapshots not taken because the previous one was still being written. */
    public long snapshotsSkipped()
    {
        return snapshotsSkipped.get();
    }

    /** @return pause of the business-logic thread for the last snapshot (serialising state), ns. */
    public long snapshotPauseNsLast()
    {
        return snapshotPauseNsLast.get();
    }

    /** @return longest snapshot pause of the business-logic thread, ns. */
    public long snapshotPauseNsMax()
    {
        return snapshotPauseNsMax.get();
    }

    /** @return size of the last snapshot's state, bytes. */
    public long snapshotBytesLast()
    {
        return snapshotBytesLast.get();
    }

    /** @return events replayed from the journal at start-up. */
    public long replayedEvents()
    {
        return replayedEvents.get();
    }

    /** @return time the start-up replay took (including apply), ns. */
    public long replayNs()
    {
        return replayNs.get();
    }

    /** @return journal position up to which answers may be released. */
    public long durablePosition()
    {
        return durablePosition.get();
    }

    /**
     * A counter the engine writes with the same calls it used on {@code AtomicLong}s: {@code lazySet} is a release
     * store, {@code incrementAndGet} an atomic add for counters written by several threads.
     */
    static final class Counter extends AtomicCounter
    {
        Counter(final AtomicBuffer buffer, final int counterId, final CountersManager manager)
        {
            super(buffer, counterId, manager);
        }

        void lazySet(final long value)
        {
            setRelease(value);
        }

        long incrementAndGet()
        {
            return increment() + 1;
        }
    }

    @Override
    public String toString()
    {
        return "commands=" + commands() + " accepted=" + accepted() + " rejected=" + rejected() + " failed=" +
            failed() + " duplicates=" + duplicates() + " events=" + events() + " batches=" + batches() +
            " ringFull=" + ringFull() + " errors=" + errors() + " snapshots=" + snapshots() +
            " snapshotPauseUsMax=" + snapshotPauseNsMax() / 1000 + " durablePosition=" + durablePosition();
    }
}
