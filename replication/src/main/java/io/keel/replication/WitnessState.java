package io.keel.replication;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import static io.keel.replication.WitnessMessage.*;

/**
 * What the witness knows per pair, and the decisions it makes from it. Per pair: the current epoch, the member
 * holding the lease in it (-1 for a fresh pair), whether the other member is in the in-sync set, and the send time
 * of the last request that set the in-sync set (requests that arrive late are not applied). The lease's expiry is
 * kept in memory only: after a restart every lease counts as renewed at start, so a restarted witness waits a
 * whole lease before it votes for anyone but the holder.
 * <p>
 * Every change of epoch, holder or in-sync set is persisted (a {@link SlotFile} record: overwritten in place and
 * data-synced, since a vote is on the failover path) before the answer that reveals it is sent, so a restarted witness never grants a vote that contradicts one it
 * gave, nor promotes a member it had taken out of the in-sync set.
 * <p>
 * The rules:
 * <ul>
 *   <li>RENEW(epoch, peerInSync) from the holder in the current epoch: granted; the lease runs from now. When the
 *   request is newer than the last one that set the in-sync set, its wish is applied (persisted first).
 *   From anyone else: refused with the current epoch and holder (a lower epoch steps down).</li>
 *   <li>VOTE(candidate) from the holder itself (a restarted primary): granted at once when the candidate is at least
 *   the current epoch. From the other member: granted only when the candidate is above the current epoch, the member
 *   is in the in-sync set (or the pair is fresh) and the holder's lease has lapsed: lease + margin since the last
 *   renewal granted. A grant makes the member the holder in the candidate epoch with an in-sync set of itself
 *   alone (its peer must catch up and be added back by it).</li>
 * </ul>
 */
public final class WitnessState
{
    /** File name inside the witness directory. */
    public static final String FILE_NAME = "witness.state";
    /** Most pairs one witness serves. */
    public static final int MAX_PAIRS = 64;
    static final long MAGIC = 0x534E54574C45454BL; // "KEELWTNS" little-endian
    static final int VERSION = 2;
    /** Record: 0 pair count (4), 4 reserved (4), then per pair the fields below. */
    static final int RECORDS_OFFSET = 8;
    /** Per pair: 0 pair id (8), 8 epoch (8), 16 holder (4), 20 peer in sync (4), 24 in-sync request seq (8). */
    static final int RECORD_LENGTH = 32;
    static final int V1_HEADER_LENGTH = 16;

    private final Path file;
    private final SlotFile slots;
    private final long leaseNs;
    private final long marginNs;
    private final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(RECORDS_OFFSET +
        MAX_PAIRS * RECORD_LENGTH));
    private final long[] pairIds = new long[MAX_PAIRS];
    private final long[] epochs = new long[MAX_PAIRS];
    private final int[] holders = new int[MAX_PAIRS];
    private final boolean[] peerInSync = new boolean[MAX_PAIRS];
    private final long[] inSyncSeqs = new long[MAX_PAIRS];
    private final long[] lastRenewNs = new long[MAX_PAIRS];
    private int count;
    private long stores;

    private WitnessState(final Path dir, final long leaseNs, final long marginNs)
    {
        this.file = dir.resolve(FILE_NAME);
        this.slots = SlotFile.open(file, MAGIC, VERSION, "witness state");
        this.leaseNs = leaseNs;
        this.marginNs = marginNs;
    }

    /**
     * Load the state in a directory (none yet: no pairs).
     *
     * @param dir      witness directory, created when missing.
     * @param leaseNs  lease length.
     * @param marginNs clock margin added on the witness's side before a lease counts as lapsed.
     * @param nowNs    now: every loaded lease counts as renewed now.
     * @return the state.
     * @throws IllegalStateException naming the file when it is damaged.
     */
    public static WitnessState open(final Path dir, final long leaseNs, final long marginNs, final long nowNs)
    {
        final WitnessState state = new WitnessState(dir, leaseNs, marginNs);
        final SlotFile slots = state.slots;
        if (slots.hasRecord())
        {
            final DirectBuffer payload = slots.payload();
            final int count = payload.capacity() >= 8 ? payload.getInt(0, ByteOrder.LITTLE_ENDIAN) : -1;
            if (count < 0 || count > MAX_PAIRS || payload.capacity() != RECORDS_OFFSET + count * RECORD_LENGTH)
            {
                throw new IllegalStateException("witness state " + state.file + " holds a record of " +
                    payload.capacity() + " bytes for " + count + " pairs: damaged; refusing to guess epochs and " +
                    "in-sync sets");
            }
            state.load(payload, RECORDS_OFFSET, count, nowNs);
        }
        else if (null != slots.otherFormat())
        {
            state.readVersion1(slots.otherFormat(), nowNs);
        }
        return state;
    }

    private void load(final DirectBuffer source, final int offset, final int pairs, final long nowNs)
    {
        for (int i = 0; i < pairs; i++)
        {
            final int at = offset + i * RECORD_LENGTH;
            pairIds[i] = source.getLong(at, ByteOrder.LITTLE_ENDIAN);
            epochs[i] = source.getLong(at + 8, ByteOrder.LITTLE_ENDIAN);
            holders[i] = source.getInt(at + 16, ByteOrder.LITTLE_ENDIAN);
            peerInSync[i] = (source.getInt(at + 20, ByteOrder.LITTLE_ENDIAN) & 1) != 0;
            inSyncSeqs[i] = source.getLong(at + 24, ByteOrder.LITTLE_ENDIAN);
            lastRenewNs[i] = nowNs;
        }
        count = pairs;
    }

    /** Format 1: magic, version, count, the records, CRC32C; written by temp file and rename. */
    private void readVersion1(final byte[] content, final long nowNs)
    {
        if (content.length < V1_HEADER_LENGTH + 4 || content.length > V1_HEADER_LENGTH + MAX_PAIRS * RECORD_LENGTH + 4)
        {
            throw new IllegalStateException("witness state " + file + " is " + content.length +
                " bytes: damaged; refusing to guess epochs and in-sync sets");
        }
        final UnsafeBuffer v1 = new UnsafeBuffer(content);
        final int pairs = v1.getInt(12, ByteOrder.LITTLE_ENDIAN);
        final int length = V1_HEADER_LENGTH + pairs * RECORD_LENGTH;
        final CRC32C crc = new CRC32C();
        if (v1.getLong(0, ByteOrder.LITTLE_ENDIAN) != MAGIC || pairs < 0 || pairs > MAX_PAIRS ||
            content.length != length + 4)
        {
            throw new IllegalStateException("witness state " + file + " fails its magic or length check: damaged; " +
                "refusing to guess epochs and in-sync sets");
        }
        crc.update(content, 0, length);
        if (v1.getInt(length, ByteOrder.LITTLE_ENDIAN) != (int)crc.getValue())
        {
            throw new IllegalStateException("witness state " + file + " fails its checksum check: damaged; " +
                "refusing to guess epochs and in-sync sets");
        }
        load(v1, V1_HEADER_LENGTH, pairs, nowNs);
    }

    /**
     * Decide on a request and turn the message into the reply (in place). Persists before returning when the
     * decision changed the state.
     *
     * @param message a valid RENEW or VOTE, wrapped over a mutable buffer.
     * @param nowNs   now.
     * @param leaseMs lease length to tell the node.
     * @return true when a reply should be sent (false: the witness is full and the pair unknown).
     */
    public boolean decide(final WitnessMessage message, final long nowNs, final int leaseMs)
    {
        final long pairId = message.pairId();
        final int member = message.memberId();
        final long epoch = message.epoch();
        int i = indexOf(pairId);
        if (i < 0)
        {
            if (count == MAX_PAIRS)
            {
                return false;
            }
            i = count++;
            pairIds[i] = pairId;
            epochs[i] = 0;
            holders[i] = -1;
            peerInSync[i] = true;
            inSyncSeqs[i] = Long.MIN_VALUE;
            lastRenewNs[i] = nowNs;
        }
        final int result;
        if (TYPE_RENEW == message.type())
        {
            if (epoch != epochs[i] || member != holders[i])
            {
                result = RESULT_NOT_HOLDER;
            }
            else
            {
                final long seq = message.sendTimeNs();
                if (seq > inSyncSeqs[i])
                {
                    final boolean wanted = message.peerInSync();
                    final boolean changed = wanted != peerInSync[i];
                    inSyncSeqs[i] = seq;
                    peerInSync[i] = wanted;
                    if (changed)
                    {
                        store();
                    }
                }
                lastRenewNs[i] = nowNs;
                result = RESULT_GRANTED;
            }
        }
        else if (member == holders[i] && epoch >= epochs[i])
        {
            if (epoch > epochs[i])
            {
                grant(i, member, epoch);
            }
            lastRenewNs[i] = nowNs;
            result = RESULT_GRANTED;
        }
        else if (epoch <= epochs[i])
        {
            result = RESULT_STALE_EPOCH;
        }
        else if (holders[i] >= 0 && !peerInSync[i])
        {
            result = RESULT_NOT_IN_SYNC;
        }
        else if (holders[i] >= 0 && nowNs - lastRenewNs[i] <= leaseNs + marginNs)
        {
            result = RESULT_LEASE_LIVE;
        }
        else
        {
            grant(i, member, epoch);
            lastRenewNs[i] = nowNs;
            result = RESULT_GRANTED;
        }
        message.reply(result, epochs[i], holders[i], holders[i] < 0 || peerInSync[i], leaseMs);
        return true;
    }

    private void grant(final int i, final int member, final long epoch)
    {
        epochs[i] = epoch;
        holders[i] = member;
        peerInSync[i] = false;
        inSyncSeqs[i] = Long.MIN_VALUE;
        store();
    }

    private int indexOf(final long pairId)
    {
        for (int i = 0; i < count; i++)
        {
            if (pairIds[i] == pairId)
            {
                return i;
            }
        }
        return -1;
    }

    /** Persist every pair durably (a {@link SlotFile} record). */
    private void store()
    {
        buffer.putInt(0, count, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(4, 0, ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++)
        {
            final int at = RECORDS_OFFSET + i * RECORD_LENGTH;
            buffer.putLong(at, pairIds[i], ByteOrder.LITTLE_ENDIAN);
            buffer.putLong(at + 8, epochs[i], ByteOrder.LITTLE_ENDIAN);
            buffer.putInt(at + 16, holders[i], ByteOrder.LITTLE_ENDIAN);
            buffer.putInt(at + 20, peerInSync[i] ? 1 : 0, ByteOrder.LITTLE_ENDIAN);
            buffer.putLong(at + 24, inSyncSeqs[i], ByteOrder.LITTLE_ENDIAN);
        }
        slots.write(buffer, 0, RECORDS_OFFSET + count * RECORD_LENGTH);
        stores++;
    }

    /** @return pairs known. */
    public int pairs()
    {
        return count;
    }

    /** @param pairId pair. @return its epoch, or -1 when unknown. */
    public long epoch(final long pairId)
    {
        final int i = indexOf(pairId);
        return i < 0 ? -1 : epochs[i];
    }

    /** @param pairId pair. @return the lease holder, -1 when none or unknown. */
    public int holder(final long pairId)
    {
        final int i = indexOf(pairId);
        return i < 0 ? -1 : holders[i];
    }

    /** @param pairId pair. @return whether the holder's peer is in the in-sync set (true for a fresh pair). */
    public boolean peerInSync(final long pairId)
    {
        final int i = indexOf(pairId);
        return i < 0 || holders[i] < 0 || peerInSync[i];
    }

    /** @return one line per pair, as the witness logs changes. */
    public java.util.List<String> describe()
    {
        final java.util.List<String> lines = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            lines.add("pair " + Long.toHexString(pairIds[i]) + ": epoch " + epochs[i] + ", primary member " +
                holders[i] + ", standby in sync: " + (holders[i] < 0 || peerInSync[i]));
        }
        return lines;
    }

    /** @return times the state was persisted. */
    public long stores()
    {
        return stores;
    }

    /** @return the state file. */
    public Path file()
    {
        return file;
    }
}
