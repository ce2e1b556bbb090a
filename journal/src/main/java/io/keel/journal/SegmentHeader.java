package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * The fixed header at the start of every segment file.
 *
 * <pre>
 *   0  magic "KEELJRNL" (8)
 *   8  format version (4)
 *  12  header length (4)
 *  16  segment size in bytes: the most this file may hold, header included (8)
 *  24  base position: log position of the first frame in this file (8)
 *  32  epoch when the segment was created (8)
 *  40  time of the segment's first frame, ms since the epoch; 0 when created empty (8)
 *  48  reserved (12)
 *  60  CRC32C of bytes [0, 60) (4)
 * </pre>
 */
final class SegmentHeader
{
    static final long MAGIC = 0x4C4E524A4C45454BL; // "KEELJRNL" little-endian
    static final int FORMAT_VERSION = 1;
    static final int LENGTH = 64;

    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 8;
    static final int HEADER_LENGTH_OFFSET = 12;
    static final int SEGMENT_SIZE_OFFSET = 16;
    static final int BASE_POSITION_OFFSET = 24;
    static final int EPOCH_OFFSET = 32;
    static final int CREATED_MS_OFFSET = 40;
    static final int CRC_OFFSET = 60;

    static final String FILE_PREFIX = "segment-";
    static final String FILE_SUFFIX = ".keel";

    private static final ByteOrder ORDER = FrameDescriptor.BYTE_ORDER;

    long segmentSizeBytes;
    long basePosition;
    long epoch;
    long createdMs;

    private SegmentHeader()
    {
    }

    static SegmentHeader of(final long segmentSizeBytes, final long basePosition, final long epoch, final long createdMs)
    {
        final SegmentHeader header = new SegmentHeader();
        header.segmentSizeBytes = segmentSizeBytes;
        header.basePosition = basePosition;
        header.epoch = epoch;
        header.createdMs = createdMs;
        return header;
    }

    static String fileName(final long basePosition)
    {
        return FILE_PREFIX + String.format("%020d", basePosition) + FILE_SUFFIX;
    }

    static boolean isSegmentFileName(final String name)
    {
        if (!name.startsWith(FILE_PREFIX) || !name.endsWith(FILE_SUFFIX))
        {
            return false;
        }
        final String digits = name.substring(FILE_PREFIX.length(), name.length() - FILE_SUFFIX.length());
        if (digits.length() != 20)
        {
            return false;
        }
        for (int i = 0; i < digits.length(); i++)
        {
            if (!Character.isDigit(digits.charAt(i)))
            {
                return false;
            }
        }
        return true;
    }

    static long basePositionFromFileName(final String name)
    {
        return Long.parseLong(name.substring(FILE_PREFIX.length(), name.length() - FILE_SUFFIX.length()));
    }

    ByteBuffer encode(final Checksums checksums)
    {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(LENGTH);
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        buffer.putLong(MAGIC_OFFSET, MAGIC, ORDER);
        buffer.putInt(VERSION_OFFSET, FORMAT_VERSION, ORDER);
        buffer.putInt(HEADER_LENGTH_OFFSET, LENGTH, ORDER);
        buffer.putLong(SEGMENT_SIZE_OFFSET, segmentSizeBytes, ORDER);
        buffer.putLong(BASE_POSITION_OFFSET, basePosition, ORDER);
        buffer.putLong(EPOCH_OFFSET, epoch, ORDER);
        buffer.putLong(CREATED_MS_OFFSET, createdMs, ORDER);
        buffer.putInt(CRC_OFFSET, checksums.crc32c(bytes, 0, CRC_OFFSET), ORDER);
        bytes.clear();
        return bytes;
    }

    /**
     * Does a header carry our magic, a format version newer than this build's and a matching header CRC (the
     * magic, version and CRC fields are the part of the layout every version keeps)? Such a file is from a newer
     * Keel, never a torn tail; a newer-looking version with a bad CRC is damage.
     */
    static boolean declaresNewerVersion(final ByteBuffer bytes, final Checksums checksums)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        return buffer.getLong(MAGIC_OFFSET, ORDER) == MAGIC && buffer.getInt(VERSION_OFFSET, ORDER) > FORMAT_VERSION &&
            buffer.getInt(CRC_OFFSET, ORDER) == checksums.crc32c(bytes, 0, CRC_OFFSET);
    }

    /**
     * Decode and validate a header read from a file.
     *
     * @param file  for messages.
     * @param bytes exactly {@link #LENGTH} bytes, position 0.
     * @return the header.
     * @throws JournalException naming the file and what is wrong.
     */
    static SegmentHeader decode(final Path file, final ByteBuffer bytes, final Checksums checksums)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        if (buffer.getLong(MAGIC_OFFSET, ORDER) != MAGIC)
        {
            throw new JournalException(file + " is not a Keel journal segment (bad magic at offset 0)");
        }
        final int version = buffer.getInt(VERSION_OFFSET, ORDER);
        if (version > FORMAT_VERSION)
        {
            throw new JournalException(file + " has journal format version " + version +
                ", newer than this build supports (" + FORMAT_VERSION + "): upgrade Keel to read it");
        }
        if (version < 1)
        {
            throw new JournalException(file + " has invalid journal format version " + version + " at offset " +
                VERSION_OFFSET);
        }
        final int storedCrc = buffer.getInt(CRC_OFFSET, ORDER);
        final int crc = checksums.crc32c(bytes, 0, CRC_OFFSET);
        if (storedCrc != crc)
        {
            throw new JournalCorruptedException(file, 0, "segment header checksum mismatch");
        }
        final int headerLength = buffer.getInt(HEADER_LENGTH_OFFSET, ORDER);
        if (headerLength != LENGTH)
        {
            throw new JournalException(file + " has header length " + headerLength + ", expected " + LENGTH);
        }
        final SegmentHeader header = new SegmentHeader();
        header.segmentSizeBytes = buffer.getLong(SEGMENT_SIZE_OFFSET, ORDER);
        header.basePosition = buffer.getLong(BASE_POSITION_OFFSET, ORDER);
        header.epoch = buffer.getLong(EPOCH_OFFSET, ORDER);
        header.createdMs = buffer.getLong(CREATED_MS_OFFSET, ORDER);
        return header;
    }
}
