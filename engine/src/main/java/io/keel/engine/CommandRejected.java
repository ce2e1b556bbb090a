package io.keel.engine;

import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The engine's own journal record of a command it rejected or whose handler failed: an outcome, not a domain
 * event. It changes no aggregate; it is what lets the idempotency window remember a rejection across a crash, a
 * restart and a failover, so a retry gets the original answer instead of a new decision.
 * <p>
 * One frame per such command: stream {@link io.keel.journal.FrameDescriptor#NO_STREAM} (not indexed), version 0,
 * type {@link #TYPE_ID}, the command's client and command ids, end of group. Type {@link #TYPE_ID} is reserved in
 * every {@link EventCodecs}: no domain can register it, and no handler can emit it.
 * <p>
 * Payload, little-endian, {@value #FIXED_LENGTH} bytes plus the detail:
 * <pre>
 *   int  code             rejection code ({@link Rejection#code()}), or {@link #FAILED} when the handler threw
 *   long expectedVersion  of a version conflict, else 0
 *   long actualVersion    of a version conflict, else 0
 *   int  detail length    0 for a rejection; at most {@value #MAX_DETAIL_BYTES}
 *   ...  detail           UTF-8: the error of a failed command, cut to {@value #MAX_DETAIL_BYTES} bytes
 * </pre>
 * A rejection's frame is {@value #FIXED_LENGTH} payload bytes after the 72-byte header: 96 bytes of journal.
 * <p>
 * For tools, an instance decodes the payload; {@code reason} is derived (the rejection's name, or {@code FAILED}).
 */
public final class CommandRejected extends Event
{
    /** Reserved event type id of these frames: the top of the event type id range. */
    public static final int TYPE_ID = EventCodecs.MAX_TYPE_ID;

    /** The {@code code} of a command whose handler threw (its outcome is FAILED, with the detail as error). */
    public static final int FAILED = 0;

    /** Largest detail, in UTF-8 bytes. */
    public static final int MAX_DETAIL_BYTES = 256;

    /** Payload bytes before the detail. */
    public static final int FIXED_LENGTH = 24;

    static final int CODE_OFFSET = 0;
    static final int EXPECTED_OFFSET = 4;
    static final int ACTUAL_OFFSET = 12;
    static final int DETAIL_LENGTH_OFFSET = 20;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    /** Rejection code, or {@link #FAILED}. */
    public int code;
    /** Name of the rejection, or {@code FAILED} (derived, not stored). */
    public String reason;
    /** Expected version of a version conflict. */
    public long expectedVersion;
    /** Actual version of a version conflict. */
    public long actualVersion;
    /** Error of a failed command (empty for a rejection). */
    public String detail;

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        final byte[] bytes = detailBytes(detail);
        out.writeInt(code);
        out.writeLong(expectedVersion);
        out.writeLong(actualVersion);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        code = in.readInt();
        expectedVersion = in.readLong();
        actualVersion = in.readLong();
        final int length = in.readInt();
        if (length < 0 || length > MAX_DETAIL_BYTES || length > in.readRemaining())
        {
            throw new IllegalArgumentException("CommandRejected detail length " + length);
        }
        final byte[] bytes = new byte[length];
        in.read(bytes);
        detail = new String(bytes, StandardCharsets.UTF_8);
        reason = FAILED == code ? "FAILED" : Rejection.of(code).name();
    }

    /**
     * @param detail any text, or null.
     * @return its UTF-8 bytes, cut at a character boundary to at most {@link #MAX_DETAIL_BYTES}.
     */
    static byte[] detailBytes(final String detail)
    {
        if (null == detail || detail.isEmpty())
        {
            return new byte[0];
        }
        byte[] bytes = detail.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_DETAIL_BYTES)
        {
            return bytes;
        }
        int length = MAX_DETAIL_BYTES;
        while (length > 0 && (bytes[length] & 0xC0) == 0x80)
        {
            length--; // bytes[length] continues a character: cut before the character starts
        }
        bytes = java.util.Arrays.copyOf(bytes, length);
        return bytes;
    }

    /** Encode a payload: no allocation. @return payload length. */
    static int encode(final MutableDirectBuffer buffer, final int offset, final int code, final long expected,
        final long actual, final byte[] detail)
    {
        final int detailLength = null == detail ? 0 : detail.length;
        buffer.putInt(offset + CODE_OFFSET, code, ORDER);
        buffer.putLong(offset + EXPECTED_OFFSET, expected, ORDER);
        buffer.putLong(offset + ACTUAL_OFFSET, actual, ORDER);
        buffer.putInt(offset + DETAIL_LENGTH_OFFSET, detailLength, ORDER);
        if (detailLength > 0)
        {
            buffer.putBytes(offset + FIXED_LENGTH, detail);
        }
        return FIXED_LENGTH + detailLength;
    }

    static int code(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + CODE_OFFSET, ORDER);
    }

    static long expectedVersion(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + EXPECTED_OFFSET, ORDER);
    }

    static long actualVersion(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + ACTUAL_OFFSET, ORDER);
    }

    /**
     * @return the detail length of a payload, checked against the payload's length.
     * @throws IllegalStateException when the payload is not a well-formed CommandRejected.
     */
    static int detailLength(final DirectBuffer buffer, final int offset, final int payloadLength)
    {
        if (payloadLength < FIXED_LENGTH)
        {
            throw new IllegalStateException("CommandRejected payload of " + payloadLength + " bytes, expected at least " +
                FIXED_LENGTH);
        }
        final int length = buffer.getInt(offset + DETAIL_LENGTH_OFFSET, ORDER);
        if (length < 0 || length > MAX_DETAIL_BYTES || FIXED_LENGTH + length != payloadLength)
        {
            throw new IllegalStateException("CommandRejected detail length " + length + " does not fit its payload of " +
                payloadLength + " bytes");
        }
        return length;
    }
}
