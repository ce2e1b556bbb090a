package io.keel.replication;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides how far a primary may release responses: the engine asks it once per batch (and when idle) with its
 * local durable position and releases the answers of commands that end at or before the returned position.
 * Safe to call from the engine's thread while the replication agent updates it.
 * <ul>
 *   <li>{@link AckMode#SYNC}: min(local durable position, the standby's acknowledged position). Without a standby
 *   (silent for the failure timeout) nothing more is released and {@link #status()} is {@link Status#NO_STANDBY}:
 *   the engine answers waiting commands with a NO_STANDBY error instead of leaving them in silence. When
 *   degrading was allowed, after that many ms without a standby it releases like ASYNC until the standby has
 *   caught up again.</li>
 *   <li>{@link AckMode#ASYNC}: the local durable position.</li>
 *   <li>Not primary (standby, or stepping down after seeing a higher epoch): {@link #NOTHING}.</li>
 * </ul>
 * With a witness ({@link ReplicationContext#witness(String)}), SYNC has one more case: a primary whose standby the
 * witness has taken out of the in-sync set ({@link #isAlone()}) releases up to its local durable position while its
 * lease is valid by its own clock; once the lease lapses it releases only what the standby acknowledged.
 * {@link #status()} says NO_STANDBY only when the primary could release nothing (no standby and no valid lease to
 * act alone) for longer than the failure timeout.
 */
public final class AckGate
{
    /** Returned when nothing may be released. */
    public static final long NOTHING = -1;

    /** What the gate allows now. */
    public enum Status
    {
        /** Primary with a standby (SYNC), or ASYNC, or SYNC degraded to ASYNC: responses flow. */
        RELEASE,
        /** SYNC primary without a standby: fail waiting commands with a clear NO_STANDBY error. */
        NO_STANDBY,
        /** Not the primary in the current epoch: acknowledge nothing; redirect clients. */
        NOT_PRIMARY
    }

    private final AckMode mode;
    private final AtomicLong standbyAckedPosition;
    private final AtomicLong releasedPosition = new AtomicLong();
    volatile boolean primary;
    volatile boolean standbyConnected;
    volatile boolean degraded;
    // witness mode: see the class comment
    private final boolean witnessMode;
    volatile boolean alone;
    volatile long leaseUntilNs;
    volatile boolean noStandby;

    AckGate(final AckMode mode, final AtomicLong standbyAckedPosition)
    {
        this(mode, standbyAckedPosition, false);
    }

    AckGate(final AckMode mode, final AtomicLong standbyAckedPosition, final boolean witnessMode)
    {
        this.mode = mode;
        this.standbyAckedPosition = standbyAckedPosition;
        this.witnessMode = witnessMode;
    }

    /**
     * How far responses may be released now.
     *
     * @param localDurablePosition the primary journal's durable position (its fsync policy met).
     * @return the highest position whose commands may be answered, or {@link #NOTHING}.
     */
    public long releasablePosition(final long localDurablePosition)
    {
        if (!primary)
        {
            return NOTHING;
        }
        final boolean leaseValid = witnessMode && System.nanoTime() - leaseUntilNs < 0;
        final boolean actAlone = leaseValid && alone;
        final long releasable;
        if ((AckMode.ASYNC == mode && (!witnessMode || leaseValid)) || degraded || actAlone)
        {
            releasable = localDurablePosition;
        }
        else
        {
            // SYNC; or ASYNC with a witness but no valid lease: only what the standby holds
            releasable = Math.min(localDurablePosition, standbyAckedPosition.get());
        }
        if (!primary)
        {
            return NOTHING; // stepped down meanwhile: the standby's acks may belong to an older epoch's log
        }
        long released = releasedPosition.get();
        while (releasable > released && !releasedPosition.compareAndSet(released, releasable))
        {
            released = releasedPosition.get();
        }
        if (actAlone && !alone)
        {
            // the agent ended acting alone meanwhile (to put the standby back in the in-sync set): it reads the
            // released position after clearing the flag, so it saw ours; release only what the standby holds
            return Math.min(localDurablePosition, standbyAckedPosition.get());
        }
        return releasable;
    }

    /** @return what the gate allows now. */
    public Status status()
    {
        if (!primary)
        {
            return Status.NOT_PRIMARY;
        }
        if (witnessMode)
        {
            return noStandby && AckMode.SYNC == mode ? Status.NO_STANDBY : Status.RELEASE;
        }
        if (AckMode.SYNC == mode && !standbyConnected && !degraded)
        {
            return Status.NO_STANDBY;
        }
        return Status.RELEASE;
    }

    /** @return ack mode. */
    public AckMode mode()
    {
        return mode;
    }

    /** @return the standby's acknowledged position in this epoch (the counter the engine gates on). */
    public long standbyAckedPosition()
    {
        return standbyAckedPosition.get();
    }

    /** @return highest position released so far. */
    public long releasedPosition()
    {
        return releasedPosition.get();
    }

    /** @return whether SYNC currently releases like ASYNC because the standby was lost for too long. */
    public boolean isDegraded()
    {
        return degraded;
    }

    /** @return whether the witness took the standby out of the in-sync set: this primary acknowledges alone. */
    public boolean isAlone()
    {
        return alone;
    }

    /** @return whether this gate runs with a witness. */
    public boolean witnessMode()
    {
        return witnessMode;
    }

    /**
     * A new epoch starts: everything already in the log may have been acknowledged by an earlier primary, so it
     * counts as released (a standby must hold it before it may take over).
     */
    void resetForNewEpoch(final long logEndPosition)
    {
        releasedPosition.set(logEndPosition);
    }
}
