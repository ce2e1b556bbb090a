package io.keel.journal;

import org.agrona.DirectBuffer;

import static io.keel.journal.FrameDescriptor.*;

/**
 * Flyweight over one journal frame in a buffer. Readers hand the same instance to every callback: copy what
 * you need to keep.
 */
public final class JournalFrame
{
    private DirectBuffer buffer;
    private int offset;

    /**
     * Point this flyweight at a frame.
     *
     * @param buffer holding the frame.
     * @param offset of the frame's first byte.
     * @return this.
     */
    public JournalFrame wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** @return buffer holding the frame. */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** @return offset of the frame in {@link #buffer()}. */
    public int offset()
    {
        return offset;
    }

    /** @return header + payload length, unaligned. */
    public int frameLength()
    {
        return buffer.getInt(offset + LENGTH_OFFSET, BYTE_ORDER);
    }

    /** @return bytes the frame occupies in the log (aligned). */
    public int alignedLength()
    {
        return alignedFrameLength(payloadLength());
    }

    /** @return stored CRC32C. */
    public int crc()
    {
        return buffer.getInt(offset + CRC_OFFSET, BYTE_ORDER);
    }

    /** @return log position of the frame's first byte. */
    public long position()
    {
        return buffer.getLong(offset + POSITION_OFFSET, BYTE_ORDER);
    }

    /** @return log position just after this frame: where the next frame starts. */
    public long nextPosition()
    {
        return position() + alignedLength();
    }

    /** @return epoch of the primary that wrote the frame. */
    public long epoch()
    {
        return buffer.getLong(offset + EPOCH_OFFSET, BYTE_ORDER);
    }

    /** @return time the event was decided, ns since the epoch (engine clock). */
    public long timestampNs()
    {
        return buffer.getLong(offset + TIMESTAMP_OFFSET, BYTE_ORDER);
    }

    /** @return id of the client whose command produced the event. */
    public long clientId()
    {
        return buffer.getLong(offset + CLIENT_ID_OFFSET, BYTE_ORDER);
    }

    /** @return the client's id for the command that produced the event. */
    public long commandId()
    {
        return buffer.getLong(offset + COMMAND_ID_OFFSET, BYTE_ORDER);
    }

    /** @return stream (aggregate) id, or {@link FrameDescriptor#NO_STREAM}. */
    public long streamId()
    {
        return buffer.getLong(offset + STREAM_ID_OFFSET, BYTE_ORDER);
    }

    /** @return version of the stream after this event (1 for the first event of a stream). */
    public long streamVersion()
    {
        return buffer.getLong(offset + STREAM_VERSION_OFFSET, BYTE_ORDER);
    }

    /** @return application-defined event type. */
    public int type()
    {
        return buffer.getInt(offset + TYPE_OFFSET, BYTE_ORDER);
    }

    /** @return frame flags, see {@link FrameDescriptor#FLAG_END_OF_GROUP}. */
    public short flags()
    {
        return buffer.getShort(offset + FLAGS_OFFSET, BYTE_ORDER);
    }

    /** @return true when this is the last frame of an atomic group. */
    public boolean isEndOfGroup()
    {
        return (flags() & FLAG_END_OF_GROUP) != 0;
    }

    /** @return offset of the payload in {@link #buffer()}. */
    public int payloadOffset()
    {
        return offset + HEADER_LENGTH;
    }

    /** @return payload length in bytes. */
    public int payloadLength()
    {
        return frameLength() - HEADER_LENGTH;
    }
}
