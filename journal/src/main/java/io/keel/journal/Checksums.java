package io.keel.journal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C over a region of a direct {@link ByteBuffer}, without allocating: one instance per thread.
 */
final class Checksums
{
    private final CRC32C crc = new CRC32C();

    int crc32c(final ByteBuffer buffer, final int offset, final int length)
    {
        final int oldLimit = buffer.limit();
        final int oldPosition = buffer.position();
        try
        {
            buffer.limit(offset + length).position(offset);
            crc.reset();
            crc.update(buffer);
            return (int)crc.getValue();
        }
        finally
        {
            buffer.limit(oldLimit).position(oldPosition);
        }
    }

    /**
     * CRC of a frame, covering bytes [8, frameLength) of the frame at offset.
     */
    int frameCrc(final ByteBuffer buffer, final int frameOffset, final int frameLength)
    {
        return crc32c(
            buffer,
            frameOffset + FrameDescriptor.CRC_COVERAGE_OFFSET,
            frameLength - FrameDescriptor.CRC_COVERAGE_OFFSET);
    }
}
