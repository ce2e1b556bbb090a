package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A window of a file held in a direct buffer: sequential chunked reads without allocation. A frame is always
 * whole in the window once {@link #ensure(long, int, long)} said so.
 */
final class FileWindow
{
    final ByteBuffer bytes;
    final UnsafeBuffer buffer;
    private FileChannel channel;
    private TailCache cache;
    private long positionOfOffsetZero;
    private long windowStart;
    private int windowLength;

    FileWindow(final int capacity)
    {
        bytes = ByteBuffer.allocateDirect(capacity).order(FrameDescriptor.BYTE_ORDER);
        buffer = new UnsafeBuffer(bytes);
    }

    void reset(final FileChannel channel)
    {
        reset(channel, null, 0);
    }

    /**
     * @param channel              the file.
     * @param cache                recently written bytes to copy from instead of reading the file, or null.
     * @param positionOfOffsetZero journal position of file offset 0 (for the cache).
     */
    void reset(final FileChannel channel, final TailCache cache, final long positionOfOffsetZero)
    {
        this.channel = channel;
        this.cache = cache;
        this.positionOfOffsetZero = positionOfOffsetZero;
        windowStart = 0;
        windowLength = 0;
    }

    /**
     * Make [fileOffset, fileOffset + length) available in {@link #buffer}, reading no further than fileLimit.
     *
     * @return index of fileOffset in the buffer, or -1 when the file (up to fileLimit) does not hold that many bytes.
     */
    int ensure(final long fileOffset, final int length, final long fileLimit) throws IOException
    {
        if (fileOffset >= windowStart && fileOffset + length <= windowStart + windowLength)
        {
            return (int)(fileOffset - windowStart);
        }
        if (fileOffset + length > fileLimit || length > bytes.capacity())
        {
            return -1;
        }
        final int toRead = (int)Math.min(bytes.capacity(), fileLimit - fileOffset);
        if (null != cache && cache.read(positionOfOffsetZero + fileOffset, buffer, 0, toRead))
        {
            windowStart = fileOffset;
            windowLength = toRead;
            return windowLength >= length ? 0 : -1;
        }
        bytes.clear().limit(toRead);
        while (bytes.hasRemaining())
        {
            final int read = channel.read(bytes, fileOffset + bytes.position());
            if (read < 0)
            {
                break;
            }
        }
        windowStart = fileOffset;
        windowLength = bytes.position();
        bytes.clear();
        return windowLength >= length ? 0 : -1;
    }
}
