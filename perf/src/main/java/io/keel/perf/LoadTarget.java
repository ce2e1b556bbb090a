package io.keel.perf;

/**
 * The sending side of a system under test as a load generator sees it. Called from one load thread only.
 */
public interface LoadTarget
{
    /**
     * Hands one operation to the system, stamped with the time it was meant to be sent. Retries under back
     * pressure until the operation is accepted; the wait counts as latency because it is measured from
     * {@code intendedNs}. Must not allocate.
     *
     * @param intendedNs intended send time on {@link NanoClock#SYSTEM}, carried with the operation so the
     *                   receiving side can record {@code completionNs - intendedNs}.
     */
    void send(long intendedNs);

    /**
     * Duty-cycle work the load thread does while it waits for the next send time or for replies: polling a
     * reply subscription, for example. Must not allocate.
     *
     * @return amount of work done, 0 when there was nothing to do (feeds the idle strategy).
     */
    default int poll()
    {
        return 0;
    }
}
