package io.keel.perf.aeron;

import io.keel.perf.IdleMode;
import io.keel.perf.LatencyRecorder;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AeronPingPongTest
{
    @Test
    void everyPingComesBackAsARecordedPongAndTheAeronDirectoryIsDeleted()
    {
        for (final boolean pongThread : new boolean[]{ false, true })
        {
            final LatencyRecorder recorder = LatencyRecorder.singleWriter();
            final File shm = new File("/dev/shm");
            final int before = countKeelDirectories(shm);
            try (AeronPingPong pingPong = AeronPingPong.launch(64, IdleMode.YIELD, pongThread, recorder))
            {
                final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                for (int i = 1; i <= 200; i++)
                {
                    pingPong.send(System.nanoTime());
                    while (pingPong.completedCount() < i)
                    {
                        assertTrue(System.nanoTime() < deadlineNs, "pong " + i + " never arrived");
                        pingPong.poll();
                    }
                }
                final Histogram rtt = recorder.intervalHistogram(null);
                assertEquals(200, rtt.getTotalCount());
                assertEquals(0, pingPong.droppedCount());
            }
            if (shm.isDirectory())
            {
                assertFalse(countKeelDirectories(shm) > before, "aeron directory left behind");
            }
        }
    }

    private static int countKeelDirectories(final File shm)
    {
        final String[] names = shm.list((dir, name) -> name.startsWith("keel-perf-aeron-" + ProcessHandle.current().pid()));
        return null == names ? 0 : names.length;
    }
}
