package io.keel.engine;

import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The outcomes of the last {@code capacity} commands, keyed by (clientId, commandId): what makes a retried
 * command return its original answer instead of running again. Oldest entries are evicted first.
 * <p>
 * Entries live in insertion-ordered columns (a ring); an open-addressing table with linear probing maps a key to
 * its entry. Eviction removes the key with backward-shift deletion, so lookups never see tombstones. Each table slot
 * also holds 32 bits of its key's hash: a probe reads an entry's record only when those match (a real hit, almost
 * always), and deletion finds each key's home slot without reading its record. With the default 2^18 entries the
 * records (12 MiB) do not fit in cache, so that saves one or two cache misses per command. Allocation free;
 * business-logic thread only.
 */
final class IdempotencyWindow
{
    static final int NOT_FOUND = -1;

    static final byte ACCEPTED = 1;
    static final byte REJECTED = 2;
    static final byte FAILED = 3;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final int ENTRY_LENGTH = 49;
    private static final int STRIDE = 6;
    private static final int MAX_EVENT_COUNT = (1 << 24) - 1;

    private final int capacity;
    private final int mask;
    private final long[] table; // hash32 << 32 | (entry index + 1); 0 = empty

    // one record of STRIDE longs per entry, so remembering a command writes one or two cache lines:
    // clientId, commandId, position, expectedVersion, actualVersion, rejection code << 32 | eventCount << 8 | status
    private final long[] records;
    private final String[] errors;

    private long head; // index of the oldest entry (monotonic; slot = head % capacity)
    private int size;

    IdempotencyWindow(final int capacity)
    {
        if (capacity < 1 || capacity > (1 << 26))
        {
            throw new IllegalArgumentException("idempotency window capacity " + capacity + " out of [1, 2^26]");
        }
        this.capacity = capacity;
        final int tableSize = BitUtil.findNextPositivePowerOfTwo(capacity * 2);
        this.mask = tableSize - 1;
        table = new long[tableSize];
        records = new long[capacity * STRIDE];
        errors = new String[capacity];
    }

    int capacity()
    {
        return capacity;
    }

    int size()
    {
        return size;
    }

    /**
     * @return entry index of the key, or {@link #NOT_FOUND}.
     */
    int find(final long clientId, final long commandId)
    {
        final int hash = hash(clientId, commandId);
        int slot = hash & mask;
        while (true)
        {
            final long ref = table[slot];
            if (0 == ref)
            {
                return NOT_FOUND;
            }
            if ((int)(ref >>> 32) == hash)
            {
                final int entry = (int)ref - 1;
                final int r = entry * STRIDE;
                if (records[r] == clientId && records[r + 1] == commandId)
                {
                    return entry;
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /**
     * Remember an outcome, evicting the oldest when full. The key must not be present.
     */
    void put(
        final long clientId,
        final long commandId,
        final byte status,
        final Rejection rejection,
        final long position,
        final int eventCount,
        final long expectedVersion,
        final long actualVersion,
        final String error)
    {
        assert find(clientId, commandId) == NOT_FOUND : "duplicate key " + clientId + ":" + commandId;
        if (size == capacity)
        {
            evictOldest();
        }
        if (eventCount < 0 || eventCount > MAX_EVENT_COUNT)
        {
            throw new IllegalArgumentException("event count " + eventCount + " out of [0, " + MAX_EVENT_COUNT + "]");
        }
        final int entry = (int)((head + size) % capacity);
        final int r = entry * STRIDE;
        records[r] = clientId;
        records[r + 1] = commandId;
        records[r + 2] = position;
        records[r + 3] = expectedVersion;
        records[r + 4] = actualVersion;
        records[r + 5] = ((long)(null == rejection ? 0 : rejection.code()) << 32) | ((long)eventCount << 8) |
            (status & 0xFF);
        if (null != error)
        {
            errors[entry] = error;
        }
        size++;

        final int hash = hash(clientId, commandId);
        int slot = hash & mask;
        while (table[slot] != 0)
        {
            slot = (slot + 1) & mask;
        }
        table[slot] = ref(hash, entry);
    }

    byte status(final int entry)
    {
        return (byte)records[entry * STRIDE + 5];
    }

    Rejection rejection(final int entry)
    {
        final int code = (int)(records[entry * STRIDE + 5] >>> 32);
        return 0 == code ? null : Rejection.of(code);
    }

    long position(final int entry)
    {
        return records[entry * STRIDE + 2];
    }

    int eventCount(final int entry)
    {
        return (int)((records[entry * STRIDE + 5] >>> 8) & MAX_EVENT_COUNT);
    }

    long expectedVersion(final int entry)
    {
        return records[entry * STRIDE + 3];
    }

    long actualVersion(final int entry)
    {
        return records[entry * STRIDE + 4];
    }

    String error(final int entry)
    {
        return errors[entry];
    }

    void clear()
    {
        java.util.Arrays.fill(table, 0);
        java.util.Arrays.fill(errors, null);
        head = 0;
        size = 0;
    }

    /**
     * @return an upper bound of the bytes {@link #writeTo(MutableDirectBuffer, int)} writes.
     */
    long maxSnapshotLength()
    {
        long length = 4 + (long)size * ENTRY_LENGTH;
        for (int i = 0; i < size; i++)
        {
            final String error = errors[(int)((head + i) % capacity)];
            if (null != error)
            {
                length += 4 + 3L * error.length();
            }
        }
        return length;
    }

    /**
     * Write every entry, oldest first, as fixed-size little-endian records (plus the error text of failed
     * commands): a tight loop of plain stores, so a snapshot of a large window is a short pause.
     *
     * @return bytes written.
     */
    int writeTo(final MutableDirectBuffer buffer, final int offset)
    {
        int at = offset;
        buffer.putInt(at, size, ORDER);
        at += 4;
        for (int i = 0; i < size; i++)
        {
            final int e = (int)((head + i) % capacity);
            final int r = e * STRIDE;
            buffer.putLong(at, records[r], ORDER);
            buffer.putLong(at + 8, records[r + 1], ORDER);
            buffer.putLong(at + 16, records[r + 2], ORDER);
            buffer.putLong(at + 24, records[r + 3], ORDER);
            buffer.putLong(at + 32, records[r + 4], ORDER);
            buffer.putInt(at + 40, eventCount(e), ORDER);
            buffer.putInt(at + 44, (int)(records[r + 5] >>> 32), ORDER);
            buffer.putByte(at + 48, status(e));
            at += ENTRY_LENGTH;
            if (FAILED == status(e))
            {
                at += buffer.putStringUtf8(at, null == errors[e] ? "" : errors[e], ORDER);
            }
        }
        return at - offset;
    }

    /**
     * Replace the contents with entries written by {@link #writeTo(MutableDirectBuffer, int)}; keeps the newest
     * when there are more than this window's capacity.
     *
     * @return bytes read.
     */
    int readFrom(final DirectBuffer buffer, final int offset)
    {
        clear();
        int at = offset;
        final int count = buffer.getInt(at, ORDER);
        at += 4;
        if (count < 0 || (long)count * ENTRY_LENGTH > buffer.capacity() - at)
        {
            throw new IllegalArgumentException("idempotency window entry count " + count + " does not fit the snapshot");
        }
        for (int i = 0; i < count; i++)
        {
            final long clientId = buffer.getLong(at, ORDER);
            final long commandId = buffer.getLong(at + 8, ORDER);
            final long position = buffer.getLong(at + 16, ORDER);
            final long expected = buffer.getLong(at + 24, ORDER);
            final long actual = buffer.getLong(at + 32, ORDER);
            final int eventCount = buffer.getInt(at + 40, ORDER);
            final int code = buffer.getInt(at + 44, ORDER);
            final byte status = buffer.getByte(at + 48);
            at += ENTRY_LENGTH;
            String error = null;
            if (FAILED == status)
            {
                error = buffer.getStringUtf8(at, ORDER);
                at += 4 + buffer.getInt(at, ORDER);
            }
            else if (ACCEPTED != status && REJECTED != status)
            {
                throw new IllegalArgumentException("idempotency window entry " + i + " has status " + status);
            }
            if (NOT_FOUND == find(clientId, commandId))
            {
                put(clientId, commandId, status, 0 == code ? null : Rejection.of(code), position, eventCount, expected,
                    actual, error);
            }
        }
        return at - offset;
    }

    private void evictOldest()
    {
        final int entry = (int)(head % capacity);
        final int r = entry * STRIDE;
        final int hash = hash(records[r], records[r + 1]);
        final long ref = ref(hash, entry);
        int slot = hash & mask;
        while (table[slot] != ref)
        {
            assert table[slot] != 0 : "evicted entry missing from the table";
            slot = (slot + 1) & mask;
        }
        deleteSlot(slot);
        errors[entry] = null;
        head++;
        size--;
    }

    private void deleteSlot(final int deleted)
    {
        int gap = deleted;
        table[gap] = 0;
        int slot = gap;
        while (true)
        {
            slot = (slot + 1) & mask;
            final long ref = table[slot];
            if (0 == ref)
            {
                return;
            }
            final int home = (int)(ref >>> 32) & mask;
            // move the entry into the gap unless its home lies cyclically in (gap, slot]
            final boolean homeBetween = gap <= slot ? (home > gap && home <= slot) : (home > gap || home <= slot);
            if (!homeBetween)
            {
                table[gap] = ref;
                table[slot] = 0;
                gap = slot;
            }
        }
    }

    private static int hash(final long clientId, final long commandId)
    {
        long h = clientId * 0x9E3779B97F4A7C15L + commandId;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        return (int)h;
    }

    private static long ref(final int hash, final int entry)
    {
        return ((long)hash << 32) | (entry + 1);
    }
}
