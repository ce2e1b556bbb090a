package io.keel.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Positional reads and writes that loop until done.
 */
final class FileChannelUtil
{
    private FileChannelUtil()
    {
    }

    static void writeFully(final FileChannel channel, final ByteBuffer bytes, final long fileOffset) throws IOException
    {
        long offset = fileOffset;
        while (bytes.hasRemaining())
        {
            offset += channel.write(bytes, offset);
        }
    }

    static void readFully(final FileChannel channel, final ByteBuffer bytes, final long fileOffset) throws IOException
    {
        long offset = fileOffset;
        while (bytes.hasRemaining())
        {
            final int read = channel.read(bytes, offset);
            if (read < 0)
            {
                throw new IOException("unexpected end of file at offset " + offset);
            }
            offset += read;
        }
    }
}
