package io.keel.journal;

import org.agrona.BitUtil;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * Layout of a journal frame. All fields are little-endian; frames start on {@link #FRAME_ALIGNMENT} boundaries.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 frame length (header + payload)               |  0
 *  +---------------------------------------------------------------+
 *  |            CRC32C over bytes [8, frame length)                |  4
 *  +---------------------------------------------------------------+
 *  |                      log position (8)                         |  8
 *  |                      epoch (8)                                | 16
 *  |                      timestamp ns (8)                         | 24
 *  |                      client id (8)                            | 32
 *  |                      command id (8)                           | 40
 *  |                      stream id (8)                            | 48
 *  |                      stream version (8)                       | 56
 *  +---------------------------------------------------------------+
 *  |                      event type (4)                           | 64
 *  +-------------------------------+-------------------------------+
 *  |          flags (2)            |         reserved (2)          | 68
 *  +-------------------------------+-------------------------------+
 *  |                      payload ...                              | 72
 * </pre>
 *
 * The CRC covers every byte after itself, so a flipped bit in any field or in the payload is detected; a
 * damaged length changes the covered range and so fails the check too.
 */
public final class FrameDescriptor
{
    /** Frames start at multiples of this many bytes (positions are multiples of it). */
    public static final int FRAME_ALIGNMENT = 8;

    /** Byte order of every field. */
    public static final ByteOrder BYTE_ORDER = ByteOrder.LITTLE_ENDIAN;

    public static final int LENGTH_OFFSET = 0;
    public static final int CRC_OFFSET = 4;
    public static final int POSITION_OFFSET = 8;
    public static final int EPOCH_OFFSET = 16;
    public static final int TIMESTAMP_OFFSET = 24;
    public static final int CLIENT_ID_OFFSET = 32;
    public static final int COMMAND_ID_OFFSET = 40;
    public static final int STREAM_ID_OFFSET = 48;
    public static final int STREAM_VERSION_OFFSET = 56;
    public static final int TYPE_OFFSET = 64;
    public static final int FLAGS_OFFSET = 68;
    public static final int RESERVED_OFFSET = 70;

    /** Length of the frame header; the payload follows it. */
    public static final int HEADER_LENGTH = 72;

    /** First byte covered by the CRC. */
    public static final int CRC_COVERAGE_OFFSET = POSITION_OFFSET;

    /**
     * Set on the last frame of an atomic group (all the events of one command). Recovery and readers only
     * ever expose whole groups.
     */
    public static final short FLAG_END_OF_GROUP = 0x1;

    /** Stream id used by frames that belong to no stream (not indexed, no version check). */
    public static final long NO_STREAM = 0;

    private FrameDescriptor()
    {
    }

    /**
     * Aligned length a frame with the given payload occupies in the log.
     *
     * @param payloadLength payload length in bytes.
     * @return aligned frame length.
     */
    public static int alignedFrameLength(final int payloadLength)
    {
        return BitUtil.align(HEADER_LENGTH + payloadLength, FRAME_ALIGNMENT);
    }

    /**
     * Frame length field of the frame at the given offset.
     *
     * @param buffer containing the frame.
     * @param offset of the frame.
     * @return frame length (header + payload, unaligned).
     */
    public static int frameLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + LENGTH_OFFSET, BYTE_ORDER);
    }

    /**
     * Is a frame of this length plausible given the space left and the configured maximum?
     *
     * @param frameLength    read from the length field.
     * @param maxFrameLength largest frame allowed.
     * @param remaining      bytes left in the segment from the frame's offset.
     * @return true when the length is within bounds.
     */
    public static boolean isPlausibleLength(final int frameLength, final int maxFrameLength, final long remaining)
    {
        return frameLength >= HEADER_LENGTH && frameLength <= maxFrameLength && frameLength <= remaining;
    }
}
