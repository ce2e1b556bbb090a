package io.keel.journal;

import org.agrona.collections.Long2LongHashMap;

import java.util.Arrays;

/**
 * Stream id to (version, position, timestamp) for every event of every stream, so one aggregate's history, or
 * its state as of a version or a time, is read without scanning the log. Rebuilt from the log on open and
 * maintained by the appender.
 * <p>
 * Versions of a stream are contiguous from 1: the event with version {@code v} is entry {@code v - 1}. A journal
 * whose oldest segments were deleted (retention, or a standby that installed a snapshot) holds only the later part
 * of each history: its index is {@linkplain #partial(boolean) partial}, a stream's first indexed event may carry any
 * version {@code b + 1} (entry {@code v - 1 - b}), and streams whose whole history is gone are
 * {@linkplain #seed(long, long) seeded} with their version from a snapshot. Not thread-safe: owned by the thread
 * that appends (the business-logic thread).
 *
 * <h2>Layout: entries live off-heap, so appending does not allocate (design promise 6)</h2>
 * An entry is 16 bytes (position, timestamp) in an {@link IndexArena} of direct buffers. Each stream owns a list
 * of blocks of entries whose capacities double ({@value #FIRST_BLOCK_ENTRIES}, 32, 64, ... entries) up to a quarter
 * of the chunk size, then stay at that size; a block never spans chunks. Entry {@code i} of a stream is therefore
 * found by arithmetic (which block, where in it) plus one read of the stream's block table, itself an array of
 * block addresses in the arena that doubles (by copying, within the arena) when full.
 * <p>
 * Per stream, on the heap, there is only a slot in a few primitive arrays (id, version, block table address and
 * sizes) found through a {@link Long2LongHashMap}. So Java heap allocation happens only:
 * <ul>
 *     <li>when a NEW stream appears: the map and the slot arrays grow by doubling (amortized, per new stream);</li>
 *     <li>when the arena adds a chunk: one {@code ByteBuffer} and one {@code UnsafeBuffer} (about 100 bytes) per
 *     chunk, i.e. at most once per 16 MiB of index (about a million events) with the default chunk size.</li>
 * </ul>
 * Appending to an existing stream, a new block, and a larger block table all take arena memory only.
 *
 * <h2>Memory</h2>
 * Arena memory is never given back while the index lives: {@link #truncate(long)} only lowers versions, and the
 * entries beyond are overwritten by later appends to the same stream, in the blocks it already owns. Memory is
 * therefore bounded by the most events ever indexed (per stream: its largest version ever, rounded up to its
 * blocks, and at least one block of {@value #FIRST_BLOCK_ENTRIES} entries), plus less than a quarter per chunk left
 * unused at chunk ends. The direct memory is freed when the index becomes unreachable.
 */
public final class StreamIndex
{
    /** Default arena chunk size: blocks of up to 4 MiB (256 Ki entries). */
    static final int DEFAULT_CHUNK_SIZE_BYTES = 16 * 1024 * 1024;
    /** Capacity of a stream's first block (unless the chunk size forces smaller blocks). */
    static final int FIRST_BLOCK_ENTRIES = 16;
    /** Capacity of a new stream's block table; it doubles when full. */
    static final int INITIAL_TABLE_BLOCKS = 4;
    /** Bytes of one entry: position then timestamp. */
    static final int ENTRY_BYTES = 16;
    private static final int TIMESTAMP_OFFSET = 8;
    private static final int NO_SLOT = -1;

    private final IndexArena arena;

    // block geometry, see blockOf: K geometric blocks of F, 2F, ..., M entries (G entries in all), then blocks of M
    private final int firstBlockShift;      // log2 F
    private final int maxBlockShift;        // log2 M
    private final int geometricBlocks;      // K
    private final long geometricEntries;    // G = F * (2^K - 1) = 2M - F

    // one slot per stream ever seen, in order of appearance; a stream truncated to nothing keeps its slot and blocks
    private final Long2LongHashMap slotByStreamId = new Long2LongHashMap(64, 0.65f, NO_SLOT);
    private long[] streamIds = new long[16];
    private long[] versions = new long[16];
    private long[] baseVersions = new long[16];
    private long[] tableAddresses = new long[16];
    private int[] tableCapacities = new int[16];
    private int[] blockCounts = new int[16];
    private int slotCount;

    private int streamCount;
    private long eventCount;
    private boolean partial;

    /**
     * An empty index with the default chunk size ({@value #DEFAULT_CHUNK_SIZE_BYTES} bytes).
     */
    public StreamIndex()
    {
        this(DEFAULT_CHUNK_SIZE_BYTES);
    }

    /**
     * @param chunkSizeBytes arena chunk size, a power of two in [{@value IndexArena#MIN_CHUNK_BYTES},
     *                       {@value IndexArena#MAX_CHUNK_BYTES}]; small in tests to cross chunks and blocks often.
     */
    StreamIndex(final int chunkSizeBytes)
    {
        arena = new IndexArena(chunkSizeBytes);
        final int maxBlockEntries = Math.max(1, chunkSizeBytes / 4 / ENTRY_BYTES);
        final int firstBlockEntries = Math.min(FIRST_BLOCK_ENTRIES, maxBlockEntries);
        firstBlockShift = Integer.numberOfTrailingZeros(firstBlockEntries);
        maxBlockShift = Integer.numberOfTrailingZeros(maxBlockEntries);
        geometricBlocks = maxBlockShift - firstBlockShift + 1;
        geometricEntries = 2L * maxBlockEntries - firstBlockEntries;
    }

    /**
     * Current version of a stream: the version of its last event, 0 when it has none.
     *
     * @param streamId stream.
     * @return last version.
     */
    public long version(final long streamId)
    {
        final int slot = (int)slotByStreamId.get(streamId);
        return NO_SLOT == slot ? 0 : versions[slot];
    }

    /**
     * Timestamp of the last event of a stream.
     *
     * @param streamId stream.
     * @return its last event's timestamp, ns; {@link Long#MIN_VALUE} when it has none (or none retained).
     */
    public long lastTimestampNs(final long streamId)
    {
        final int slot = (int)slotByStreamId.get(streamId);
        if (NO_SLOT == slot || versions[slot] == baseVersions[slot])
        {
            return Long.MIN_VALUE;
        }
        return arena.getLong(entryAddress(slot, versions[slot] - 1 - baseVersions[slot]) + TIMESTAMP_OFFSET);
    }

    /**
     * Log position of one event of a stream.
     *
     * @param streamId stream.
     * @param version  1-based version.
     * @return position, or -1 when the stream has no such version, or its event is no longer retained.
     */
    public long positionOf(final long streamId, final long version)
    {
        final int slot = (int)slotByStreamId.get(streamId);
        if (NO_SLOT == slot || version <= baseVersions[slot] || version > versions[slot])
        {
            return -1;
        }
        return arena.getLong(entryAddress(slot, version - 1 - baseVersions[slot]));
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
        final int slot = (int)slotByStreamId.get(streamId);
        if (NO_SLOT == slot)
        {
            return 0;
        }
        // timestamps of one stream are non-decreasing (asserted on append): binary search the last <= time
        long low = 0;
        long high = versions[slot] - baseVersions[slot] - 1;
        long found = -1;
        while (low <= high)
        {
            final long mid = (low + high) >>> 1;
            if (arena.getLong(entryAddress(slot, mid) + TIMESTAMP_OFFSET) <= timestampNs)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return found + 1 + baseVersions[slot];
    }

    /**
     * @param streamId stream.
     * @return the first version whose event the index holds (1 unless older events are no longer retained); the
     * stream's version + 1 when it holds none.
     */
    public long firstIndexedVersion(final long streamId)
    {
        final int slot = (int)slotByStreamId.get(streamId);
        return NO_SLOT == slot ? 1 : baseVersions[slot] + 1;
    }

    /** @return true when the journal no longer holds the oldest events (see the class comment). */
    public boolean isPartial()
    {
        return partial;
    }

    /**
     * Mark the index as covering a journal that starts after the beginning of history: a stream's first indexed
     * event may then have any version.
     *
     * @param partial true when older segments were deleted.
     */
    void partial(final boolean partial)
    {
        this.partial = partial;
    }

    /**
     * A partial index learns, from a snapshot, the version of a stream none of whose events it holds.
     *
     * @param streamId stream.
     * @param version  its version in the snapshot.
     * @throws IllegalStateException when the index is not partial, or holds the stream at a lower version.
     */
    public void seed(final long streamId, final long version)
    {
        int slot = (int)slotByStreamId.get(streamId);
        if (NO_SLOT != slot && versions[slot] >= version)
        {
            return;
        }
        if (!partial || version < 1 || NO_SLOT != slot)
        {
            throw new IllegalStateException("stream " + streamId + " version " + version + " cannot be seeded: the " +
                "index " + (partial ? "holds it at version " + versions[slot] : "is complete (journal from 0)"));
        }
        slot = newSlot(streamId);
        baseVersions[slot] = version;
        versions[slot] = version;
        streamCount++;
    }

    /**
     * Forget every stream (the journal was reset to start at a later position). The arena keeps its memory.
     *
     * @param partial whether the journal now starts after the beginning of history.
     */
    void clear(final boolean partial)
    {
        slotByStreamId.clear();
        slotCount = 0;
        streamCount = 0;
        eventCount = 0;
        this.partial = partial;
    }

    /** @return number of streams with at least one event. */
    public int streamCount()
    {
        return streamCount;
    }

    /** @return number of indexed events. */
    public long eventCount()
    {
        return eventCount;
    }

    /**
     * Visit every stream with at least one event, in the order streams first appeared.
     *
     * @param consumer given each stream id and its version.
     */
    public void forEachStream(final StreamVisitor consumer)
    {
        for (int slot = 0; slot < slotCount; slot++)
        {
            final long version = versions[slot];
            if (version > 0)
            {
                consumer.onStream(streamIds[slot], version);
            }
        }
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

    /** @return bytes of direct memory the index holds (it only grows, see the class comment). */
    long offHeapBytes()
    {
        return arena.reservedBytes();
    }

    /**
     * Index one event. Refused, with nothing changed, when it does not follow the stream's last event: versions
     * contiguous from 1, positions increasing, timestamps non-decreasing.
     */
    void add(final long streamId, final long version, final long position, final long timestampNs)
    {
        int slot = (int)slotByStreamId.get(streamId);
        final boolean known = NO_SLOT != slot;
        final long previous = known ? versions[slot] : 0;
        if (known ? version != previous + 1 : version < 1 || (!partial && version != 1))
        {
            throw new IllegalStateException("stream " + streamId + " version " + version + " at position " +
                position + " does not follow version " + previous);
        }
        if (known && previous > baseVersions[slot])
        {
            final long last = entryAddress(slot, previous - 1 - baseVersions[slot]);
            final long lastPosition = arena.getLong(last);
            if (lastPosition >= position)
            {
                throw new IllegalStateException("stream " + streamId + " position " + position + " not after " +
                    lastPosition);
            }
            final long lastTimestampNs = arena.getLong(last + TIMESTAMP_OFFSET);
            if (lastTimestampNs > timestampNs)
            {
                throw new IllegalStateException("stream " + streamId + " timestamp " + timestampNs +
                    " at position " + position + " is before the previous event's " + lastTimestampNs);
            }
        }
        if (!known)
        {
            slot = newSlot(streamId);
            baseVersions[slot] = version - 1;
        }

        final long entry = version - 1 - baseVersions[slot]; // 0-based index of the new entry
        final int block = blockOf(entry);
        if (block == blockCounts[slot])
        {
            addBlock(slot, block);
        }
        final long address = blockAddress(slot, block) + (entry - blockStart(block)) * ENTRY_BYTES;
        arena.putLong(address, position);
        arena.putLong(address + TIMESTAMP_OFFSET, timestampNs);

        versions[slot] = version;
        if (0 == previous)
        {
            streamCount++;
        }
        eventCount++;
    }

    /**
     * Drop every entry at or after a position (the log was truncated there). The entries stay in their blocks, to
     * be overwritten by the stream's next events.
     */
    void truncate(final long position)
    {
        for (int slot = 0; slot < slotCount; slot++)
        {
            final long version = versions[slot];
            final long base = baseVersions[slot];
            if (version == base)
            {
                continue; // no entries (none yet, or a seeded stream)
            }
            // positions of one stream increase: binary search how many entries lie before the position
            long low = 0;
            long high = version - base - 1;
            long kept = 0;
            while (low <= high)
            {
                final long mid = (low + high) >>> 1;
                if (arena.getLong(entryAddress(slot, mid)) < position)
                {
                    kept = mid + 1;
                    low = mid + 1;
                }
                else
                {
                    high = mid - 1;
                }
            }
            eventCount -= version - base - kept;
            versions[slot] = base + kept;
            if (0 == versions[slot])
            {
                streamCount--;
            }
        }
    }

    /**
     * Block holding entry {@code i} (0-based) of a stream. Blocks {@code 0..K-1} hold {@code F << k} entries and
     * start at entry {@code F * (2^k - 1)}, so {@code i} is in block {@code k} when {@code i / F + 1} is in
     * {@code [2^k, 2^(k+1))}; past those {@code G} entries every block holds {@code M} entries.
     */
    int blockOf(final long i)
    {
        if (i < geometricEntries)
        {
            return 63 - Long.numberOfLeadingZeros((i >>> firstBlockShift) + 1);
        }
        return geometricBlocks + (int)((i - geometricEntries) >>> maxBlockShift);
    }

    /** @return index (0-based) of the first entry of a block. */
    long blockStart(final int block)
    {
        if (block < geometricBlocks)
        {
            return ((1L << block) - 1) << firstBlockShift;
        }
        return geometricEntries + ((long)(block - geometricBlocks) << maxBlockShift);
    }

    /** @return capacity of a block, entries. */
    int blockEntries(final int block)
    {
        return block < geometricBlocks ? 1 << (firstBlockShift + block) : 1 << maxBlockShift;
    }

    private long entryAddress(final int slot, final long i)
    {
        final int block = blockOf(i);
        return blockAddress(slot, block) + (i - blockStart(block)) * ENTRY_BYTES;
    }

    private long blockAddress(final int slot, final int block)
    {
        return arena.getLong(tableAddresses[slot] + (long)block * Long.BYTES);
    }

    private int newSlot(final long streamId)
    {
        if (slotCount == versions.length)
        {
            final int capacity = slotCount * 2;
            streamIds = Arrays.copyOf(streamIds, capacity);
            versions = Arrays.copyOf(versions, capacity);
            baseVersions = Arrays.copyOf(baseVersions, capacity);
            tableAddresses = Arrays.copyOf(tableAddresses, capacity);
            tableCapacities = Arrays.copyOf(tableCapacities, capacity);
            blockCounts = Arrays.copyOf(blockCounts, capacity);
        }
        final int slot = slotCount++;
        streamIds[slot] = streamId;
        versions[slot] = 0;
        baseVersions[slot] = 0;
        tableAddresses[slot] = arena.allocate(INITIAL_TABLE_BLOCKS * Long.BYTES);
        tableCapacities[slot] = INITIAL_TABLE_BLOCKS;
        blockCounts[slot] = 0;
        slotByStreamId.put(streamId, slot);
        return slot;
    }

    private void addBlock(final int slot, final int block)
    {
        final int capacity = tableCapacities[slot];
        if (block == capacity)
        {
            // the table moves to a twice larger place in the arena; the old one is left unused
            if ((long)capacity * 2 * Long.BYTES > IndexArena.MAX_CHUNK_BYTES)
            {
                throw new IllegalStateException("stream " + streamIds[slot] + " has more than " + capacity +
                    " blocks of index entries");
            }
            final long table = arena.allocate(capacity * 2 * Long.BYTES);
            arena.copy(tableAddresses[slot], table, capacity * Long.BYTES);
            tableAddresses[slot] = table;
            tableCapacities[slot] = capacity * 2;
        }
        final long blockAddress = arena.allocate(blockEntries(block) * ENTRY_BYTES);
        arena.putLong(tableAddresses[slot] + (long)block * Long.BYTES, blockAddress);
        blockCounts[slot] = block + 1;
    }
}
