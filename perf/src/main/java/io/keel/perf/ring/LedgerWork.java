package io.keel.perf.ring;

import com.lmax.disruptor.Sequence;
import io.keel.perf.LatencyRecorder;

/**
 * The business thread's small fixed piece of work, identical behind the ring and behind the queue: add an
 * amount to a ledger entry, record the command's latency from its intended send time, and publish the
 * completion count (the "echo" the sender waits for). Written by one thread only.
 */
final class LedgerWork
{
    /**
     * Intended time of a command sent by a throughput run: not timed, nothing recorded.
     */
    static final long NOT_TIMED = Long.MIN_VALUE;

    private static final int ACCOUNTS = 1024;

    private final long[] balances = new long[ACCOUNTS];
    private final LatencyRecorder recorder;
    private final Sequence completed = new Sequence(0);
    private long completedCount;

    LedgerWork(final LatencyRecorder recorder)
    {
        this.recorder = recorder;
    }

    void apply(final long account, final long amount, final long intendedNs)
    {
        balances[(int)(account & (ACCOUNTS - 1))] += amount;
        if (NOT_TIMED != intendedNs)
        {
            recorder.recordLatencyNs(System.nanoTime() - intendedNs);
        }
        completed.set(++completedCount);
    }

    long completedCount()
    {
        return completed.get();
    }

    /**
     * Sum of all balances; read after {@link #completedCount()} so the consumer's writes are visible.
     *
     * @return the ledger total.
     */
    long total()
    {
        completed.get();
        long total = 0;
        for (final long balance : balances)
        {
            total += balance;
        }
        return total;
    }
}
