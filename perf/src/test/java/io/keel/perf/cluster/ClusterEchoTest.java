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
    void refusesAnUnknownFileSyncLevel()
    {
        assertThrows(IllegalArgumentException.class,
            () -> ClusterEcho.launch(68, IdleMode.YIELD, 3, LatencyRecorder.singleWriter()));
    }
}
