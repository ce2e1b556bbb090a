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
    private long windowStart;
    private int windowLength;

    FileWindow(final int capacity)
    {
        bytes = ByteBuffer.allocateDirect(capacity).order(FrameDescriptor.BYTE_ORDER);
        buffer = new UnsafeBuffer(bytes);
    }

    void reset(final FileChannel channel)
    {
        this.channel = channel;
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
