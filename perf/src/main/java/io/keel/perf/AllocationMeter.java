package io.keel.perf;

import java.lang.management.ManagementFactory;

/**
 * Bytes allocated by a thread, from HotSpot's per-thread allocation counter
 * ({@link com.sun.management.ThreadMXBean#getThreadAllocatedBytes(long)}). Reads never allocate on the measured
 * thread itself when taken from another thread.
 */
public final class AllocationMeter
{
    private static final com.sun.management.ThreadMXBean THREAD_BEAN = threadBean();

    private AllocationMeter()
    {
    }

    /**
     * Is per-thread allocation accounting available and enabled in this JVM?
     *
     * @return true when the counters can be read.
     */
    public static boolean isSupported()
    {
        return null != THREAD_BEAN;
    }

    /**
     * Bytes allocated so far by a live thread.
     *
     * @param thread a live thread.
     * @return bytes allocated since the thread started, or -1 when unknown (dead thread, unsupported JVM).
     */
    public static long allocatedBytes(final Thread thread)
    {
        return null == THREAD_BEAN ? -1 : THREAD_BEAN.getThreadAllocatedBytes(thread.getId());
    }

    /**
     * Bytes allocated so far by the calling thread.
     *
     * @return bytes allocated since the thread started, or -1 when unknown.
     */
    public static long currentThreadAllocatedBytes()
    {
        return null == THREAD_BEAN ? -1 : THREAD_BEAN.getCurrentThreadAllocatedBytes();
    }

    /**
     * Sum of {@link #allocatedBytes(Thread)} over several threads.
     *
     * @param threads live threads.
     * @return total bytes allocated, or -1 when any is unknown.
     */
    public static long allocatedBytes(final Iterable<Thread> threads)
    {
        long total = 0;
        for (final Thread thread : threads)
        {
            final long bytes = allocatedBytes(thread);
            if (bytes < 0)
            {
                return -1;
            }
            total += bytes;
        }
        return total;
    }

    private static com.sun.management.ThreadMXBean threadBean()
    {
        try
        {
            final java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
            if (bean instanceof com.sun.management.ThreadMXBean)
            {
                final com.sun.management.ThreadMXBean sunBean = (com.sun.management.ThreadMXBean)bean;
                if (sunBean.isThreadAllocatedMemorySupported())
                {
                    sunBean.setThreadAllocatedMemoryEnabled(true);
                    return sunBean;
                }
            }
        }
        catch (final UnsupportedOperationException ignore)
        {
            // fall through: the JVM has no per-thread allocation accounting
        }
        return null;
    }
}
