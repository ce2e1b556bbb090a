package io.keel.engine;

import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;
import org.agrona.BitUtil;

/**
 * The outcomes of the last {@code capacity} commands, keyed by (clientId, commandId): what makes a retried
 * command return its original answer instead of running again. Oldest entries are evicted first.
 * <p>
 * Entries live in insertion-ordered columns (a ring); an open-addressing table with linear probing maps a key to
 * its entry. Eviction removes the key with backward-shift deletion, so lookups never see tombstones. Allocation
 * free; business-logic thread only.
 */
final class IdempotencyWindow
{
    static final int NOT_FOUND = -1;

    static final byte ACCEPTED = 1;
    static final byte REJECTED = 2;
    static final byte FAILED = 3;

    private final int capacity;
    private final int mask;
    private final int[] table; // entry index + 1; 0 = empty

    private final long[] clientIds;
    private final long[] commandIds;
    private final byte[] statuses;
    private final Rejection[] rejections;
    private final long[] positions;
    private final int[] eventCounts;
    private final long[] expectedVersions;
    private final long[] actualVersions;
    private final String[] errors;

    private long head; // index of the oldest entry (monotonic; slot = head % capacity)
    private int size;

    IdempotencyWindow(final int capacity)
    {
        if (capacity < 1 || capacity > (1 << 28))
        {
            throw new IllegalArgumentException("idempotency window capacity " + capacity + " out of [1, 2^28]");
        }
        this.capacity = capacity;
        final int tableSize = BitUtil.findNextPositivePowerOfTwo(capacity * 2);
        this.mask = tableSize - 1;
        table = new int[tableSize];
        clientIds = new long[capacity];
        commandIds = new long[capacity];
        statuses = new byte[capacity];
        rejections = new Rejection[capacity];
        positions = new long[capacity];
        eventCounts = new int[capacity];
        expectedVersions = new long[capacity];
        actualVersions = new long[capacity];
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
        int slot = home(clientId, commandId);
        while (true)
        {
            final int ref = table[slot];
            if (0 == ref)
            {
                return NOT_FOUND;
            }
            final int entry = ref - 1;
            if (clientIds[entry] == clientId && commandIds[entry] == commandId)
            {
                return entry;
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
        final int entry = (int)((head + size) % capacity);
        clientIds[entry] = clientId;
        commandIds[entry] = commandId;
        statuses[entry] = status;
        rejections[entry] = rejection;
        positions[entry] = position;
        eventCounts[entry] = eventCount;
        expectedVersions[entry] = expectedVersion;
        actualVersions[entry] = actualVersion;
        errors[entry] = error;
        size++;

        int slot = home(clientId, commandId);
        while (table[slot] != 0)
        {
            slot = (slot + 1) & mask;
        }
        table[slot] = entry + 1;
    }

    byte status(final int entry)
    {
        return statuses[entry];
    }

    Rejection rejection(final int entry)
    {
        return rejections[entry];
    }

    long position(final int entry)
    {
        return positions[entry];
    }

    int eventCount(final int entry)
    {
        return eventCounts[entry];
    }

    long expectedVersion(final int entry)
    {
        return expectedVersions[entry];
    }

    long actualVersion(final int entry)
    {
        return actualVersions[entry];
    }

    String error(final int entry)
    {
        return errors[entry];
    }

    void clear()
    {
        java.util.Arrays.fill(table, 0);
        java.util.Arrays.fill(rejections, null);
        java.util.Arrays.fill(errors, null);
        head = 0;
        size = 0;
    }

    /**
     * Write every entry, oldest first.
     */
    void writeTo(final BytesOut<?> out)
    {
        out.writeInt(size);
        for (int i = 0; i < size; i++)
        {
            final int e = (int)((head + i) % capacity);
            out.writeLong(clientIds[e]);
            out.writeLong(commandIds[e]);
            out.writeByte(statuses[e]);
            out.writeInt(null == rejections[e] ? 0 : rejections[e].code());
            out.writeLong(positions[e]);
            out.writeInt(eventCounts[e]);
            out.writeLong(expectedVersions[e]);
            out.writeLong(actualVersions[e]);
            out.writeUtf8(errors[e]);
        }
    }

    /**
     * Replace the contents with entries written by {@link #writeTo(BytesOut)}; keeps the newest when the snapshot
     * holds more than this window's capacity.
     */
    void readFrom(final BytesIn<?> in)
    {
        clear();
        final int count = in.readInt();
        if (count < 0)
        {
            throw new IllegalArgumentException("idempotency window entry count " + count);
        }
        for (int i = 0; i < count; i++)
        {
            final long clientId = in.readLong();
            final long commandId = in.readLong();
            final byte status = in.readByte();
            final int code = in.readInt();
            final long position = in.readLong();
            final int eventCount = in.readInt();
            final long expected = in.readLong();
            final long actual = in.readLong();
            final String error = in.readUtf8();
            put(clientId, commandId, status, 0 == code ? null : Rejection.of(code), position, eventCount, expected,
                actual, error);
        }
    }

    private void evictOldest()
    {
        final int entry = (int)(head % capacity);
        int slot = home(clientIds[entry], commandIds[entry]);
        while (table[slot] != entry + 1)
        {
            assert table[slot] != 0 : "evicted entry missing from the table";
            slot = (slot + 1) & mask;
        }
        deleteSlot(slot);
        rejections[entry] = null;
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
            final int ref = table[slot];
            if (0 == ref)
            {
                return;
            }
            final int home = home(clientIds[ref - 1], commandIds[ref - 1]);
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

    private int home(final long clientId, final long commandId)
    {
        long h = clientId * 0x9E3779B97F4A7C15L + commandId;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        return (int)h & mask;
    }
}
