package io.keel.replication;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What replication is doing, readable from any thread: positions, lag, traffic, repairs and role changes.
 */
public final class ReplicationCounters
{
    final AtomicLong epoch = new AtomicLong();
    final AtomicLong committedPosition = new AtomicLong();
    final AtomicLong standbyAckedPosition = new AtomicLong();
    final AtomicLong lagBytes = new AtomicLong();
    final AtomicLong lagNs = new AtomicLong();
    final AtomicLong batchesSent = new AtomicLong();
    final AtomicLong bytesSent = new AtomicLong();
    final AtomicLong backPressured = new AtomicLong();
    final AtomicLong resendsServed = new AtomicLong();
    final AtomicLong framesAppended = new AtomicLong();
    final AtomicLong batchesDropped = new AtomicLong();
    final AtomicLong framesRejected = new AtomicLong();
    final AtomicLong resendRequests = new AtomicLong();
    final AtomicLong truncations = new AtomicLong();
    final AtomicLong truncatedBytes = new AtomicLong();
    final AtomicLong promotions = new AtomicLong();
    final AtomicLong stepDowns = new AtomicLong();
    final AtomicLong standbyLosses = new AtomicLong();
    final AtomicLong degradations = new AtomicLong();
    final AtomicLong catchUps = new AtomicLong();
    final AtomicLong promotionsBehind = new AtomicLong();
    final AtomicLong malformedMessages = new AtomicLong();
    final AtomicLong errors = new AtomicLong();

    /**
     * @return standby: times it reached the primary's committed position as of its first heartbeat after following
     * it (once per follow). Before that, unless the primary acknowledges in SYNC, it does not promote itself.
     */
    public long catchUps()
    {
        return catchUps.get();
    }

    /**
     * @return promotions of a standby still catching up with a primary that did not acknowledge in SYNC, allowed by
     * {@link ReplicationContext#promoteBehindAfterMs(long)}: each may have lost acknowledged commands.
     */
    public long promotionsBehind()
    {
        return promotionsBehind.get();
    }

    /** @return current epoch. */
    public long epoch()
    {
        return epoch.get();
    }

    /** @return primary: its journal's committed position as last seen by the replication agent. */
    public long committedPosition()
    {
        return committedPosition.get();
    }

    /** @return primary: position the standby holds durably (acknowledged) in this epoch. */
    public long standbyAckedPosition()
    {
        return standbyAckedPosition.get();
    }

    /** @return primary: committed bytes the standby has not acknowledged. */
    public long lagBytes()
    {
        return lagBytes.get();
    }

    /** @return primary: time since the standby last had everything committed, ns (0 when caught up). */
    public long lagNs()
    {
        return lagNs.get();
    }

    /** @return FRAMES messages sent. */
    public long batchesSent()
    {
        return batchesSent.get();
    }

    /** @return frame bytes sent. */
    public long bytesSent()
    {
        return bytesSent.get();
    }

    /** @return offers refused by back pressure or a missing peer (retried). */
    public long backPressured()
    {
        return backPressured.get();
    }

    /** @return resend requests the primary served by rewinding. */
    public long resendsServed()
    {
        return resendsServed.get();
    }

    /** @return standby: frames appended. */
    public long framesAppended()
    {
        return framesAppended.get();
    }

    /** @return standby: batches dropped by the test hook. */
    public long batchesDropped()
    {
        return batchesDropped.get();
    }

    /** @return standby: frames refused (checksum, position, epoch). */
    public long framesRejected()
    {
        return framesRejected.get();
    }

    /** @return standby: resend requests sent after a gap or a refused frame. */
    public long resendRequests()
    {
        return resendRequests.get();
    }

    /** @return standby: truncations of a divergent tail. */
    public long truncations()
    {
        return truncations.get();
    }

    /** @return standby: bytes cut by truncations. */
    public long truncatedBytes()
    {
        return truncatedBytes.get();
    }

    /** @return promotions to primary. */
    public long promotions()
    {
        return promotions.get();
    }

    /** @return step-downs after seeing a higher epoch. */
    public long stepDowns()
    {
        return stepDowns.get();
    }

    /** @return primary: times the standby was declared lost. */
    public long standbyLosses()
    {
        return standbyLosses.get();
    }

    /** @return primary: times SYNC degraded to ASYNC. */
    public long degradations()
    {
        return degradations.get();
    }

    /** @return messages too short, of an unknown type, or from a non-member. */
    public long malformedMessages()
    {
        return malformedMessages.get();
    }

    /** @return errors reported to the error handler. */
    public long errors()
    {
        return errors.get();
    }

    @Override
    public String toString()
    {
        return "epoch=" + epoch() + " committed=" + committedPosition() + " standbyAcked=" + standbyAckedPosition() +
            " lagBytes=" + lagBytes() + " lagUs=" + lagNs() / 1000 + " batchesSent=" + batchesSent() +
            " bytesSent=" + bytesSent() + " backPressured=" + backPressured() + " resendsServed=" + resendsServed() +
            " framesAppended=" + framesAppended() + " batchesDropped=" + batchesDropped() + " framesRejected=" +
            framesRejected() + " resendRequests=" + resendRequests() + " truncations=" + truncations() +
            " truncatedBytes=" + truncatedBytes() + " promotions=" + promotions() + " stepDowns=" + stepDowns() +
            " standbyLosses=" + standbyLosses() + " degradations=" + degradations() + " malformed=" +
            malformedMessages() + " errors=" + errors();
    }
}
