package io.keel.perf;

/**
 * Source of monotonic nanosecond time; a seam so tests can drive the load generators with simulated time.
 */
@FunctionalInterface
public interface NanoClock
{
    /**
     * The system clock, {@link System#nanoTime()}.
     */
    NanoClock SYSTEM = System::nanoTime;

    /**
     * Current monotonic time.
     *
     * @return time in nanoseconds from an arbitrary origin.
     */
    long nanoTime();
}
