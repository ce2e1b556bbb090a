package io.keel.perf.cluster;

import io.keel.perf.IdleMode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterFailoverTest
{
    @Test
    void killingTheLeaderJvmLeavesAGapNoShorterThanTheHeartbeatTimeoutThenAnotherMemberAnswers()
    {
        final long heartbeatTimeoutMs = 500;
        try (ClusterFailover failover = ClusterFailover.launch(new ClusterFailover.Settings().memberCount(3)
            .idle(IdleMode.YIELD).leaderHeartbeatTimeoutMs(heartbeatTimeoutMs).ratePerSecond(1_000)))
        {
            final List<ClusterFailover.Round> rounds = failover.run(1, null);
            assertEquals(1, rounds.size());
            final ClusterFailover.Round round = rounds.get(0);
            assertNotEquals(round.killedMemberId, round.newLeaderMemberId, "the killed leader cannot answer");
            // followers wait a whole heartbeat timeout before they elect: no gap can be shorter
            assertTrue(round.gapNs >= TimeUnit.MILLISECONDS.toNanos(heartbeatTimeoutMs), "gap " + round.gapNs + "ns");
            assertTrue(round.gapNs < TimeUnit.SECONDS.toNanos(60), "gap " + round.gapNs + "ns");
        }
    }

    @Test
    void refusesFewerThanThreeMembers()
    {
        assertThrows(IllegalArgumentException.class,
            () -> ClusterFailover.launch(new ClusterFailover.Settings().memberCount(2)));
    }
}
