package io.keel.gateway.ops;

import io.keel.engine.EngineCounters;
import org.HdrHistogram.Histogram;

/**
 * Command latency as the sampler sees it: everything since start (count, mean) and a sliding window of the last
 * {@link #SLOTS} x {@link #SLOT_MS} ms for percentiles. The engine records into its own recorder without
 * allocating; this class is its one reader, off the hot path. Thread-safe (the sampler and the Prometheus scrape
 * use it).
 */
public final class LatencyWindow
{
    /** Slots in the window. */
    public static final int SLOTS = 6;
    /** Length of a slot, ms (window = 30 s). */
    public static final long SLOT_MS = 5_000;

    private final EngineCounters source;
    private final Histogram total = newHistogram();
    private final Histogram[] slots = new Histogram[SLOTS];
    private final Histogram window = newHistogram();
    private Histogram interval;
    private long slotStartMs;
    private int slot;

    /**
     * @param source engine counters that record latency.
     */
    public LatencyWindow(final EngineCounters source)
    {
        this.source = source;
        for (int i = 0; i < SLOTS; i++)
        {
            slots[i] = newHistogram();
        }
    }

    private static Histogram newHistogram()
    {
        return new Histogram(1, EngineCounters.LATENCY_MAX_NS, 3);
    }

    /**
     * Take what the engine recorded since the last call.
     *
     * @param nowMs epoch ms.
     */
    public synchronized void sample(final long nowMs)
    {
        interval = source.latencyInterval(interval);
        if (null == interval)
        {
            return;
        }
        if (0 == slotStartMs)
        {
            slotStartMs = nowMs;
        }
        while (nowMs - slotStartMs >= SLOT_MS)
        {
            slot = (slot + 1) % SLOTS;
            slots[slot].reset();
            slotStartMs += SLOT_MS;
            if (nowMs - slotStartMs >= SLOT_MS * SLOTS)
            {
                slotStartMs = nowMs; // idle for a whole window: start afresh
            }
        }
        total.add(interval);
        slots[slot].add(interval);
    }

    /**
     * @param consumer given the window histogram (do not keep it) and the total one, under this object's lock.
     */
    public synchronized void read(final java.util.function.BiConsumer<Histogram, Histogram> consumer)
    {
        window.reset();
        for (final Histogram h : slots)
        {
            window.add(h);
        }
        consumer.accept(window, total);
    }
}
