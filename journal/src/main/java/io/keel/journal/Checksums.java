package io.keel.journal;

import org.agrona.BufferUtil;
import org.agrona.checksum.Crc32c;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C over a region of a direct {@link ByteBuffer}, without allocating; one instance per thread.
 * <p>
 * Fast path: Agrona's {@link Crc32c} calls the JDK's CRC32C intrinsic on the memory address (needs
 * {@code --add-opens java.base/java.util.zip=ALL-UNNAMED}, which Keel's launcher and tests pass). Without that
 * flag it falls back to {@link CRC32C#update(ByteBuffer)}: same result, slower for small frames.
 */
final class Checksums
{
    private static final boolean ADDRESS_INTRINSIC = addressIntrinsicAvailable();

    private final CRC32C crc = new CRC32C();

    int crc32c(final ByteBuffer buffer, final int offset, final int length)
    {
        if (ADDRESS_INTRINSIC && buffer.isDirect())
        {
            return Crc32c.INSTANCE.compute(BufferUtil.address(buffer), offset, length);
        }
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

    /**
     * CRC of a frame held in any {@link org.agrona.DirectBuffer} (off-heap, heap array or byte buffer).
     */
    int frameCrc(final org.agrona.DirectBuffer buffer, final int frameOffset, final int frameLength)
    {
        final int offset = frameOffset + FrameDescriptor.CRC_COVERAGE_OFFSET;
        final int length = frameLength - FrameDescriptor.CRC_COVERAGE_OFFSET;
        final byte[] array = buffer.byteArray();
        if (null != array)
        {
            crc.reset();
            crc.update(array, (int)(buffer.wrapAdjustment() + offset), length);
            return (int)crc.getValue();
        }
        if (ADDRESS_INTRINSIC)
        {
            return Crc32c.INSTANCE.compute(buffer.addressOffset(), offset, length);
        }
        final ByteBuffer byteBuffer = buffer.byteBuffer();
        return crc32c(byteBuffer, (int)(buffer.wrapAdjustment() + offset), length);
    }

    static boolean usesAddressIntrinsic()
    {
        return ADDRESS_INTRINSIC;
    }

    private static boolean addressIntrinsicAvailable()
    {
        try
        {
            final ByteBuffer probe = ByteBuffer.allocateDirect(16);
            final CRC32C reference = new CRC32C();
            reference.update(probe.duplicate());
            return Crc32c.INSTANCE.compute(BufferUtil.address(probe), 0, 16) == (int)reference.getValue();
        }
        catch (final Throwable ex)
        {
            return false;
        }
    }
}
