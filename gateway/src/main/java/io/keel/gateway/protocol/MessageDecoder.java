package io.keel.gateway.protocol;

import org.agrona.DirectBuffer;

import static io.keel.gateway.protocol.Protocol.*;

/**
 * A reusable read-only view over one received message. {@link #wrap} checks the header and the exact layout of
 * the message type (fixed lengths, variable parts within their limits) before any field is read, so a getter
 * never reads outside the message. Allocation-free except {@link #detail()}, {@link #channel()} and
 * {@link #endpoint()}, which make strings for the rarely used paths.
 */
public final class MessageDecoder
{
    private DirectBuffer buffer;
    private int offset;
    private int length;
    private int type;

    /**
     * Wrap a message and validate it.
     *
     * @param buffer           holding the message.
     * @param offset           of the message.
     * @param length           of the message as delivered (the Aeron message length).
     * @param maxMessageLength the configured maximum.
     * @return {@link ErrorCode#OK} when every field may be read, otherwise why not. The header fields
     * ({@link #type()}, {@link #sessionId()}) may be read when the length is at least {@link Protocol#HEADER_LENGTH}.
     */
    public ErrorCode wrap(final DirectBuffer buffer, final int offset, final int length, final int maxMessageLength)
    {
        this.buffer = buffer;
        this.offset = offset;
        this.length = length;
        this.type = 0;
        if (length > maxMessageLength)
        {
            if (length >= HEADER_LENGTH)
            {
                type = buffer.getShort(offset + TYPE_OFFSET) & 0xFFFF;
            }
            return ErrorCode.TOO_LARGE;
        }
        if (length < HEADER_LENGTH)
        {
            return ErrorCode.MALFORMED;
        }
        type = buffer.getShort(offset + TYPE_OFFSET) & 0xFFFF;
        if ((buffer.getShort(offset + VERSION_OFFSET) & 0xFFFF) != VERSION)
        {
            return ErrorCode.BAD_VERSION;
        }
        if (buffer.getInt(offset + FRAME_LENGTH_OFFSET) != length)
        {
            return ErrorCode.MALFORMED;
        }
        switch (type)
        {
            case CONNECT:
                return variable(CONNECT_CHANNEL_LENGTH_OFFSET, CONNECT_CHANNEL_OFFSET, MAX_CHANNEL_LENGTH);
            case CHALLENGE:
                return fixed(CHALLENGE_LENGTH);
            case CHALLENGE_REPLY:
                return fixed(CHALLENGE_REPLY_LENGTH);
            case CONNECTED:
                return fixed(CONNECTED_LENGTH);
            case REJECTED_CONNECT:
            case ERROR:
                return variable(ERROR_DETAIL_LENGTH_OFFSET, ERROR_DETAIL_OFFSET, MAX_DETAIL_LENGTH);
            case COMMAND:
                return variable(COMMAND_PAYLOAD_LENGTH_OFFSET, COMMAND_PAYLOAD_OFFSET, MAX_MESSAGE_LENGTH_LIMIT);
            case RESPONSE:
                return variable(RESPONSE_DETAIL_LENGTH_OFFSET, RESPONSE_DETAIL_OFFSET, MAX_DETAIL_LENGTH);
            case REDIRECT:
                return variable(REDIRECT_ENDPOINT_LENGTH_OFFSET, REDIRECT_ENDPOINT_OFFSET, MAX_ENDPOINT_LENGTH);
            case KEEPALIVE:
                return fixed(KEEPALIVE_LENGTH);
            case CLOSE:
                return fixed(CLOSE_LENGTH);
            case QUERY:
                return fixed(QUERY_LENGTH);
            case QUERY_RESULT:
                return variable(QUERY_RESULT_STATE_LENGTH_OFFSET, QUERY_RESULT_STATE_OFFSET, MAX_MESSAGE_LENGTH_LIMIT);
            case HEALTH:
            case WATCH:
                return variable(CONNECT_CHANNEL_LENGTH_OFFSET, CONNECT_CHANNEL_OFFSET, MAX_CHANNEL_LENGTH);
            case HEALTH_RESULT:
                return fixed(HEALTH_RESULT_LENGTH);
            default:
                return ErrorCode.UNKNOWN_TYPE;
        }
    }

    private ErrorCode fixed(final int expectedLength)
    {
        return length == expectedLength ? ErrorCode.OK : ErrorCode.MALFORMED;
    }

    private ErrorCode variable(final int lengthFieldOffset, final int dataOffset, final int maxDataLength)
    {
        if (length < dataOffset)
        {
            return ErrorCode.MALFORMED;
        }
        final int dataLength = buffer.getInt(offset + lengthFieldOffset);
        if (dataLength < 0 || dataLength > maxDataLength || dataOffset + dataLength != length)
        {
            return ErrorCode.MALFORMED;
        }
        return ErrorCode.OK;
    }

    /** @return HEALTH_RESULT field at the offset (int). */
    public int healthInt(final int fieldOffset)
    {
        return buffer.getInt(offset + fieldOffset);
    }

    /** @return HEALTH_RESULT field at the offset (long). */
    public long healthLong(final int fieldOffset)
    {
        return buffer.getLong(offset + fieldOffset);
    }

    /** @return the buffer wrapped. */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** @return offset of the message in {@link #buffer()}. */
    public int offset()
    {
        return offset;
    }

    /** @return message length. */
    public int length()
    {
        return length;
    }

    /** @return message type (0 when the message was shorter than a header). */
    public int type()
    {
        return type;
    }

    /** @return session id from the header (valid when the message holds a header). */
    public long sessionId()
    {
        return buffer.getLong(offset + SESSION_ID_OFFSET);
    }

    /** @return correlation id of connect-phase messages, ERROR, REDIRECT and QUERY*. */
    public long correlationId()
    {
        return buffer.getLong(offset + CORRELATION_ID_OFFSET);
    }

    // ------------------------------------------------------------------------------------------- CONNECT

    /** @return CONNECT: client id. */
    public long clientId()
    {
        return buffer.getLong(offset + CONNECT_CLIENT_ID_OFFSET);
    }

    /** @return CONNECT: stream id of the response channel. */
    public int responseStreamId()
    {
        return buffer.getInt(offset + CONNECT_RESPONSE_STREAM_ID_OFFSET);
    }

    /** @return CONNECT: the response channel (allocates: connect path only). */
    public String channel()
    {
        return buffer.getStringWithoutLengthAscii(offset + CONNECT_CHANNEL_OFFSET,
            buffer.getInt(offset + CONNECT_CHANNEL_LENGTH_OFFSET));
    }

    // ------------------------------------------------------------------------------- CHALLENGE / REPLY

    /** @return CHALLENGE: offset of the nonce in {@link #buffer()}. */
    public int nonceOffset()
    {
        return offset + CHALLENGE_NONCE_OFFSET;
    }

    /** @return CHALLENGE_REPLY: offset of the MAC in {@link #buffer()}. */
    public int macOffset()
    {
        return offset + CHALLENGE_REPLY_MAC_OFFSET;
    }

    // ------------------------------------------------------------------------------------------ CONNECTED

    /** @return CONNECTED: most commands in flight the node allows this session. */
    public int maxInFlight()
    {
        return buffer.getInt(offset + CONNECTED_MAX_IN_FLIGHT_OFFSET);
    }

    /** @return CONNECTED: largest message the node accepts. */
    public int maxMessageLength()
    {
        return buffer.getInt(offset + CONNECTED_MAX_MESSAGE_LENGTH_OFFSET);
    }

    /** @return CONNECTED: the node closes the session after this long without a message. */
    public long sessionTimeoutNs()
    {
        return buffer.getLong(offset + CONNECTED_SESSION_TIMEOUT_OFFSET);
    }

    /** @return CONNECTED: the answering primary's epoch, 0 when unknown. */
    public long connectedEpoch()
    {
        return buffer.getInt(offset + CONNECTED_EPOCH_OFFSET) & 0xFFFF_FFFFL;
    }

    /** @return CONNECTED: member id of the node; REDIRECT: member to try. */
    public int memberId()
    {
        return buffer.getInt(offset + (type == REDIRECT ? REDIRECT_MEMBER_ID_OFFSET : CONNECTED_MEMBER_ID_OFFSET));
    }

    // ---------------------------------------------------------------------------------- ERROR / REJECTED

    /** @return ERROR, REJECTED_CONNECT: the error code (may be unknown to this version: see {@link ErrorCode#of}). */
    public int errorCode()
    {
        return buffer.getInt(offset + (type == CLOSE ? CLOSE_CODE_OFFSET : ERROR_CODE_OFFSET));
    }

    /** @return ERROR, REJECTED_CONNECT, RESPONSE: the detail text (allocates). */
    public String detail()
    {
        if (type == RESPONSE)
        {
            return buffer.getStringWithoutLengthAscii(offset + RESPONSE_DETAIL_OFFSET, responseDetailLength());
        }
        return buffer.getStringWithoutLengthAscii(offset + ERROR_DETAIL_OFFSET,
            buffer.getInt(offset + ERROR_DETAIL_LENGTH_OFFSET));
    }

    // -------------------------------------------------------------------------------------------- COMMAND

    /** @return COMMAND, RESPONSE: the client's command id. */
    public long commandId()
    {
        return buffer.getLong(offset + COMMAND_ID_OFFSET);
    }

    /** @return COMMAND: stream whose version is checked. */
    public long expectedStreamId()
    {
        return buffer.getLong(offset + COMMAND_EXPECTED_STREAM_OFFSET);
    }

    /** @return COMMAND, RESPONSE: expected version. */
    public long expectedVersion()
    {
        return buffer.getLong(offset + (type == RESPONSE ? RESPONSE_EXPECTED_VERSION_OFFSET :
            COMMAND_EXPECTED_VERSION_OFFSET));
    }

    /** @return COMMAND: command type id. */
    public int commandType()
    {
        return buffer.getInt(offset + COMMAND_TYPE_OFFSET);
    }

    /** @return COMMAND: offset of the payload in {@link #buffer()}. */
    public int payloadOffset()
    {
        return offset + COMMAND_PAYLOAD_OFFSET;
    }

    /** @return COMMAND: payload length. */
    public int payloadLength()
    {
        return buffer.getInt(offset + COMMAND_PAYLOAD_LENGTH_OFFSET);
    }

    // ------------------------------------------------------------------------------------------- RESPONSE

    /** @return RESPONSE: journal position after the command's events. */
    public long position()
    {
        return buffer.getLong(offset + RESPONSE_POSITION_OFFSET);
    }

    /** @return RESPONSE: the stream's actual version (version conflicts). */
    public long actualVersion()
    {
        return buffer.getLong(offset + RESPONSE_ACTUAL_VERSION_OFFSET);
    }

    /** @return RESPONSE: one of {@link Protocol#STATUS_ACCEPTED}, REJECTED, FAILED. */
    public int status()
    {
        return buffer.getInt(offset + RESPONSE_STATUS_OFFSET);
    }

    /** @return RESPONSE: rejection code (when rejected). */
    public int rejectionCode()
    {
        return buffer.getInt(offset + RESPONSE_REJECTION_CODE_OFFSET);
    }

    /** @return RESPONSE: events produced. */
    public int eventCount()
    {
        return buffer.getInt(offset + RESPONSE_EVENT_COUNT_OFFSET);
    }

    /** @return RESPONSE: served from the idempotency window. */
    public boolean duplicate()
    {
        return (buffer.getInt(offset + RESPONSE_FLAGS_OFFSET) & FLAG_DUPLICATE) != 0;
    }

    /** @return RESPONSE: detail length. */
    public int responseDetailLength()
    {
        return buffer.getInt(offset + RESPONSE_DETAIL_LENGTH_OFFSET);
    }

    /** @return RESPONSE: offset of the detail (rejection name or error) in {@link #buffer()}. */
    public int responseDetailOffset()
    {
        return offset + RESPONSE_DETAIL_OFFSET;
    }

    // ------------------------------------------------------------------------------------------- REDIRECT

    /** @return REDIRECT: "host:port" of the member to try (allocates). */
    public String endpoint()
    {
        return buffer.getStringWithoutLengthAscii(offset + REDIRECT_ENDPOINT_OFFSET,
            buffer.getInt(offset + REDIRECT_ENDPOINT_LENGTH_OFFSET));
    }

    // ---------------------------------------------------------------------------------- KEEPALIVE / QUERY

    /** @return KEEPALIVE: sender's timestamp. */
    public long timestampNs()
    {
        return buffer.getLong(offset + KEEPALIVE_TIMESTAMP_OFFSET);
    }

    /** @return QUERY, QUERY_RESULT: the stream. */
    public long streamId()
    {
        return buffer.getLong(offset + QUERY_STREAM_ID_OFFSET);
    }

    /** @return QUERY_RESULT: true when the stream has events. */
    public boolean found()
    {
        return buffer.getInt(offset + QUERY_RESULT_FOUND_OFFSET) != 0;
    }

    /** @return QUERY_RESULT: offset of the encoded state. */
    public int stateOffset()
    {
        return offset + QUERY_RESULT_STATE_OFFSET;
    }

    /** @return QUERY_RESULT: length of the encoded state. */
    public int stateLength()
    {
        return buffer.getInt(offset + QUERY_RESULT_STATE_LENGTH_OFFSET);
    }
}
