package io.keel.perf;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.util.Locale;

/**
 * How a harness thread (load generator, echo agent, media driver) waits when it has nothing to do.
 * <p>
 * {@link #SPIN} owns a core; only choose it when there are at least as many cores as spinning threads.
 */
public enum IdleMode
{
    /**
     * {@link Thread#yield()} between duty cycles: gives the core away when someone else wants it.
     */
    YIELD("yield"),

    /**
     * Spin, then yield, then park with exponential back-off (Agrona's defaults, up to 1 ms).
     */
    BACKOFF("backoff"),

    /**
     * Busy spin with {@link Thread#onSpinWait()}: lowest latency, burns a whole core.
     */
    SPIN("spin");

    private final String label;

    IdleMode(final String label)
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
     * A new idle strategy of this kind; idle strategies keep state so each thread needs its own.
     *
     * @return a new idle strategy.
     */
    public IdleStrategy newIdleStrategy()
    {
        switch (this)
        {
            case YIELD:
                return new YieldingIdleStrategy();
            case BACKOFF:
                return new BackoffIdleStrategy();
            case SPIN:
                return new BusySpinIdleStrategy();
            default:
                throw new IllegalStateException("unknown idle mode: " + this);
        }
    }

    /**
     * Does a thread in this mode keep a core busy even when it has nothing to do?
     *
     * @return true for {@link #SPIN}.
     */
    public boolean isSpinning()
    {
        return this == SPIN;
    }

    /**
     * Parses a label ({@code yield}, {@code backoff}, {@code spin}; {@code busy-spin} is accepted).
     *
     * @param value the label.
     * @return the mode.
     * @throws IllegalArgumentException naming the allowed values.
     */
    public static IdleMode parse(final String value)
    {
        final String v = value.trim().toLowerCase(Locale.ROOT);
        if ("busy-spin".equals(v) || "busyspin".equals(v))
        {
            return SPIN;
        }
        for (final IdleMode mode : values())
        {
            if (mode.label.equals(v))
            {
                return mode;
            }
        }
        throw new IllegalArgumentException("idle must be one of yield|backoff|spin, was: " + value);
    }

    @Override
    public String toString()
    {
        return label;
    }
}
