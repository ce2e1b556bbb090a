package io.keel.perf.ring;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;

import java.util.Locale;

/**
 * The Disruptor consumer's wait strategy, as a setting.
 */
public enum WaitMode
{
    /**
     * Spin briefly, then {@link Thread#yield()}: low latency, gives the core away under contention.
     */
    YIELDING("yielding"),

    /**
     * Busy spin: lowest latency, owns a core.
     */
    BUSY_SPIN("busy-spin"),

    /**
     * Lock and condition: no CPU when idle, a wake-up cost per batch.
     */
    BLOCKING("blocking"),

    /**
     * Spin, yield, then park 100 ns at a time: low CPU when idle, higher latency.
     */
    SLEEPING("sleeping");

    private final String label;

    WaitMode(final String label)
    {
        this.label = label;
    }

    /**
     * Name as used on the command line and in reports.
     *
     * @return the label.
     */
    public String label()
    {
        return label;
    }

    /**
     * A new wait strategy of this kind.
     *
     * @return the strategy.
     */
    public WaitStrategy newWaitStrategy()
    {
        switch (this)
        {
            case YIELDING:
                return new YieldingWaitStrategy();
            case BUSY_SPIN:
                return new BusySpinWaitStrategy();
            case BLOCKING:
                return new BlockingWaitStrategy();
            case SLEEPING:
                return new SleepingWaitStrategy();
            default:
                throw new IllegalStateException("unknown wait mode: " + this);
        }
    }

    /**
     * Does the consumer keep a core busy while waiting?
     *
     * @return true for busy-spin.
     */
    public boolean isSpinning()
    {
        return this == BUSY_SPIN;
    }

    /**
     * Parses a label ({@code yielding}, {@code busy-spin}, {@code blocking}, {@code sleeping}; the short forms
     * {@code yield} and {@code spin} are accepted).
     *
     * @param value the label.
     * @return the mode.
     * @throws IllegalArgumentException naming the allowed values.
     */
    public static WaitMode parse(final String value)
    {
        final String v = value.trim().toLowerCase(Locale.ROOT);
        switch (v)
        {
            case "yield":
            case "yielding":
                return YIELDING;
            case "spin":
            case "busyspin":
            case "busy-spin":
                return BUSY_SPIN;
            case "block":
            case "blocking":
                return BLOCKING;
            case "sleep":
            case "sleeping":
                return SLEEPING;
            default:
                throw new IllegalArgumentException("wait must be one of yielding|busy-spin|blocking|sleeping, was: " + value);
        }
    }

    @Override
    public String toString()
    {
        return label;
    }
}
