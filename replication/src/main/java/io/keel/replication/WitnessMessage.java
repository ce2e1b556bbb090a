package io.keel.replication;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over the witness protocol: fixed 64-byte UDP datagrams, little-endian. A node sends a request, the
 * witness answers every well-formed request with a reply that echoes the request's send time, so a node needs no
 * table of requests in flight: the echo tells it when the request left (the start of a lease) and orders the answers.
 *
 * <pre>
 *   0 magic "KWIT" (4)       4 type (4)             8 pair id (8)        16 member id (4)    20 flags (4)
 *  24 epoch (8): RENEW the holder's epoch; VOTE the candidate epoch; REPLY the witness's epoch for the pair
 *  32 send time ns (8): set by the node, echoed in the reply
 *  40 holder (4): REPLY only, the member holding the lease in that epoch, -1 none
 *  44 result (4): REPLY only, see RESULT_*    48 lease ms (4): REPLY only    52 pad (12)
 * </pre>
 * Flags: {@link #FLAG_PEER_IN_SYNC} in a RENEW asks that the other member be in the in-sync set (cleared: removed
 * from it); in a REPLY it says whether it is.
 */
public final class WitnessMessage
{
    /** Every datagram is exactly this long. */
    public static final int LENGTH = 64;
    public static final int MAGIC = 0x5449574B; // "KWIT" little-endian
    /** The primary renews its lease (and states whom it wants in the in-sync set). */
    public static final int TYPE_RENEW = 1;
    /** A standby asks to become primary in a new epoch. */
    public static final int TYPE_VOTE = 2;
    /** The witness's answer to either. */
    public static final int TYPE_REPLY = 3;

    /** RENEW: the peer should be in the in-sync set. REPLY: the peer is in the in-sync set. */
    public static final int FLAG_PEER_IN_SYNC = 0x1;

    /** Lease renewed, or vote granted. */
    public static final int RESULT_GRANTED = 0;
    /** RENEW from a member that does not hold the lease in that epoch (the reply carries the current epoch). */
    public static final int RESULT_NOT_HOLDER = 1;
    /** VOTE for an epoch not above the witness's. */
    public static final int RESULT_STALE_EPOCH = 2;
    /** VOTE from a member outside the in-sync set: it may lack acknowledged commands. */
    public static final int RESULT_NOT_IN_SYNC = 3;
    /** VOTE while the holder's lease may still be valid. */
    public static final int RESULT_LEASE_LIVE = 4;

    static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final int MAGIC_OFFSET = 0;
    private static final int TYPE_OFFSET = 4;
    private static final int PAIR_OFFSET = 8;
    private static final int MEMBER_OFFSET = 16;
    private static final int FLAGS_OFFSET = 20;
    private static final int EPOCH_OFFSET = 24;
    private static final int SEND_TIME_OFFSET = 32;
    private static final int HOLDER_OFFSET = 40;
    private static final int RESULT_OFFSET = 44;
    private static final int LEASE_OFFSET = 48;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutable;
    private int offset;

    /** Wrap for reading. @param buffer bytes. @param offset start. @return this. */
    public WitnessMessage wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.mutable = buffer instanceof MutableDirectBuffer ? (MutableDirectBuffer)buffer : null;
        this.offset = offset;
        return this;
    }

    /**
     * Wrap for writing and fill a whole message (zeroing the reply-only fields).
     *
     * @return this.
     */
    public WitnessMessage encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int type,
        final long pairId,
        final int memberId,
        final int flags,
        final long epoch,
        final long sendTimeNs)
    {
        this.buffer = buffer;
        this.mutable = buffer;
        this.offset = offset;
        buffer.setMemory(offset, LENGTH, (byte)0);
        buffer.putInt(offset + MAGIC_OFFSET, MAGIC, ORDER);
        buffer.putInt(offset + TYPE_OFFSET, type, ORDER);
        buffer.putLong(offset + PAIR_OFFSET, pairId, ORDER);
        buffer.putInt(offset + MEMBER_OFFSET, memberId, ORDER);
        buffer.putInt(offset + FLAGS_OFFSET, flags, ORDER);
        buffer.putLong(offset + EPOCH_OFFSET, epoch, ORDER);
        buffer.putLong(offset + SEND_TIME_OFFSET, sendTimeNs, ORDER);
        buffer.putInt(offset + HOLDER_OFFSET, -1, ORDER);
        return this;
    }

    /** Fill the reply-only fields of a wrapped (mutable) message. @return this. */
    public WitnessMessage reply(final int result, final long epoch, final int holder, final boolean peerInSync,
        final int leaseMs)
    {
        mutable.putInt(offset + TYPE_OFFSET, TYPE_REPLY, ORDER);
        mutable.putInt(offset + RESULT_OFFSET, result, ORDER);
        mutable.putLong(offset + EPOCH_OFFSET, epoch, ORDER);
        mutable.putInt(offset + HOLDER_OFFSET, holder, ORDER);
        mutable.putInt(offset + FLAGS_OFFSET, peerInSync ? FLAG_PEER_IN_SYNC : 0, ORDER);
        mutable.putInt(offset + LEASE_OFFSET, leaseMs, ORDER);
        return this;
    }

    /** @param length bytes received. @return whether this is a witness message of a known type. */
    public boolean valid(final int length)
    {
        if (length != LENGTH || buffer.getInt(offset + MAGIC_OFFSET, ORDER) != MAGIC)
        {
            return false;
        }
        final int type = type();
        return TYPE_RENEW == type || TYPE_VOTE == type || TYPE_REPLY == type;
    }

    public int type()
    {
        return buffer.getInt(offset + TYPE_OFFSET, ORDER);
    }

    public long pairId()
    {
        return buffer.getLong(offset + PAIR_OFFSET, ORDER);
    }

    public int memberId()
    {
        return buffer.getInt(offset + MEMBER_OFFSET, ORDER);
    }

    public int flags()
    {
        return buffer.getInt(offset + FLAGS_OFFSET, ORDER);
    }

    public boolean peerInSync()
    {
        return (flags() & FLAG_PEER_IN_SYNC) != 0;
    }

    public long epoch()
    {
        return buffer.getLong(offset + EPOCH_OFFSET, ORDER);
    }

    public long sendTimeNs()
    {
        return buffer.getLong(offset + SEND_TIME_OFFSET, ORDER);
    }

    public int holder()
    {
        return buffer.getInt(offset + HOLDER_OFFSET, ORDER);
    }

    public int result()
    {
        return buffer.getInt(offset + RESULT_OFFSET, ORDER);
    }

    public int leaseMs()
    {
        return buffer.getInt(offset + LEASE_OFFSET, ORDER);
    }

    /** @param result a RESULT_* code. @return its name for logs. */
    public static String resultName(final int result)
    {
        switch (result)
        {
            case RESULT_GRANTED: return "granted";
            case RESULT_NOT_HOLDER: return "not the lease holder";
            case RESULT_STALE_EPOCH: return "epoch not above the witness's";
            case RESULT_NOT_IN_SYNC: return "not in the in-sync set";
            case RESULT_LEASE_LIVE: return "the primary's lease may still be valid";
            default: return "result " + result;
        }
    }
}
