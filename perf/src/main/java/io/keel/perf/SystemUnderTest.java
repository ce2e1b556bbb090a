package io.keel.perf;

import java.util.List;

/**
 * Something a {@link LatencyRun} offers load to: it accepts operations through {@link LoadTarget#send(long)},
 * records each completion's latency into the {@link LatencyRecorder} it was built with, and counts completions.
 */
public interface SystemUnderTest extends LoadTarget, AutoCloseable
{
    /**
     * Operations completed so far, readable from any thread.
     *
     * @return completed operations since the system was started.
     */
    long completedCount();

    /**
     * Threads the system runs on its own whose allocation is part of the hot path (a ring consumer, an echo
     * agent), for the allocation check.
     *
     * @return the hot service threads, possibly empty.
     */
    List<Thread> serviceThreads();

    /**
     * Stops the system's threads and frees its resources.
     */
    @Override
    void close();
}
