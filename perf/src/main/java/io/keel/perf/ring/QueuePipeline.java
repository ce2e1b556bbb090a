package io.keel.perf.ring;

import io.keel.perf.LatencyRecorder;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * The baseline: producer → {@link ArrayBlockingQueue} ({@code put}/{@code take}, as most code would write it)
 * → one business thread applying the same {@link LedgerWork}. Commands come from a pool of preallocated
 * objects, so the producer allocates nothing; the queue's lock and condition waits may.
 */
final class QueuePipeline implements RingPipeline
{
    private final ArrayBlockingQueue<LedgerCommand> queue;
    private final LedgerCommand[] pool;
    private final int poolMask;
    private final LedgerWork work;
    private final Thread consumer;
    private final LedgerCommand stop = new LedgerCommand();
    private long nextCommand;

    QueuePipeline(final int capacity, final LatencyRecorder recorder)
    {
        queue = new ArrayBlockingQueue<>(capacity);
        // A slot is reused poolSize commands later; at most capacity + 1 commands are queued or being applied
        // when the producer fills a slot, so twice the capacity leaves a margin.
        pool = new LedgerCommand[capacity * 2];
        poolMask = pool.length - 1;
        for (int i = 0; i < pool.length; i++)
        {
            pool[i] = new LedgerCommand();
        }
        work = new LedgerWork(recorder);
        consumer = new Thread(this::consume, "keel-perf-queue-consumer");
        consumer.setDaemon(true);
        consumer.start();
    }

    @Override
    public void send(final long intendedNs)
    {
        final long n = nextCommand++;
        final LedgerCommand command = pool[(int)(n & poolMask)];
        command.account = n;
        command.amount = 1;
        command.intendedNs = intendedNs;
        putUninterruptibly(command);
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
        putUninterruptibly(stop);
        try
        {
            consumer.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void consume()
    {
        try
        {
            while (true)
            {
                final LedgerCommand command = queue.take();
                if (command == stop)
                {
                    return;
                }
                work.apply(command.account, command.amount, command.intendedNs);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void putUninterruptibly(final LedgerCommand command)
    {
        boolean interrupted = false;
        while (true)
        {
            try
            {
                queue.put(command);
                break;
            }
            catch (final InterruptedException ex)
            {
                interrupted = true;
            }
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A pooled queue element: one ledger command.
     */
    static final class LedgerCommand
    {
        long account;
        long amount;
        long intendedNs;
    }
}
