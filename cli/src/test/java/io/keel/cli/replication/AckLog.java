package io.keel.cli.replication;

import io.keel.gateway.Member;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * When a probe client's commands were acknowledged, and by which member: written by the probe's thread, read by the
 * test's. The member is the one the client was connected to as the answer completed; an answer of a primary killed
 * a moment ago can still arrive after the kill (it was on its way), so a failover gap counts from the new primary's
 * first answer only.
 */
final class AckLog
{
    private final List<long[]> acks = new ArrayList<>(); // {commandId, ackNs, member id or -1}

    synchronized void add(final long commandId, final Member member)
    {
        acks.add(new long[]{commandId, System.nanoTime(), null == member ? -1 : member.id()});
    }

    synchronized int size()
    {
        return acks.size();
    }

    /** @return acknowledgements after ns (System.nanoTime). */
    synchronized long countAfter(final long ns)
    {
        return acks.stream().filter(a -> a[1] - ns > 0).count();
    }

    /**
     * @param count  acknowledgements to wait for.
     * @param waitMs deadline.
     * @param name   of the probe, for the failure.
     */
    void await(final int count, final long waitMs, final String name)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (size() < count)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new AssertionError(name + ": " + size() + " acknowledgements, expected " + count);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    /**
     * @param killNs     when the old primary was killed (System.nanoTime, read before the signal).
     * @param newPrimary id of the member that took over.
     * @param waitMs     deadline.
     * @param state      what the probe's client is doing, for the failure.
     * @return ms from the last acknowledgement before killNs to the first after it from newPrimary.
     */
    long gapAfter(final long killNs, final int newPrimary, final long waitMs, final Supplier<String> state)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (System.nanoTime() - deadlineNs < 0)
        {
            synchronized (this)
            {
                boolean ackedBefore = false;
                long before = 0;
                for (final long[] ack : acks)
                {
                    if (ack[1] - killNs < 0)
                    {
                        ackedBefore = true;
                        before = ack[1];
                    }
                    else if (ackedBefore && ack[2] == newPrimary)
                    {
                        return TimeUnit.NANOSECONDS.toMillis(ack[1] - before);
                    }
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
        throw new AssertionError("no acknowledgement from the new primary " + newPrimary + " after the kill within " +
            waitMs + " ms (" + state.get() + ")");
    }

    /**
     * @param groups   journal groups per command key ({@link ReplicatedPairProcessTest#key}), of the surviving log.
     * @param clientId of the probe's client.
     * @return acknowledged commands missing from that log.
     */
    synchronized long lostAcknowledged(final Map<String, Integer> groups, final long clientId)
    {
        return acks.stream().filter(a -> !groups.containsKey(ReplicatedPairProcessTest.key(clientId, a[0]))).count();
    }
}
