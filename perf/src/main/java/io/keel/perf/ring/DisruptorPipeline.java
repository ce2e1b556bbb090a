package io.keel.perf.ring;

import com.lmax.disruptor.BatchEventProcessor;
import com.lmax.disruptor.BatchEventProcessorBuilder;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.ProducerType;
import io.keel.perf.LatencyRecorder;

import java.util.List;

/**
 * Producer → Disruptor ring → one business thread applying {@link LedgerWork}. Single- or multi-producer
 * sequencer; the consumer's wait strategy is a setting. Entries are preallocated and filled in place.
 */
final class DisruptorPipeline implements RingPipeline
{
    private final RingBuffer<LedgerEvent> ringBuffer;
    private final BatchEventProcessor<LedgerEvent> processor;
    private final LedgerWork work;
    private final Thread consumer;
    private long nextAccount;

    DisruptorPipeline(
        final ProducerType producerType, final WaitMode waitMode, final int ringSize, final LatencyRecorder recorder)
    {
        work = new LedgerWork(recorder);
        ringBuffer = RingBuffer.create(producerType, LedgerEvent::new, ringSize, waitMode.newWaitStrategy());
        final LedgerWork work = this.work;
        processor = new BatchEventProcessorBuilder().build(
            ringBuffer,
            ringBuffer.newBarrier(),
            (event, sequence, endOfBatch) -> work.apply(event.account, event.amount, event.intendedNs));
        ringBuffer.addGatingSequences(processor.getSequence());
        consumer = new Thread(processor, "keel-perf-ring-consumer");
        consumer.setDaemon(true);
        consumer.start();
    }

    @Override
    public void send(final long intendedNs)
    {
        final long sequence = ringBuffer.next();
        final LedgerEvent event = ringBuffer.get(sequence);
        event.account = nextAccount++;
        event.amount = 1;
        event.intendedNs = intendedNs;
        ringBuffer.publish(sequence);
    }

    @Override
    public void sendUntimed(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            send(LedgerWork.NOT_TIMED);
        }
    }

    @Override
    public long throughputIteration(final long iterationNs)
    {
        return RingPipeline.runThroughputIteration(this, iterationNs);
    }

    @Override
    public long completedCount()
    {
        return work.completedCount();
    }

    @Override
    public long ledgerTotal()
    {
        return work.total();
    }

    @Override
    public List<Thread> serviceThreads()
    {
        return List.of(consumer);
    }

    @Override
    public void close()
    {
        processor.halt();
        try
        {
            consumer.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A ring entry: one ledger command.
     */
    static final class LedgerEvent
    {
        long account;
        long amount;
        long intendedNs;
    }
}
