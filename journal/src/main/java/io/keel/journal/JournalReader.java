package io.keel.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

import static io.keel.journal.FrameDescriptor.*;

/**
 * Reads frames from a position onwards, checking each frame's CRC. Safe to use from another thread than the
 * appender's, including tailing the live end: it only reads up to the journal's committed position, so it never
 * sees a half-written frame or a partial group. One reader per thread. Allocates nothing per frame.
 */
public final class JournalReader implements AutoCloseable
{
    private final Journal journal;
    private final FileWindow window;
    private final int maxFrameLength;
    private final Checksums checksums = new Checksums();
    private final JournalFrame frame = new JournalFrame();
    private Segment[] knownSegments;
    private Segment segment;
    private long segmentEnd;
    private FileChannel channel;
    private long position;

    JournalReader(final Journal journal, final long fromPosition, final int windowBytes, final int maxFrameLength)
    {
        this.journal = journal;
        this.window = new FileWindow(windowBytes);
        this.maxFrameLength = maxFrameLength;
        this.position = fromPosition;
    }

    /**
     * Position of the next frame this reader will deliver.
     *
     * @return next position.
     */
    public long position()
    {
        return position;
    }

    /**
     * Deliver committed frames from the current position. During the handler, {@link #position()} is the next
     * frame's position; if the handler throws, the reader stays on the frame and the next poll delivers it again.
     *
     * @param handler    receives each frame.
     * @param frameLimit most frames to deliver in this call.
     * @return number of frames delivered, 0 when caught up.
     * @throws JournalCorruptedException when a frame fails its checks (naming file and offset).
     */
    public int poll(final FrameHandler handler, final int frameLimit)
    {
        final long limit = journal.committedPosition();
        int count = 0;
        try
        {
            while (count < frameLimit && position < limit)
            {
                if (null == segment || position >= segmentEnd || journal.segments() != knownSegments)
                {
                    selectSegment();
                }
                final long fileOffset = segment.fileOffset(position);
                final long fileLimit = segment.fileOffset(Math.min(limit, segmentEnd));
                int index = window.ensure(fileOffset, HEADER_LENGTH, fileLimit);
                if (index < 0)
                {
                    throw new JournalCorruptedException(segment.file, fileOffset,
                        "committed frame header missing (file shorter than committed position " + limit + ")");
                }
                final int length = window.buffer.getInt(index + LENGTH_OFFSET, BYTE_ORDER);
                if (!isPlausibleLength(length, maxFrameLength, fileLimit - fileOffset))
                {
                    throw new JournalCorruptedException(segment.file, fileOffset, "frame length " + length +
                        " out of bounds (is " + position + " a frame boundary?)");
                }
                index = window.ensure(fileOffset, length, fileLimit);
                if (index < 0)
                {
                    throw new JournalCorruptedException(segment.file, fileOffset, "committed frame incomplete");
                }
                if (window.buffer.getLong(index + POSITION_OFFSET, BYTE_ORDER) != position ||
                    window.buffer.getInt(index + CRC_OFFSET, BYTE_ORDER) !=
                        checksums.frameCrc(window.bytes, index, length))
                {
                    throw new JournalCorruptedException(segment.file, fileOffset,
                        "frame fails its position or checksum check (is " + position + " a frame boundary?)");
                }
                frame.wrap(window.buffer, index);
                final long framePosition = position;
                position += alignedFrameLength(length - HEADER_LENGTH); // position() in the handler: the next frame
                try
                {
                    handler.onFrame(frame);
                }
                catch (final RuntimeException | Error ex)
                {
                    position = framePosition; // a handler that throws sees the same frame again
                    throw ex;
                }
                count++;
            }
        }
        catch (final IOException ex)
        {
            throw new JournalException("cannot read " + segment + " at position " + position + ": " + ex, ex);
        }
        return count;
    }

    private void selectSegment() throws IOException
    {
        final Segment[] segments = journal.segments();
        knownSegments = segments;
        final int index = Segment.indexOf(segments, position);
        if (index < 0)
        {
            throw new JournalException("position " + position + " is before the start of journal " + journal.dir());
        }
        final Segment selected = segments[index];
        segmentEnd = index + 1 < segments.length ? segments[index + 1].basePosition : Long.MAX_VALUE;
        if (selected != segment)
        {
            Journal.closeQuietly(channel);
            segment = selected;
            channel = FileChannel.open(segment.file, StandardOpenOption.READ);
        }
        // the segment list changes on a roll, a truncation or a rollback: bytes buffered from before a truncation
        // may have been replaced since, so never serve them again
        window.reset(channel, journal.tailCache(), segment.positionAt(0));
    }

    /** Close the open segment file. */
    @Override
    public void close()
    {
        Journal.closeQuietly(channel);
        channel = null;
        segment = null;
    }
}
