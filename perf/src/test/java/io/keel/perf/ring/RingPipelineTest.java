package io.keel.perf.ring;

import com.lmax.disruptor.dsl.ProducerType;
import io.keel.perf.LatencyRecorder;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingPipelineTest
{
    private static final int COMMANDS = 50_000;

    @Test
    void everyPipelineAppliesEachCommandExactlyOnceAndRecordsTimedOnes()
    {
        for (final String variant : List.of("disruptor-sp", "disruptor-mp", "abq"))
        {
            final LatencyRecorder recorder = LatencyRecorder.singleWriter();
            try (RingPipeline pipeline = newPipeline(variant, recorder))
            {
                pipeline.sendUntimed(COMMANDS);
                for (int i = 0; i < 100; i++)
                {
                    pipeline.send(System.nanoTime());
                }
                awaitCompleted(pipeline, COMMANDS + 100);

                assertEquals(COMMANDS + 100, pipeline.ledgerTotal(), variant);
                final Histogram recorded = recorder.intervalHistogram(null);
                assertEquals(100, recorded.getTotalCount(), variant + ": only timed commands are recorded");
            }
        }
    }

    @Test
    void throughputIterationReturnsOnlyWhenEverythingSentWasApplied()
    {
        try (RingPipeline pipeline = newPipeline("disruptor-sp", LatencyRecorder.singleWriter()))
        {
            final long sent = pipeline.throughputIteration(TimeUnit.MILLISECONDS.toNanos(20));

            assertTrue(sent > 0);
            assertEquals(sent, pipeline.completedCount());
            assertEquals(sent, pipeline.ledgerTotal());
        }
    }

    private static RingPipeline newPipeline(final String variant, final LatencyRecorder recorder)
    {
        switch (variant)
        {
            case "disruptor-sp":
                return new DisruptorPipeline(ProducerType.SINGLE, WaitMode.YIELDING, 1024, recorder);
            case "disruptor-mp":
                return new DisruptorPipeline(ProducerType.MULTI, WaitMode.BLOCKING, 1024, recorder);
            default:
                return new QueuePipeline(1024, recorder);
        }
    }

    private static void awaitCompleted(final RingPipeline pipeline, final long expected)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pipeline.completedCount() < expected)
        {
            assertTrue(System.nanoTime() < deadlineNs, "pipeline stopped at " + pipeline.completedCount());
            Thread.yield();
        }
    }
}
