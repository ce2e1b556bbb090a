package io.keel.replication;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The node-state file: the epoch a node is in, its role in it and whom it follows (voted for). Written durably
 * before the node acts on it, so a node never forgets an epoch it has used: a restarted node never reuses an epoch
 * nor follows an older primary. Promotion writes it on the failover path, so it is a {@link SlotFile}: one of two
 * records overwritten in place and data-synced. Record (format version 2):
 * <pre>
 *   0  role code (4)   4  voted for: member id followed or promoted, -1 none (4)   8  epoch (8)
 * </pre>
 * A version 1 file (32 bytes: magic "KEELNODE", version, role, epoch, voted for, CRC32C, written by temp file and
 * rename) is read, and replaced by the version 2 file at the first store.
 */
public final class NodeStateFile
{
    /** File name inside the state directory. */
    public static final String FILE_NAME = "node.state";
    static final long MAGIC = 0x45444F4E4C45454BL; // "KEELNODE" little-endian
    static final int VERSION = 2;
    static final int RECORD_LENGTH = 16;
    static final int V1_LENGTH = 32;

    private final SlotFile slots;
    private final UnsafeBuffer record = new UnsafeBuffer(ByteBuffer.allocateDirect(RECORD_LENGTH));
    private long epoch;
    private Role role = Role.STANDBY;
    private int votedFor = -1;

    private NodeStateFile(final SlotFile slots)
    {
        this.slots = slots;
    }

    /**
     * Load the state in a directory, or start at epoch 0 as standby when there is none.
     *
     * @param dir state directory (created when missing).
     * @return the state.
     * @throws IllegalStateException naming the file when it exists but is damaged.
     */
    public static NodeStateFile open(final Path dir)
    {
        final NodeStateFile state = new NodeStateFile(SlotFile.open(dir.resolve(FILE_NAME), MAGIC, VERSION,
            "node state"));
        final SlotFile slots = state.slots;
        if (slots.hasRecord())
        {
            final DirectBuffer payload = slots.payload();
            if (payload.capacity() != RECORD_LENGTH)
            {
                throw new IllegalStateException("node state " + slots.file() + " holds a record of " +
                    payload.capacity() + " bytes, expected " + RECORD_LENGTH + ": damaged; refusing to guess the epoch");
            }
            state.role = Role.of(payload.getInt(0, ByteOrder.LITTLE_ENDIAN));
            state.votedFor = payload.getInt(4, ByteOrder.LITTLE_ENDIAN);
            state.epoch = payload.getLong(8, ByteOrder.LITTLE_ENDIAN);
        }
        else if (null != slots.otherFormat())
        {
            state.readVersion1(slots.otherFormat());
        }
        return state;
    }

    private void readVersion1(final byte[] content)
    {
        final Path file = slots.file();
        if (content.length != V1_LENGTH)
        {
            throw new IllegalStateException("node state " + file + " is " + content.length + " bytes, expected " +
                SlotFile.FILE_BYTES + " (or " + V1_LENGTH + " in format 1): damaged; refusing to guess the epoch");
        }
        final UnsafeBuffer v1 = new UnsafeBuffer(content);
        final CRC32C crc = new CRC32C();
        crc.update(content, 0, 28);
        if (v1.getLong(0, ByteOrder.LITTLE_ENDIAN) != MAGIC || v1.getInt(28, ByteOrder.LITTLE_ENDIAN) != (int)crc.getValue())
        {
            throw new IllegalStateException("node state " + file + " fails its magic or checksum check at offset 0: " +
                "damaged; refusing to guess the epoch");
        }
        role = Role.of(v1.getInt(12, ByteOrder.LITTLE_ENDIAN));
        epoch = v1.getLong(16, ByteOrder.LITTLE_ENDIAN);
        votedFor = v1.getInt(24, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Persist a new state durably, then make it current. Epochs never go back.
     *
     * @param newEpoch    epoch, at least the current one.
     * @param newRole     role in it.
     * @param newVotedFor member followed or promoted in it, -1 for none.
     */
    public void store(final long newEpoch, final Role newRole, final int newVotedFor)
    {
        if (newEpoch < epoch)
        {
            throw new IllegalStateException("epoch must not go back: " + newEpoch + " < " + epoch + " in " +
                slots.file());
        }
        record.putInt(0, newRole.code(), ByteOrder.LITTLE_ENDIAN);
        record.putInt(4, newVotedFor, ByteOrder.LITTLE_ENDIAN);
        record.putLong(8, newEpoch, ByteOrder.LITTLE_ENDIAN);
        slots.write(record, 0, RECORD_LENGTH);
        epoch = newEpoch;
        role = newRole;
        votedFor = newVotedFor;
    }

    /** @return current epoch. */
    public long epoch()
    {
        return epoch;
    }

    /** @return role stored with the epoch. */
    public Role role()
    {
        return role;
    }

    /** @return member followed or promoted in the epoch, -1 for none. */
    public int votedFor()
    {
        return votedFor;
    }

    /** @return the file. */
    public Path file()
    {
        return slots.file();
    }
}
