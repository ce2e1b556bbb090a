package io.keel.replication;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over the replication messages exchanged by the two members, little-endian. Every message starts
 * with the same header; the body depends on the type.
 *
 * <pre>
 *  header:  0 type (4)   4 sender member id (4)   8 sender epoch (8)   16 sender role (4)   20 flags (4)
 *
 *  FRAMES            (primary to standby) 24 start position (8)  32 frame bytes length (4)  36 pad (4)
 *                    40 whole journal frames, exactly as in the primary's journal
 *  PRIMARY_HEARTBEAT (primary to standby) 24 committed position  32 released position (what the primary has
 *                    acknowledged to clients)  40 journal start position; flags: {@link #FLAG_SYNC}
 *  STANDBY_STATUS    (standby to primary, heartbeat and ack) 24 appended position  32 durable position (the ack)
 *                    40 last frame position  48 last frame epoch  56 last frame CRC (4)  60 state (4)
 *                    64 resend from (-1: none)
 *  MATCH             (primary to standby, answer to a handshake) 24 standby end position it answers
 *                    32 action (4)  40 position: stream from it, truncate to it, or the snapshot's position
 *  SNAPSHOT_CHUNK    (primary to standby, after MATCH install) 24 snapshot log position  32 epoch of the frame
 *                    before it  40 payload length (4)  44 chunk offset (4)  48 payload CRC32C (4)  52 chunk
 *                    length (4)  56 chunk bytes
 * </pre>
 */
public final class ReplicationMessage
{
    public static final int TYPE_FRAMES = 1;
    public static final int TYPE_PRIMARY_HEARTBEAT = 2;
    public static final int TYPE_STANDBY_STATUS = 3;
    public static final int TYPE_MATCH = 4;
    public static final int TYPE_SNAPSHOT_CHUNK = 5;

    public static final int HEADER_LENGTH = 24;
    public static final int FRAMES_HEADER_LENGTH = 40;
    public static final int PRIMARY_HEARTBEAT_LENGTH = 48;
    public static final int STANDBY_STATUS_LENGTH = 72;
    public static final int MATCH_LENGTH = 48;
    public static final int SNAPSHOT_CHUNK_HEADER_LENGTH = 56;

    /** Primary heartbeat flag: the primary releases only what the standby acknowledged (SYNC, not degraded). */
    public static final int FLAG_SYNC = 0x1;

    /** Standby state: looking for the common point with the primary's log. */
    public static final int STATE_HANDSHAKE = 0;
    /** Standby state: log matched, appending the primary's frames. */
    public static final int STATE_FOLLOWING = 1;

    /** Match action: the logs agree up to the standby's end; frames follow from there. */
    public static final int ACTION_STREAM_FROM = 1;
    /** Match action: cut the log back to the last group end at or before the position, then ask again. */
    public static final int ACTION_TRUNCATE_TO = 2;
    /**
     * Match action: the standby's log cannot be matched within the primary's (it is empty, or ends before the
     * primary's first retained segment): the primary sends its snapshot at the position, the standby installs it,
     * restarts its journal there, and asks again.
     */
    public static final int ACTION_INSTALL_SNAPSHOT = 3;

    static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private static final int TYPE_OFFSET = 0;
    private static final int SENDER_OFFSET = 4;
    private static final int EPOCH_OFFSET = 8;
    private static final int ROLE_OFFSET = 16;
    private static final int FLAGS_OFFSET = 20;
    private static final int P1_OFFSET = 24;
    private static final int P2_OFFSET = 32;
    private static final int P3_OFFSET = 40;
    private static final int P4_OFFSET = 48;
    private static final int CRC_OFFSET = 56;
    private static final int STATE_OFFSET = 60;
    private static final int RESEND_OFFSET = 64;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutable;
    private int offset;

    /**
     * Wrap for reading.
     *
     * @param buffer holding the message.
     * @param offset of its first byte.
     * @return this.
     */
    public ReplicationMessage wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.mutable = null;
        this.offset = offset;
        return this;
    }

    /**
     * Wrap for writing and fill in the header.
     *
     * @return this.
     */
    public ReplicationMessage wrapAndApplyHeader(
        final MutableDirectBuffer buffer, final int offset, final int type, final int senderId, final long epoch,
        final Role role, final int flags)
    {
        this.buffer = buffer;
        this.mutable = buffer;
        this.offset = offset;
        buffer.putInt(offset + TYPE_OFFSET, type, ORDER);
        buffer.putInt(offset + SENDER_OFFSET, senderId, ORDER);
        buffer.putLong(offset + EPOCH_OFFSET, epoch, ORDER);
        buffer.putInt(offset + ROLE_OFFSET, role.code(), ORDER);
        buffer.putInt(offset + FLAGS_OFFSET, flags, ORDER);
        return this;
    }

    /** @return message type. */
    public int type()
    {
        return buffer.getInt(offset + TYPE_OFFSET, ORDER);
    }

    /** @return sender's member id. */
    public int senderId()
    {
        return buffer.getInt(offset + SENDER_OFFSET, ORDER);
    }

    /** @return sender's epoch. */
    public long epoch()
    {
        return buffer.getLong(offset + EPOCH_OFFSET, ORDER);
    }

    /** @return sender's role code. */
    public int roleCode()
    {
        return buffer.getInt(offset + ROLE_OFFSET, ORDER);
    }

    /** @return flags. */
    public int flags()
    {
        return buffer.getInt(offset + FLAGS_OFFSET, ORDER);
    }

    // FRAMES

    /** @return FRAMES: position of the first frame. */
    public long startPosition()
    {
        return buffer.getLong(offset + P1_OFFSET, ORDER);
    }

    /** @return FRAMES: bytes of frames following the header. */
    public int framesLength()
    {
        return buffer.getInt(offset + P2_OFFSET, ORDER);
    }

    /** @return FRAMES: offset of the first frame in the buffer. */
    public int framesOffset()
    {
        return offset + FRAMES_HEADER_LENGTH;
    }

    ReplicationMessage frames(final long startPosition, final int framesLength)
    {
        mutable.putLong(offset + P1_OFFSET, startPosition, ORDER);
        mutable.putInt(offset + P2_OFFSET, framesLength, ORDER);
        mutable.putInt(offset + P2_OFFSET + 4, 0, ORDER);
        return this;
    }

    // PRIMARY_HEARTBEAT

    /** @return PRIMARY_HEARTBEAT: committed position. */
    public long committedPosition()
    {
        return buffer.getLong(offset + P1_OFFSET, ORDER);
    }

    /** @return PRIMARY_HEARTBEAT: highest position acknowledged to clients. */
    public long releasedPosition()
    {
        return buffer.getLong(offset + P2_OFFSET, ORDER);
    }

    /** @return PRIMARY_HEARTBEAT: position of the primary's oldest frame. */
    public long journalStartPosition()
    {
        return buffer.getLong(offset + P3_OFFSET, ORDER);
    }

    ReplicationMessage primaryHeartbeat(final long committed, final long released, final long start)
    {
        mutable.putLong(offset + P1_OFFSET, committed, ORDER);
        mutable.putLong(offset + P2_OFFSET, released, ORDER);
        mutable.putLong(offset + P3_OFFSET, start, ORDER);
        return this;
    }

    // STANDBY_STATUS

    /** @return STANDBY_STATUS: position after the standby's last appended frame. */
    public long appendedPosition()
    {
        return buffer.getLong(offset + P1_OFFSET, ORDER);
    }

    /** @return STANDBY_STATUS: position the standby holds durably: its ack. */
    public long durablePosition()
    {
        return buffer.getLong(offset + P2_OFFSET, ORDER);
    }

    /** @return STANDBY_STATUS: position of the standby's last frame, -1 when empty. */
    public long lastFramePosition()
    {
        return buffer.getLong(offset + P3_OFFSET, ORDER);
    }

    /** @return STANDBY_STATUS: epoch of the standby's last frame. */
    public long lastFrameEpoch()
    {
        return buffer.getLong(offset + P4_OFFSET, ORDER);
    }

    /** @return STANDBY_STATUS: CRC of the standby's last frame. */
    public int lastFrameCrc()
    {
        return buffer.getInt(offset + CRC_OFFSET, ORDER);
    }

    /** @return STANDBY_STATUS: {@link #STATE_HANDSHAKE} or {@link #STATE_FOLLOWING}. */
    public int state()
    {
        return buffer.getInt(offset + STATE_OFFSET, ORDER);
    }

    /** @return STANDBY_STATUS: position to resend from after a gap, -1 for none. */
    public long resendFrom()
    {
        return buffer.getLong(offset + RESEND_OFFSET, ORDER);
    }

    ReplicationMessage standbyStatus(
        final long appended, final long durable, final long lastFramePosition, final long lastFrameEpoch,
        final int lastFrameCrc, final int state, final long resendFrom)
    {
        mutable.putLong(offset + P1_OFFSET, appended, ORDER);
        mutable.putLong(offset + P2_OFFSET, durable, ORDER);
        mutable.putLong(offset + P3_OFFSET, lastFramePosition, ORDER);
        mutable.putLong(offset + P4_OFFSET, lastFrameEpoch, ORDER);
        mutable.putInt(offset + CRC_OFFSET, lastFrameCrc, ORDER);
        mutable.putInt(offset + STATE_OFFSET, state, ORDER);
        mutable.putLong(offset + RESEND_OFFSET, resendFrom, ORDER);
        return this;
    }

    // MATCH

    /** @return MATCH: the standby end position this answers. */
    public long standbyEndPosition()
    {
        return buffer.getLong(offset + P1_OFFSET, ORDER);
    }

    /** @return MATCH: {@link #ACTION_STREAM_FROM} or {@link #ACTION_TRUNCATE_TO}. */
    public int action()
    {
        return buffer.getInt(offset + P2_OFFSET, ORDER);
    }

    /** @return MATCH: position of the action. */
    public long matchPosition()
    {
        return buffer.getLong(offset + P3_OFFSET, ORDER);
    }

    ReplicationMessage match(final long standbyEnd, final int action, final long position)
    {
        mutable.putLong(offset + P1_OFFSET, standbyEnd, ORDER);
        mutable.putInt(offset + P2_OFFSET, action, ORDER);
        mutable.putInt(offset + P2_OFFSET + 4, 0, ORDER);
        mutable.putLong(offset + P3_OFFSET, position, ORDER);
        return this;
    }

    // SNAPSHOT_CHUNK

    ReplicationMessage snapshotChunk(final long snapshotPosition, final long epochBefore, final int payloadLength,
        final int chunkOffset, final int payloadCrc, final int chunkLength)
    {
        mutable.putLong(offset + P1_OFFSET, snapshotPosition, ORDER);
        mutable.putLong(offset + P2_OFFSET, epochBefore, ORDER);
        mutable.putInt(offset + P3_OFFSET, payloadLength, ORDER);
        mutable.putInt(offset + P3_OFFSET + 4, chunkOffset, ORDER);
        mutable.putInt(offset + P4_OFFSET, payloadCrc, ORDER);
        mutable.putInt(offset + P4_OFFSET + 4, chunkLength, ORDER);
        return this;
    }

    /** @return SNAPSHOT_CHUNK: log position the snapshot covers. */
    public long snapshotPosition()
    {
        return buffer.getLong(offset + P1_OFFSET, ORDER);
    }

    /** @return SNAPSHOT_CHUNK: epoch of the primary's frame just before the snapshot position (0 at 0). */
    public long snapshotEpochBefore()
    {
        return buffer.getLong(offset + P2_OFFSET, ORDER);
    }

    /** @return SNAPSHOT_CHUNK: total payload length. */
    public int snapshotPayloadLength()
    {
        return buffer.getInt(offset + P3_OFFSET, ORDER);
    }

    /** @return SNAPSHOT_CHUNK: offset of this chunk in the payload. */
    public int chunkOffset()
    {
        return buffer.getInt(offset + P3_OFFSET + 4, ORDER);
    }

    /** @return SNAPSHOT_CHUNK: CRC32C of the whole payload. */
    public int snapshotPayloadCrc()
    {
        return buffer.getInt(offset + P4_OFFSET, ORDER);
    }

    /** @return SNAPSHOT_CHUNK: bytes of payload in this message. */
    public int chunkLength()
    {
        return buffer.getInt(offset + P4_OFFSET + 4, ORDER);
    }

    /**
     * Smallest length a message of this type may have.
     *
     * @param type message type.
     * @return its fixed length, -1 for an unknown type.
     */
    public static int minLength(final int type)
    {
        switch (type)
        {
            case TYPE_FRAMES: return FRAMES_HEADER_LENGTH;
            case TYPE_PRIMARY_HEARTBEAT: return PRIMARY_HEARTBEAT_LENGTH;
            case TYPE_STANDBY_STATUS: return STANDBY_STATUS_LENGTH;
            case TYPE_MATCH: return MATCH_LENGTH;
            case TYPE_SNAPSHOT_CHUNK: return SNAPSHOT_CHUNK_HEADER_LENGTH;
            default: return -1;
        }
    }
}
