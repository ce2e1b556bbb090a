package io.keel.replication;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * A small record made durable by overwriting one of two fixed slots in place and syncing only the data
 * ({@code fdatasync}): no file is created, renamed or resized after the first write, so a write costs one data sync
 * instead of the journal commits of temp file + fsync + rename + directory fsync (measured on this disk beside a
 * writer that syncs: 0.1 ms vs 0.5 ms median, 0.7 ms vs 47 ms p99). That matters because the node-state and witness
 * files are written on the failover path.
 * <p>
 * Each write goes to the slot its sequence number picks ({@code sequence & 1}), so the newest complete record is
 * never the one being overwritten: a write torn by a crash leaves the slot before it intact, and that state is the
 * right one, since the writer did not act on a write that had not returned. On open the valid slot with the highest
 * sequence wins.
 * <pre>
 * file: slot 0 at 0, slot 1 at {@value #SLOT_BYTES} ({@value #FILE_BYTES} bytes)
 * slot: 0 magic (8)  8 format version (4)  12 payload length (4)  16 sequence (8)  24 payload
 *       24 + length: CRC32C of [0, 24 + length) (4)
 * </pre>
 * Files of another length are left to the owner to read (an older format); the first {@link #write} then replaces
 * them whole (temp file, fsync, rename, directory fsync), as it does when there is no file yet.
 */
final class SlotFile
{
    private static final Logger LOG = LoggerFactory.getLogger(SlotFile.class);
    static final int SLOT_BYTES = 4096;
    static final int FILE_BYTES = 2 * SLOT_BYTES;
    static final int HEADER_LENGTH = 24;
    /** Largest payload. */
    static final int MAX_PAYLOAD = SLOT_BYTES - HEADER_LENGTH - 4;
    private static final int LENGTH_OFFSET = 12;
    private static final int SEQUENCE_OFFSET = 16;

    private final Path file;
    private final long magic;
    private final int version;
    private final String what;
    private final ByteBuffer slot = ByteBuffer.allocateDirect(SLOT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final UnsafeBuffer slotBuffer = new UnsafeBuffer(slot);
    private final UnsafeBuffer payload = new UnsafeBuffer(0, 0);
    private final CRC32C crc = new CRC32C();
    private long sequence;
    private boolean slotted;
    private byte[] other;

    private SlotFile(final Path file, final long magic, final int version, final String what)
    {
        this.file = file;
        this.magic = magic;
        this.version = version;
        this.what = what;
    }

    /**
     * Open a slot file: the newest valid record, none when there is no file, or the raw bytes of a file in another
     * format ({@link #otherFormat()}).
     *
     * @param file    the file.
     * @param magic   first 8 bytes of every slot.
     * @param version format version written in every slot.
     * @param what    what the file holds, for messages ("node state").
     * @return the open file.
     * @throws IllegalStateException naming the file and both slot offsets when neither slot holds a valid record.
     */
    static SlotFile open(final Path file, final long magic, final int version, final String what)
    {
        final SlotFile slots = new SlotFile(file, magic, version, what);
        try
        {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(slots.temp());
            final byte[] content = Files.readAllBytes(file);
            if (content.length != FILE_BYTES)
            {
                slots.other = content;
                return slots;
            }
            slots.slotted = true;
            long best = -1;
            int bestSlot = -1;
            for (int i = 0; i < 2; i++)
            {
                final long seq = slots.validSequence(content, i * SLOT_BYTES);
                if (seq > best)
                {
                    best = seq;
                    bestSlot = i;
                }
            }
            if (bestSlot < 0)
            {
                throw new IllegalStateException(what + " " + file + ": neither record (offsets 0 and " + SLOT_BYTES +
                    ") passes its magic, version, length and checksum checks: damaged; refusing to guess");
            }
            final int otherAt = (1 - bestSlot) * SLOT_BYTES;
            if (slots.validSequence(content, otherAt) < 0 && !zeros(content, otherAt))
            {
                // a write torn by a crash looks like this, and so does later damage: say so, the newest record may
                // be the one lost
                LOG.warn("{} {}: the record at offset {} fails its checks; using the one at offset {} (sequence {})",
                    what, file, otherAt, bestSlot * SLOT_BYTES, best);
            }
            slots.sequence = best;
            slots.slot.clear();
            slots.slot.put(content, bestSlot * SLOT_BYTES, SLOT_BYTES).clear();
            slots.payload.wrap(slots.slotBuffer, HEADER_LENGTH, slots.slotBuffer.getInt(LENGTH_OFFSET,
                ByteOrder.LITTLE_ENDIAN));
        }
        catch (final NoSuchFileException ex)
        {
            slots.sequence = 0;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot read " + what + " " + file + ": " + ex, ex);
        }
        return slots;
    }

    /** @return true when the file held a valid record in this format. */
    boolean hasRecord()
    {
        return slotted && sequence > 0;
    }

    /** @return the newest record's payload (valid when {@link #hasRecord()}). */
    DirectBuffer payload()
    {
        return payload;
    }

    /** @return the whole content of a file in another format, or null. */
    byte[] otherFormat()
    {
        return other;
    }

    /** @return records written over the file's life (the newest one's sequence). */
    long sequence()
    {
        return sequence;
    }

    /** @return the file. */
    Path file()
    {
        return file;
    }

    /**
     * Write a record durably: in place into the older slot and data-synced; the first time (no file, or another
     * format) the whole file is created beside and renamed over.
     *
     * @param source the payload.
     * @param offset where it starts.
     * @param length its length, at most {@link #MAX_PAYLOAD}.
     * @throws IllegalStateException naming the file when the write fails.
     */
    void write(final DirectBuffer source, final int offset, final int length)
    {
        if (length < 0 || length > MAX_PAYLOAD)
        {
            throw new IllegalArgumentException(what + " record of " + length + " bytes: at most " + MAX_PAYLOAD);
        }
        final long next = sequence + 1;
        slotBuffer.setMemory(0, SLOT_BYTES, (byte)0);
        slotBuffer.putLong(0, magic, ByteOrder.LITTLE_ENDIAN);
        slotBuffer.putInt(8, version, ByteOrder.LITTLE_ENDIAN);
        slotBuffer.putInt(LENGTH_OFFSET, length, ByteOrder.LITTLE_ENDIAN);
        slotBuffer.putLong(SEQUENCE_OFFSET, next, ByteOrder.LITTLE_ENDIAN);
        slotBuffer.putBytes(HEADER_LENGTH, source, offset, length);
        slotBuffer.putInt(HEADER_LENGTH + length, checksum(slot, HEADER_LENGTH + length), ByteOrder.LITTLE_ENDIAN);
        try
        {
            if (slotted)
            {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
                {
                    writeFully(channel, slot, (next & 1) * SLOT_BYTES);
                    channel.force(false);
                }
            }
            else
            {
                final Path temp = temp();
                try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE))
                {
                    writeFully(channel, slot, (next & 1) * SLOT_BYTES);
                    // the other slot: zeros (not valid), written so that no later write allocates a block
                    writeFully(channel, ByteBuffer.allocate(SLOT_BYTES), ((next + 1) & 1) * SLOT_BYTES);
                    channel.force(true);
                }
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
                try (FileChannel directory = FileChannel.open(file.toAbsolutePath().getParent(),
                    StandardOpenOption.READ))
                {
                    directory.force(true);
                }
                slotted = true;
                other = null;
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot persist " + what + " to " + file + ": " + ex, ex);
        }
        sequence = next;
        payload.wrap(slotBuffer, HEADER_LENGTH, length);
    }

    private static void writeFully(final FileChannel channel, final ByteBuffer bytes, final long position)
        throws IOException
    {
        bytes.clear();
        long at = position;
        while (bytes.hasRemaining())
        {
            at += channel.write(bytes, at);
        }
    }

    private long validSequence(final byte[] content, final int at)
    {
        final ByteBuffer view = ByteBuffer.wrap(content, at, SLOT_BYTES).slice().order(ByteOrder.LITTLE_ENDIAN);
        final int length = view.getInt(LENGTH_OFFSET);
        if (view.getLong(0) != magic || view.getInt(8) != version || length < 0 || length > MAX_PAYLOAD)
        {
            return -1;
        }
        if (view.getInt(HEADER_LENGTH + length) != checksum(view, HEADER_LENGTH + length))
        {
            return -1;
        }
        final long seq = view.getLong(SEQUENCE_OFFSET);
        return seq > 0 ? seq : -1;
    }

    private static boolean zeros(final byte[] content, final int at)
    {
        for (int i = at; i < at + SLOT_BYTES; i++)
        {
            if (0 != content[i])
            {
                return false;
            }
        }
        return true;
    }

    private int checksum(final ByteBuffer bytes, final int length)
    {
        crc.reset();
        final ByteBuffer view = bytes.duplicate();
        view.clear().limit(length);
        crc.update(view);
        return (int)crc.getValue();
    }

    private Path temp()
    {
        return file.resolveSibling(file.getFileName() + ".tmp");
    }
}
