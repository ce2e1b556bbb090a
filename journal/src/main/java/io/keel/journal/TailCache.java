package io.keel.journal;

import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * The journal's most recently written bytes, kept in a ring in memory, so that readers at the live end (the
 * primary streaming to its standby, a standby's engine applying what it just appended) copy them from memory
 * instead of reading the file back: one system call fewer per batch on each side of a replicated round trip.
 * <p>
 * One writer (the appender's thread) and any number of readers on other threads. Position {@code p} lives at
 * {@code p & mask}. The writer first raises {@link #writeLimit} to the end of what it is about to write, then
 * copies; a reader copies, then checks that the limit did not come within one capacity of the bytes it copied
 * (the writer may have been overwriting them) and that no {@link #reset} happened meanwhile. A failed check means
 * "read the file", never wrong bytes. Readers only ask for committed positions, so they never see a write in
 * progress at the end (the journal publishes its committed position after the copy).
 */
final class TailCache
{
    private static final VarHandle WRITE_LIMIT;
    private static final VarHandle GENERATION;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            WRITE_LIMIT = lookup.findVarHandle(TailCache.class, "writeLimit", long.class);
            GENERATION = lookup.findVarHandle(TailCache.class, "generation", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final UnsafeBuffer ring;
    private final int capacity;
    private final int mask;
    /** Bytes below {@code writeLimit - capacity} may have been overwritten; never goes down within a generation. */
    @SuppressWarnings("unused") // accessed through WRITE_LIMIT
    private volatile long writeLimit;
    /** First position written since the last reset: nothing below it is held. */
    private volatile long start;
    /** Incremented by each reset (truncation, rollback, reset of the journal). */
    @SuppressWarnings("unused") // accessed through GENERATION
    private volatile long generation;

    /**
     * @param capacityBytes ring size, a power of two.
     * @param position      the journal's end when opened: the first position that will be written.
     */
    TailCache(final int capacityBytes, final long position)
    {
        if (!BitUtil.isPowerOfTwo(capacityBytes))
        {
            throw new IllegalArgumentException("tail cache capacity " + capacityBytes + " is not a power of two");
        }
        ring = new UnsafeBuffer(ByteBuffer.allocateDirect(capacityBytes));
        capacity = capacityBytes;
        mask = capacityBytes - 1;
        reset(position);
    }

    int capacity()
    {
        return capacity;
    }

    /**
     * Writer: hold the bytes of positions [position, position + length). Call before the journal publishes them as
     * committed.
     */
    void write(final long position, final DirectBuffer src, final int srcOffset, final int length)
    {
        final long end = position + length;
        if (end > (long)WRITE_LIMIT.getOpaque(this))
        {
            WRITE_LIMIT.setRelease(this, end);
        }
        VarHandle.storeStoreFence(); // the new limit is visible before any byte it allows to be overwritten
        final int skip = length > capacity ? length - capacity : 0; // only the last capacity bytes can be held
        copyIn(position + skip, src, srcOffset + skip, length - skip);
    }

    /**
     * Writer (or with the writer quiescent): forget everything; the next bytes written start at {@code position}.
     * Called when positions from there on are cut and will be written again with other bytes.
     */
    void reset(final long position)
    {
        GENERATION.setVolatile(this, (long)GENERATION.getVolatile(this) + 1);
        start = position;
        WRITE_LIMIT.setVolatile(this, position);
    }

    /**
     * Reader: copy positions [position, position + length) into {@code dst}, if this cache holds all of them.
     *
     * @param position  first position; it and everything up to position + length must be committed.
     * @param dst       where to copy.
     * @param dstOffset offset in dst.
     * @param length    bytes to copy.
     * @return true when copied and checked; false when not held (read the file instead).
     */
    boolean read(final long position, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        final long generationBefore = (long)GENERATION.getVolatile(this);
        final long limit = (long)WRITE_LIMIT.getVolatile(this);
        if (position < start || length > capacity || limit - capacity > position || position + length > limit)
        {
            return false;
        }
        final int index = (int)(position & mask);
        final int first = Math.min(length, capacity - index);
        dst.putBytes(dstOffset, ring, index, first);
        if (first < length)
        {
            dst.putBytes(dstOffset + first, ring, 0, length - first);
        }
        VarHandle.loadLoadFence(); // the checks below read after the copy
        return (long)WRITE_LIMIT.getVolatile(this) - capacity <= position &&
            (long)GENERATION.getVolatile(this) == generationBefore && position >= start;
    }

    private void copyIn(final long position, final DirectBuffer src, final int srcOffset, final int length)
    {
        final int index = (int)(position & mask);
        final int first = Math.min(length, capacity - index);
        ring.putBytes(index, src, srcOffset, first);
        if (first < length)
        {
            ring.putBytes(0, src, srcOffset + first, length - first);
        }
    }
}
