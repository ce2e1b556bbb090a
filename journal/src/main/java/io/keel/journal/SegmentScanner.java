package io.keel.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;

import static io.keel.journal.FrameDescriptor.*;

/**
 * Walks the frames of one segment file, checking each (bounds, CRC, position), and stops at the first bad one.
 * Used by recovery, truncation and {@code keel journal verify}.
 */
final class SegmentScanner
{
    /** Receives each valid frame of a scan. */
    interface Visitor
    {
        void onFrame(Segment segment, long fileOffset, JournalFrame frame);
    }

    /** Outcome of scanning one segment. */
    static final class Result
    {
        /**
         * File offset just after the last valid frame, alignment padding included: this is where the next frame
         * goes even when a crash cut the (CRC-less) padding of the last frame off the file.
         */
        long validEndOffset;
        /** File offset of the first bad frame, or -1 when every byte up to the file's end checked out. */
        long badOffset = -1;
        String badReason;
        long frameCount;

        boolean clean()
        {
            return badOffset < 0;
        }
    }

    private final int maxFrameLength;
    private final FileWindow window;
    private final Checksums checksums = new Checksums();
    private final JournalFrame frame = new JournalFrame();

    SegmentScanner(final int maxFrameLength, final int windowBytes)
    {
        this.maxFrameLength = maxFrameLength;
        this.window = new FileWindow(windowBytes);
    }

    Result scan(final FileChannel channel, final Segment segment, final long fileLength, final Visitor visitor)
        throws IOException
    {
        window.reset(channel);
        final Result result = new Result();
        long offset = SegmentHeader.LENGTH;
        while (offset < fileLength)
        {
            final String reason = check(segment, offset, fileLength);
            if (null != reason)
            {
                result.badOffset = offset;
                result.badReason = reason;
                break;
            }
            if (null != visitor)
            {
                visitor.onFrame(segment, offset, frame);
            }
            result.frameCount++;
            offset += frame.alignedLength();
        }
        result.validEndOffset = offset;
        return result;
    }

    /**
     * Is there any valid frame at an aligned offset after fromOffset? Decides torn tail (no) from corruption
     * before valid data (yes). A valid frame must carry the position its offset implies and a matching CRC, so a
     * chance match in garbage is practically impossible.
     *
     * @return file offset of the first valid frame found, or -1.
     */
    long findValidFrameAfter(final FileChannel channel, final Segment segment, final long fromOffset, final long fileLength)
        throws IOException
    {
        return findValidFrameFrom(channel, segment, fromOffset + FRAME_ALIGNMENT, fileLength);
    }

    /**
     * Like {@link #findValidFrameAfter} but including fromOffset itself; reads only the given channel.
     *
     * @return file offset of the first valid frame at or after fromOffset, or -1.
     */
    long findValidFrameFrom(final FileChannel channel, final Segment segment, final long fromOffset, final long fileLength)
        throws IOException
    {
        window.reset(channel);
        for (long offset = fromOffset; offset + HEADER_LENGTH <= fileLength; offset += FRAME_ALIGNMENT)
        {
            if (null == check(segment, offset, fileLength))
            {
                return offset;
            }
        }
        return -1;
    }

    /**
     * Check the frame at a file offset; on success {@link #frame} wraps it.
     *
     * @return null when valid, else what is wrong.
     */
    String check(final Segment segment, final long offset, final long fileLength) throws IOException
    {
        final long remaining = fileLength - offset;
        if (remaining < HEADER_LENGTH)
        {
            return "incomplete frame header (" + remaining + " bytes before end of file)";
        }
        int index = window.ensure(offset, HEADER_LENGTH, fileLength);
        if (index < 0)
        {
            return "cannot read frame header";
        }
        final int length = window.buffer.getInt(index + LENGTH_OFFSET, BYTE_ORDER);
        if (0 == length)
        {
            return "zero frame length";
        }
        if (!isPlausibleLength(length, maxFrameLength, remaining))
        {
            return "frame length " + length + " out of bounds [" + HEADER_LENGTH + ", " +
                Math.min(maxFrameLength, remaining) + "]";
        }
        final long expectedPosition = segment.positionAt(offset);
        if (window.buffer.getLong(index + POSITION_OFFSET, BYTE_ORDER) != expectedPosition)
        {
            return "frame position " + window.buffer.getLong(index + POSITION_OFFSET, BYTE_ORDER) +
                " where " + expectedPosition + " was expected";
        }
        index = window.ensure(offset, length, fileLength);
        if (index < 0)
        {
            return "cannot read frame of length " + length;
        }
        final int storedCrc = window.buffer.getInt(index + CRC_OFFSET, BYTE_ORDER);
        final int crc = checksums.frameCrc(window.bytes, index, length);
        if (storedCrc != crc)
        {
            return "frame checksum mismatch (stored " + Integer.toHexString(storedCrc) + ", computed " +
                Integer.toHexString(crc) + ")";
        }
        frame.wrap(window.buffer, index);
        return null;
    }
}
