package io.keel.engine;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the engine is doing, readable from any thread. Written by the business-logic thread only (ordered
 * writes, no contention), except {@link #ringFull()} which producers count.
 */
public final class EngineCounters
{
    final AtomicLong commands = new AtomicLong();
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong duplicates = new AtomicLong();
    final AtomicLong events = new AtomicLong();
    final AtomicLong batches = new AtomicLong();
    final AtomicLong ringFull = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong snapshots = new AtomicLong();
    final AtomicLong snapshotsSkipped = new AtomicLong();
    final AtomicLong snapshotPauseNsLast = new AtomicLong();
    final AtomicLong snapshotPauseNsMax = new AtomicLong();
    final AtomicLong snapshotBytesLast = new AtomicLong();
    final AtomicLong replayedEvents = new AtomicLong();
    final AtomicLong replayNs = new AtomicLong();
    final AtomicLong durablePosition = new AtomicLong();

    static void increment(final AtomicLong counter)
    {
        counter.lazySet(counter.get() + 1);
    }

    static void add(final AtomicLong counter, final long delta)
    {
        counter.lazySet(counter.get() + delta);
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

    @Override
    public String toString()
    {
        return "commands=" + commands() + " accepted=" + accepted() + " rejected=" + rejected() + " failed=" +
            failed() + " duplicates=" + duplicates() + " events=" + events() + " batches=" + batches() +
            " ringFull=" + ringFull() + " errors=" + errors() + " snapshots=" + snapshots() +
            " snapshotPauseUsMax=" + snapshotPauseNsMax() / 1000 + " durablePosition=" + durablePosition();
    }
}
