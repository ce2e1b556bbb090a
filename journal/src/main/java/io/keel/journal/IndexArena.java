package io.keel.journal;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Off-heap memory for the {@link StreamIndex}: direct buffers ("chunks") handed out by bump allocation and never
 * freed one by one. An allocation never spans two chunks. Addresses are {@code chunkIndex << 32 | offsetInChunk}.
 * <p>
 * Chunk sizes double from {@link #FIRST_CHUNK_BYTES} up to the configured chunk size, so a small journal does not
 * reserve a large chunk; a request larger than the next chunk gets a chunk of its own size. A request that does not
 * fit in what is left of the current chunk abandons that rest, which is smaller than the request.
 * <p>
 * Java heap allocation happens only when a chunk is added (a {@code ByteBuffer} and an {@link UnsafeBuffer}, and
 * rarely a larger chunk table). The memory is returned when the arena becomes unreachable. Not thread-safe.
 * <p>
 * Zeroing a fresh 16 MiB chunk takes milliseconds, so once the current chunk is half used the next one is
 * allocated ahead on a background thread ({@code keel-index-arena}, idle otherwise) and handed over through a
 * volatile field; only if it is not ready in time is it allocated on the appending thread.
 */
final class IndexArena
{
    /** Smallest allowed chunk (tests use tiny chunks to cross boundaries often). */
    static final int MIN_CHUNK_BYTES = 64;
    /** Largest allowed chunk: offsets stay positive ints. */
    static final int MAX_CHUNK_BYTES = 1 << 30;
    /** Size of the first chunk when the configured chunk size is larger. */
    static final int FIRST_CHUNK_BYTES = 64 * 1024;
    /** Chunks at least this large are prepared ahead on a background thread. */
    static final int PREPARE_AHEAD_BYTES = 1024 * 1024;
    /** Every allocation is a multiple of this and starts at such an offset. */
    static final int ALIGNMENT = 8;

    private final int chunkSizeBytes;
    private UnsafeBuffer[] chunks = new UnsafeBuffer[8];
    private int chunkCount;
    private int usedBytes;            // in the current chunk, chunks[chunkCount - 1]
    private int nextChunkBytes;
    private long reservedBytes;
    private boolean preparing;
    private volatile ByteBuffer prepared;

    private static final Executor PREPARER = Executors.newSingleThreadExecutor(runnable ->
    {
        final Thread thread = new Thread(runnable, "keel-index-arena");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * @param chunkSizeBytes largest chunk, a power of two in [{@link #MIN_CHUNK_BYTES}, {@link #MAX_CHUNK_BYTES}].
     */
    IndexArena(final int chunkSizeBytes)
    {
        if (!BitUtil.isPowerOfTwo(chunkSizeBytes) || chunkSizeBytes < MIN_CHUNK_BYTES ||
            chunkSizeBytes > MAX_CHUNK_BYTES)
        {
            throw new IllegalArgumentException("chunkSizeBytes must be a power of two in [" + MIN_CHUNK_BYTES +
                ", " + MAX_CHUNK_BYTES + "]: " + chunkSizeBytes);
        }
        this.chunkSizeBytes = chunkSizeBytes;
        this.nextChunkBytes = Math.min(chunkSizeBytes, FIRST_CHUNK_BYTES);
    }

    /** @return the configured (largest regular) chunk size. */
    int chunkSizeBytes()
    {
        return chunkSizeBytes;
    }

    /** @return bytes of direct memory held by all chunks. */
    long reservedBytes()
    {
        return reservedBytes;
    }

    /** @return number of chunks. */
    int chunkCount()
    {
        return chunkCount;
    }

    /**
     * Reserve memory; its content is whatever was there (zero for fresh memory).
     *
     * @param bytes a positive multiple of {@link #ALIGNMENT}, at most {@link #MAX_CHUNK_BYTES}.
     * @return the address of the first byte.
     */
    long allocate(final int bytes)
    {
        if (bytes <= 0 || (bytes & (ALIGNMENT - 1)) != 0 || bytes > MAX_CHUNK_BYTES)
        {
            throw new IllegalArgumentException("allocation of " + bytes + " bytes");
        }
        if (0 == chunkCount || bytes > chunks[chunkCount - 1].capacity() - usedBytes)
        {
            addChunk(Math.max(nextChunkBytes, bytes));
        }
        final long address = ((long)(chunkCount - 1) << 32) | usedBytes;
        usedBytes += bytes;
        if (!preparing && usedBytes > chunks[chunkCount - 1].capacity() >> 1 && nextChunkBytes >= PREPARE_AHEAD_BYTES)
        {
            prepareNextChunk(nextChunkBytes);
        }
        return address;
    }

    long getLong(final long address)
    {
        return chunks[(int)(address >>> 32)].getLong((int)address);
    }

    void putLong(final long address, final long value)
    {
        chunks[(int)(address >>> 32)].putLong((int)address, value);
    }

    /** Copy bytes within the arena; both ranges lie inside one chunk each (as every allocation does). */
    void copy(final long from, final long to, final int bytes)
    {
        chunks[(int)(to >>> 32)].putBytes((int)to, chunks[(int)(from >>> 32)], (int)from, bytes);
    }

    private void prepareNextChunk(final int bytes)
    {
        preparing = true;
        PREPARER.execute(() -> prepared = BufferUtil.allocateDirectAligned(bytes, BitUtil.CACHE_LINE_LENGTH));
    }

    private void addChunk(final int bytes)
    {
        if (chunkCount == chunks.length)
        {
            chunks = Arrays.copyOf(chunks, chunks.length * 2);
        }
        ByteBuffer memory = prepared;
        if (null != memory && memory.capacity() >= bytes)
        {
            prepared = null;
        }
        else
        {
            memory = BufferUtil.allocateDirectAligned(bytes, BitUtil.CACHE_LINE_LENGTH);
        }
        preparing = false;
        chunks[chunkCount++] = new UnsafeBuffer(memory);
        usedBytes = 0;
        reservedBytes += memory.capacity();
        nextChunkBytes = (int)Math.min(chunkSizeBytes, 2L * nextChunkBytes);
    }
}
