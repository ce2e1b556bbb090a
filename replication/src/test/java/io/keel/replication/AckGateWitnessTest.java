package io.keel.replication;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What a primary with a witness may release: alone only with a valid lease, otherwise what the standby holds. */
class AckGateWitnessTest
{
    final AtomicLong standbyAcked = new AtomicLong(100);
    final AckGate gate = new AckGate(AckMode.SYNC, standbyAcked, true);

    @Test
    void releasesAloneOnlyWhileTheStandbyIsOutOfTheInSyncSetAndTheLeaseIsValid()
    {
        gate.primary = true;
        gate.leaseUntilNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        assertEquals(100, gate.releasablePosition(500), "in sync: what the standby acked");
        gate.alone = true;
        assertEquals(500, gate.releasablePosition(500), "alone with a lease: the local durable position");
        gate.leaseUntilNs = System.nanoTime() - 1;
        assertEquals(100, gate.releasablePosition(600), "alone without a lease: only what the standby holds");
        gate.primary = false;
        assertEquals(AckGate.NOTHING, gate.releasablePosition(600));
    }

    @Test
    void saysNoStandbyOnlyWhenTheAgentSaysSoAndNotPrimaryWhenNotPrimary()
    {
        assertEquals(AckGate.Status.NOT_PRIMARY, gate.status());
        gate.primary = true;
        assertEquals(AckGate.Status.RELEASE, gate.status(), "no standby yet, but the agent has not given up");
        gate.noStandby = true;
        assertEquals(AckGate.Status.NO_STANDBY, gate.status());
    }

    @Test
    void asyncWithAWitnessNeedsTheLeaseToRunAheadOfTheStandby()
    {
        final AckGate async = new AckGate(AckMode.ASYNC, standbyAcked, true);
        async.primary = true;
        async.leaseUntilNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        assertEquals(500, async.releasablePosition(500));
        async.leaseUntilNs = System.nanoTime() - 1;
        assertEquals(100, async.releasablePosition(700));
        assertEquals(AckGate.Status.RELEASE, async.status());
    }
}
