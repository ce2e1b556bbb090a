package io.keel.replication;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The node-state file: the epoch a node is in, its role in it and whom it follows (voted for). Written before
 * the node acts on it (temp file, fsync, atomic rename, directory fsync), so a node never forgets an epoch it
 * has used: a restarted node never reuses an epoch nor follows an older primary.
 *
 * <pre>
 *   0  magic "KEELNODE" (8)   8  format version (4)   12 role code (4)
 *  16  epoch (8)             24  voted for: member id followed or promoted, -1 none (4)
 *  28  CRC32C of [0, 28) (4)
 * </pre>
 */
public final class NodeStateFile
{
    /** File name inside the state directory. */
    public static final String FILE_NAME = "node.state";
    static final long MAGIC = 0x45444F4E4C45454BL; // "KEELNODE" little-endian
    static final int VERSION = 1;
    static final int LENGTH = 32;

    private final Path dir;
    private final Path file;
    private final ByteBuffer bytes = ByteBuffer.allocateDirect(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
    private final CRC32C crc = new CRC32C();
    private long epoch;
    private Role role = Role.STANDBY;
    private int votedFor = -1;

    private NodeStateFile(final Path dir)
    {
        this.dir = dir;
        this.file = dir.resolve(FILE_NAME);
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
        final NodeStateFile state = new NodeStateFile(dir);
        try
        {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(FILE_NAME + ".tmp"));
            final byte[] content = Files.readAllBytes(state.file);
            if (content.length != LENGTH)
            {
                throw new IllegalStateException("node state " + state.file + " is " + content.length +
                    " bytes, expected " + LENGTH + ": damaged; refusing to guess the epoch");
            }
            state.bytes.clear();
            state.bytes.put(content).flip();
            if (state.buffer.getLong(0, ByteOrder.LITTLE_ENDIAN) != MAGIC ||
                state.buffer.getInt(28, ByteOrder.LITTLE_ENDIAN) != state.checksum())
            {
                throw new IllegalStateException("node state " + state.file + " fails its magic or checksum check " +
                    "at offset 0: damaged; refusing to guess the epoch");
            }
            state.role = Role.of(state.buffer.getInt(12, ByteOrder.LITTLE_ENDIAN));
            state.epoch = state.buffer.getLong(16, ByteOrder.LITTLE_ENDIAN);
            state.votedFor = state.buffer.getInt(24, ByteOrder.LITTLE_ENDIAN);
        }
        catch (final NoSuchFileException ex)
        {
            state.epoch = 0;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot read node state " + state.file + ": " + ex, ex);
        }
        return state;
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
            throw new IllegalStateException("epoch must not go back: " + newEpoch + " < " + epoch + " in " + file);
        }
        bytes.clear();
        buffer.putLong(0, MAGIC, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(8, VERSION, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(12, newRole.code(), ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(16, newEpoch, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(24, newVotedFor, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(28, checksum(), ByteOrder.LITTLE_ENDIAN);
        final Path temp = dir.resolve(FILE_NAME + ".tmp");
        try
        {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE))
            {
                bytes.clear();
                while (bytes.hasRemaining())
                {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ))
            {
                directory.force(true);
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot persist node state (epoch " + newEpoch + ") to " + file +
                ": " + ex, ex);
        }
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
        return file;
    }

    private int checksum()
    {
        crc.reset();
        final ByteBuffer view = bytes.duplicate();
        view.position(0).limit(28);
        crc.update(view);
        return (int)crc.getValue();
    }
}
