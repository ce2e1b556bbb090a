package io.keel.journal;

import org.agrona.collections.Long2ObjectHashMap;

import java.util.Arrays;

/**
 * Stream id to (version, position, timestamp) for every event of every stream, so one aggregate's history, or
 * its state as of a version or a time, is read without scanning the log. Rebuilt from the log on open and
 * maintained by the appender.
 * <p>
 * Versions of a stream are contiguous from 1: the event with version {@code v} is entry {@code v - 1}. Not
 * thread-safe: owned by the thread that appends (the business-logic thread).
 */
public final class StreamIndex
{
    private static final int INITIAL_CAPACITY = 4;

    private final Long2ObjectHashMap<Entries> streams = new Long2ObjectHashMap<>();
    private long eventCount;

    static final class Entries
    {
        long[] positions = new long[INITIAL_CAPACITY];
        long[] timestampsNs = new long[INITIAL_CAPACITY];
        int size;

        void add(final long position, final long timestampNs)
        {
            if (size == positions.length)
            {
                positions = Arrays.copyOf(positions, size * 2);
                timestampsNs = Arrays.copyOf(timestampsNs, size * 2);
            }
            positions[size] = position;
            timestampsNs[size] = timestampNs;
            size++;
        }
    }

    /**
     * Current version of a stream: the version of its last event, 0 when it has none.
     *
     * @param streamId stream.
     * @return last version.
     */
    public long version(final long streamId)
    {
        final Entries entries = streams.get(streamId);
        return null == entries ? 0 : entries.size;
    }

    /**
     * Timestamp of the last event of a stream.
     *
     * @param streamId stream.
     * @return its last event's timestamp, ns; {@link Long#MIN_VALUE} when it has none.
     */
    public long lastTimestampNs(final long streamId)
    {
        final Entries entries = streams.get(streamId);
        return null == entries ? Long.MIN_VALUE : entries.timestampsNs[entries.size - 1];
    }

    /**
     * Log position of one event of a stream.
     *
     * @param streamId stream.
     * @param version  1-based version.
     * @return position, or -1 when the stream has no such version.
     */
    public long positionOf(final long streamId, final long version)
    {
        final Entries entries = streams.get(streamId);
        if (null == entries || version < 1 || version > entries.size)
        {
            return -1;
        }
        return entries.positions[(int)(version - 1)];
    }

    /**
     * The last version of a stream whose event timestamp is at or before the given time.
     *
     * @param streamId    stream.
     * @param timestampNs time, ns since the epoch.
     * @return version, 0 when the stream had no event by then.
     */
    public long versionAt(final long streamId, final long timestampNs)
    {
        final Entries entries = streams.get(streamId);
        if (null == entries)
        {
            return 0;
        }
        // timestamps of one stream are non-decreasing (asserted on append): binary search the last <= time
        int low = 0;
        int high = entries.size - 1;
        int found = -1;
        while (low <= high)
        {
            final int mid = (low + high) >>> 1;
            if (entries.timestampsNs[mid] <= timestampNs)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return found + 1;
    }

    /** @return number of streams with at least one event. */
    public int streamCount()
    {
        return streams.size();
    }

    /** @return number of indexed events. */
    public long eventCount()
    {
        return eventCount;
    }

    /**
     * Visit every stream id.
     *
     * @param consumer given each stream id and its version.
     */
    public void forEachStream(final StreamVisitor consumer)
    {
        streams.forEach((id, entries) -> consumer.onStream(id, entries.size));
    }

    /**
     * Receives one stream of {@link #forEachStream(StreamVisitor)}.
     */
    @FunctionalInterface
    public interface StreamVisitor
    {
        /**
         * @param streamId stream.
         * @param version  its last version.
         */
        void onStream(long streamId, long version);
    }

    void add(final long streamId, final long version, final long position, final long timestampNs)
    {
        Entries entries = streams.get(streamId);
        if (null == entries)
        {
            entries = new Entries();
            streams.put(streamId, entries);
        }
        if (version != entries.size + 1)
        {
            throw new IllegalStateException("stream " + streamId + " version " + version + " at position " +
                position + " does not follow version " + entries.size);
        }
        if (entries.size > 0 && entries.positions[entries.size - 1] >= position)
        {
            throw new IllegalStateException("stream " + streamId + " position " + position + " not after " +
                entries.positions[entries.size - 1]);
        }
        if (entries.size > 0 && entries.timestampsNs[entries.size - 1] > timestampNs)
        {
            throw new IllegalStateException("stream " + streamId + " timestamp " + timestampNs +
                " at position " + position + " is before the previous event's " +
                entries.timestampsNs[entries.size - 1]);
        }
        entries.add(position, timestampNs);
        eventCount++;
    }

    /**
     * Drop every entry at or after a position (the log was truncated there).
     */
    void truncate(final long position)
    {
        final Long2ObjectHashMap<Entries>.EntryIterator it = streams.entrySet().iterator();
        while (it.hasNext())
        {
            it.next();
            final Entries entries = it.getValue();
            int size = entries.size;
            while (size > 0 && entries.positions[size - 1] >= position)
            {
                size--;
            }
            eventCount -= entries.size - size;
            entries.size = size;
            if (0 == size)
            {
                it.remove();
            }
        }
    }
}
