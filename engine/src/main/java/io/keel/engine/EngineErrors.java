package io.keel.engine;

import org.agrona.ErrorHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.errors.ErrorLogReader;
import org.agrona.concurrent.SystemEpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The engine's one error handler: counts every error, keeps a distinct-error log (Agrona's
 * {@link DistinctErrorLog}: each distinct error once, with its count and first/last time) and logs each distinct
 * error once. Safe from any thread.
 */
final class EngineErrors implements ErrorHandler
{
    private static final Logger LOG = LoggerFactory.getLogger(EngineErrors.class);
    private static final int LOG_BUFFER_BYTES = 1024 * 1024;
    private static final int MAX_DISTINCT_LOGGED = 10_000;

    private final DistinctErrorLog distinctLog;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final EngineCounters counters;
    private final ErrorHandler delegate;

    EngineErrors(final EngineCounters counters, final ErrorHandler delegate)
    {
        this(counters, delegate, null);
    }

    /**
     * @param errorLog a shared log (e.g. over a node's memory-mapped error file), or null for a private one.
     */
    EngineErrors(final EngineCounters counters, final ErrorHandler delegate, final DistinctErrorLog errorLog)
    {
        this.distinctLog = null != errorLog ? errorLog :
            new DistinctErrorLog(new UnsafeBuffer(ByteBuffer.allocateDirect(LOG_BUFFER_BYTES)), SystemEpochClock.INSTANCE);
        this.counters = counters;
        this.delegate = delegate;
    }

    @Override
    public void onError(final Throwable throwable)
    {
        record(throwable);
    }

    void record(final Throwable throwable)
    {
        counters.errors.incrementAndGet();
        if (!distinctLog.record(throwable))
        {
            LOG.warn("distinct error log is full: {} not recorded there", throwable.toString());
        }
        final StackTraceElement[] trace = throwable.getStackTrace();
        final String key = throwable.getClass().getName() + ": " + throwable.getMessage() + " @ " +
            (trace.length > 0 ? trace[0] : "?");
        if (seen.size() < MAX_DISTINCT_LOGGED && seen.add(key))
        {
            LOG.error("engine error (logged once, counted each time)", throwable);
        }
        if (null != delegate)
        {
            try
            {
                delegate.onError(throwable);
            }
            catch (final Throwable ignore)
            {
                // the delegate's own failure must not stop the engine; it was counted above
            }
        }
    }

    /**
     * @return every distinct error with its count, as text.
     */
    String dump()
    {
        final StringBuilder text = new StringBuilder();
        ErrorLogReader.read(distinctLog.buffer(), (count, first, last, error) ->
            text.append(count).append(" x ").append(error).append('\n'));
        return text.toString();
    }
}
