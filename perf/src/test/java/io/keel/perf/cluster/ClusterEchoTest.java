package io.keel.perf.cluster;

import io.keel.perf.IdleMode;
import io.keel.perf.LatencyRecorder;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterEchoTest
{
    @Test
    void everyMessageComesBackThroughTheSingleNodeClusterAndItsFoldersAreDeleted()
    {
        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        final File base;
        final File aeron;
        try (ClusterEcho echo = ClusterEcho.launch(68, IdleMode.YIELD, 0, recorder))
        {
            base = echo.baseDirectory();
            aeron = echo.aeronDirectory();
            assertTrue(base.isDirectory() && aeron.isDirectory());
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            for (int i = 1; i <= 200; i++)
            {
                echo.send(System.nanoTime());
                while (echo.completedCount() < i)
                {
                    assertTrue(System.nanoTime() < deadlineNs, "echo " + i + " never arrived");
                    echo.poll();
                }
            }
            final Histogram rtt = recorder.intervalHistogram(null);
            assertEquals(200, rtt.getTotalCount());
        }
        assertFalse(base.exists(), "cluster/archive folder left behind: " + base);
        assertFalse(aeron.exists(), "aeron directory left behind: " + aeron);
    }

    @Test
    void aThreeMemberClusterElectsOneLeaderAndEchoesToAClientOnItsOwnDriver()
    {
        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        try (ClusterEcho echo = ClusterEcho.launch(new ClusterEcho.Settings().memberCount(3).messageSizeBytes(68)
            .idle(IdleMode.YIELD).clientOwnDriver(true), recorder))
        {
            final int leader = echo.leaderId();
            assertTrue(leader >= 0 && leader < 3, "leader " + leader);
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            for (int i = 1; i <= 100; i++)
            {
                echo.send(System.nanoTime());
                while (echo.completedCount() < i)
                {
                    assertTrue(System.nanoTime() < deadlineNs, "echo " + i + " never arrived");
                    echo.poll();
                }
            }
            assertEquals(100, recorder.intervalHistogram(null).getTotalCount());
            assertEquals(leader, echo.clientLeaderId(), "the client talks to the elected leader");
            int leaders = 0;
            for (int id = 0; id < 3; id++)
            {
                leaders += id == echo.leaderId() ? 1 : 0;
            }
            assertEquals(1, leaders);
            // a majority recorded and applied the log: at least one follower's service has the echoes too
            final long leaderPosition = echo.servicePosition(leader);
            assertTrue(leaderPosition > 0);
            while (echo.servicePosition((leader + 1) % 3) < leaderPosition &&
                echo.servicePosition((leader + 2) % 3) < leaderPosition)
            {
                assertTrue(System.nanoTime() < deadlineNs, "no follower applied the log up to " + leaderPosition);
                Thread.onSpinWait();
            }
        }
    }

    @Test
    void refusesAnUnknownFileSyncLevel()
    {
        assertThrows(IllegalArgumentException.class,
            () -> ClusterEcho.launch(68, IdleMode.YIELD, 3, LatencyRecorder.singleWriter()));
    }
}
