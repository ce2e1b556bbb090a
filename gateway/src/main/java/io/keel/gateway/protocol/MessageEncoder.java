package io.keel.gateway.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.keel.gateway.protocol.Protocol.*;

/**
 * Writes messages into a buffer (a reused scratch buffer, or an Aeron {@code BufferClaim}). Each method writes
 * one whole message at {@code offset} and returns its length. Allocation-free; text is truncated to its limit.
 */
public final class MessageEncoder
{
    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * @param buffer to write into.
     * @param offset where the message starts.
     * @return this.
     */
    public MessageEncoder wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** @return the buffer written to. */
    public MutableDirectBuffer buffer()
    {
        return buffer;
    }

    /** @return where the message starts. */
    public int offset()
    {
        return offset;
    }

    private void header(final int length, final int type, final long sessionId)
    {
        buffer.putInt(offset + FRAME_LENGTH_OFFSET, length);
        buffer.putShort(offset + VERSION_OFFSET, (short)VERSION);
        buffer.putShort(offset + TYPE_OFFSET, (short)type);
        buffer.putLong(offset + SESSION_ID_OFFSET, sessionId);
    }

    private int text(final int lengthOffset, final int dataOffset, final CharSequence text, final int maxLength)
    {
        int length = 0;
        if (null != text)
        {
            length = Math.min(text.length(), maxLength);
            for (int i = 0; i < length; i++)
            {
                final char c = text.charAt(i);
                buffer.putByte(offset + dataOffset + i, (byte)(c < 0x80 ? c : '?'));
            }
        }
        buffer.putInt(offset + lengthOffset, length);
        return dataOffset + length;
    }

    /**
     * @param correlationId    chosen by the client, echoed in the answer.
     * @param clientId         the client's id (the idempotency key's first half).
     * @param responseStreamId stream id on the response channel.
     * @param responseChannel  Aeron UDP channel the node should answer on.
     * @return length written.
     */
    public int connect(final long correlationId, final long clientId, final int responseStreamId,
        final String responseChannel)
    {
        if (responseChannel.length() > MAX_CHANNEL_LENGTH)
        {
            throw new IllegalArgumentException("response channel longer than " + MAX_CHANNEL_LENGTH + ": " +
                responseChannel);
        }
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putLong(offset + CONNECT_CLIENT_ID_OFFSET, clientId);
        buffer.putInt(offset + CONNECT_RESPONSE_STREAM_ID_OFFSET, responseStreamId);
        final int length = text(CONNECT_CHANNEL_LENGTH_OFFSET, CONNECT_CHANNEL_OFFSET, responseChannel,
            MAX_CHANNEL_LENGTH);
        header(length, CONNECT, 0);
        return length;
    }

    /**
     * @param sessionId     the new session.
     * @param correlationId of the CONNECT.
     * @param nonce         {@link Protocol#NONCE_LENGTH} random bytes.
     * @return length written.
     */
    public int challenge(final long sessionId, final long correlationId, final byte[] nonce)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putBytes(offset + CHALLENGE_NONCE_OFFSET, nonce, 0, NONCE_LENGTH);
        header(CHALLENGE_LENGTH, CHALLENGE, sessionId);
        return CHALLENGE_LENGTH;
    }

    /**
     * @param sessionId     from the CHALLENGE.
     * @param correlationId of the CONNECT.
     * @param mac           {@link Protocol#MAC_LENGTH} bytes of HMAC-SHA256.
     * @return length written.
     */
    public int challengeReply(final long sessionId, final long correlationId, final byte[] mac)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putBytes(offset + CHALLENGE_REPLY_MAC_OFFSET, mac, 0, MAC_LENGTH);
        header(CHALLENGE_REPLY_LENGTH, CHALLENGE_REPLY, sessionId);
        return CHALLENGE_REPLY_LENGTH;
    }

    /**
     * @param sessionId        the open session.
     * @param correlationId    of the CONNECT.
     * @param maxInFlight      commands the session may have in flight.
     * @param maxMessageLength largest message the node accepts.
     * @param sessionTimeoutNs idle time after which the node closes the session.
     * @param memberId         this member.
     * @return length written.
     */
    public int connected(final long sessionId, final long correlationId, final int maxInFlight,
        final int maxMessageLength, final long sessionTimeoutNs, final int memberId)
    {
        return connected(sessionId, correlationId, maxInFlight, maxMessageLength, sessionTimeoutNs, memberId, 0);
    }

    /**
     * @param sessionId        the new session.
     * @param correlationId    of the CONNECT (or WATCH).
     * @param maxInFlight      most commands in flight per session.
     * @param maxMessageLength largest message accepted.
     * @param sessionTimeoutNs idle session timeout.
     * @param memberId         the answering member.
     * @param epoch            the member's epoch as primary (0 unknown): a client follows the highest.
     * @return length written.
     */
    public int connected(final long sessionId, final long correlationId, final int maxInFlight,
        final int maxMessageLength, final long sessionTimeoutNs, final int memberId, final long epoch)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putInt(offset + CONNECTED_MAX_IN_FLIGHT_OFFSET, maxInFlight);
        buffer.putInt(offset + CONNECTED_MAX_MESSAGE_LENGTH_OFFSET, maxMessageLength);
        buffer.putLong(offset + CONNECTED_SESSION_TIMEOUT_OFFSET, sessionTimeoutNs);
        buffer.putInt(offset + CONNECTED_MEMBER_ID_OFFSET, memberId);
        buffer.putInt(offset + CONNECTED_EPOCH_OFFSET, (int)Math.min(Integer.MAX_VALUE, Math.max(0, epoch)));
        header(CONNECTED_LENGTH, CONNECTED, sessionId);
        return CONNECTED_LENGTH;
    }

    /**
     * @param type          {@link Protocol#ERROR} or {@link Protocol#REJECTED_CONNECT}.
     * @param sessionId     session, or 0.
     * @param correlationId command id or connect correlation id.
     * @param code          why.
     * @param detail        human-readable detail (ASCII, truncated to {@link Protocol#MAX_DETAIL_LENGTH}).
     * @return length written.
     */
    public int error(final int type, final long sessionId, final long correlationId, final ErrorCode code,
        final CharSequence detail)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putInt(offset + ERROR_CODE_OFFSET, code.code());
        final int length = text(ERROR_DETAIL_LENGTH_OFFSET, ERROR_DETAIL_OFFSET, detail, MAX_DETAIL_LENGTH);
        header(length, type, sessionId);
        return length;
    }

    /**
     * @param sessionId        session.
     * @param commandId        the client's command id.
     * @param commandType      command type id.
     * @param expectedStreamId stream whose version is checked (0 for none).
     * @param expectedVersion  expected version or -1 for any.
     * @param payload          encoded command.
     * @param payloadOffset    in payload.
     * @param payloadLength    bytes.
     * @return length written.
     */
    public int command(final long sessionId, final long commandId, final int commandType,
        final long expectedStreamId, final long expectedVersion, final DirectBuffer payload,
        final int payloadOffset, final int payloadLength)
    {
        buffer.putLong(offset + COMMAND_ID_OFFSET, commandId);
        buffer.putLong(offset + COMMAND_EXPECTED_STREAM_OFFSET, expectedStreamId);
        buffer.putLong(offset + COMMAND_EXPECTED_VERSION_OFFSET, expectedVersion);
        buffer.putInt(offset + COMMAND_TYPE_OFFSET, commandType);
        buffer.putInt(offset + COMMAND_PAYLOAD_LENGTH_OFFSET, payloadLength);
        if (payloadLength > 0)
        {
            buffer.putBytes(offset + COMMAND_PAYLOAD_OFFSET, payload, payloadOffset, payloadLength);
        }
        final int length = COMMAND_PAYLOAD_OFFSET + payloadLength;
        header(length, COMMAND, sessionId);
        return length;
    }

    /**
     * @param sessionId       session.
     * @param commandId       the client's command id.
     * @param status          {@link Protocol#STATUS_ACCEPTED}, REJECTED or FAILED.
     * @param rejectionCode   rejection code, 0 unless rejected.
     * @param position        journal position after the command's events.
     * @param eventCount      events produced.
     * @param expectedVersion for version conflicts.
     * @param actualVersion   for version conflicts.
     * @param duplicate       served from the idempotency window.
     * @param detail          rejection name or error text, may be null.
     * @return length written.
     */
    public int response(final long sessionId, final long commandId, final int status, final int rejectionCode,
        final long position, final int eventCount, final long expectedVersion, final long actualVersion,
        final boolean duplicate, final CharSequence detail)
    {
        buffer.putLong(offset + RESPONSE_COMMAND_ID_OFFSET, commandId);
        buffer.putLong(offset + RESPONSE_POSITION_OFFSET, position);
        buffer.putLong(offset + RESPONSE_EXPECTED_VERSION_OFFSET, expectedVersion);
        buffer.putLong(offset + RESPONSE_ACTUAL_VERSION_OFFSET, actualVersion);
        buffer.putInt(offset + RESPONSE_STATUS_OFFSET, status);
        buffer.putInt(offset + RESPONSE_REJECTION_CODE_OFFSET, rejectionCode);
        buffer.putInt(offset + RESPONSE_EVENT_COUNT_OFFSET, eventCount);
        buffer.putInt(offset + RESPONSE_FLAGS_OFFSET, duplicate ? FLAG_DUPLICATE : 0);
        final int length = text(RESPONSE_DETAIL_LENGTH_OFFSET, RESPONSE_DETAIL_OFFSET, detail, MAX_DETAIL_LENGTH);
        header(length, RESPONSE, sessionId);
        return length;
    }

    /**
     * @param correlationId of the CONNECT.
     * @param memberId      member to try.
     * @param endpoint      its client endpoint, "host:port".
     * @return length written.
     */
    public int redirect(final long correlationId, final int memberId, final String endpoint)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putInt(offset + REDIRECT_MEMBER_ID_OFFSET, memberId);
        final int length = text(REDIRECT_ENDPOINT_LENGTH_OFFSET, REDIRECT_ENDPOINT_OFFSET, endpoint,
            MAX_ENDPOINT_LENGTH);
        header(length, REDIRECT, 0);
        return length;
    }

    /**
     * @param sessionId   session.
     * @param timestampNs sender's clock.
     * @return length written.
     */
    public int keepAlive(final long sessionId, final long timestampNs)
    {
        buffer.putLong(offset + KEEPALIVE_TIMESTAMP_OFFSET, timestampNs);
        header(KEEPALIVE_LENGTH, KEEPALIVE, sessionId);
        return KEEPALIVE_LENGTH;
    }

    /**
     * @param correlationId     echoed in the HEALTH_RESULT.
     * @param responseStreamId  stream of the answer.
     * @param responseChannel   channel of the answer, e.g. {@code aeron:udp?endpoint=127.0.0.1:40123}.
     * @return length written.
     */
    public int health(final long correlationId, final int responseStreamId, final String responseChannel)
    {
        final int length = connect(correlationId, 0, responseStreamId, responseChannel);
        buffer.putShort(offset + TYPE_OFFSET, (short)HEALTH);
        return length;
    }

    /**
     * A standby watch: a CONNECT the member holds until it becomes the primary.
     *
     * @param correlationId    chosen by the client, echoed in the eventual answer; the same one renews the watch.
     * @param clientId         the client's id.
     * @param responseStreamId stream id on the response channel.
     * @param responseChannel  Aeron UDP channel the node should answer on.
     * @return length written.
     */
    public int watch(final long correlationId, final long clientId, final int responseStreamId,
        final String responseChannel)
    {
        final int length = connect(correlationId, clientId, responseStreamId, responseChannel);
        buffer.putShort(offset + TYPE_OFFSET, (short)WATCH);
        return length;
    }

    /**
     * @param correlationId     of the HEALTH.
     * @param memberId          answering member.
     * @param role              {@link Protocol#ROLE_PRIMARY} or {@link Protocol#ROLE_STANDBY}.
     * @param epoch             current epoch.
     * @param committedPosition journal position written.
     * @param durablePosition   journal position durable.
     * @param primaryMemberId   the primary it knows, or -1.
     * @param flags             {@link Protocol#HEALTH_FLAG_ENGINE_FAILED}.
     * @return length written.
     */
    public int healthResult(final long correlationId, final int memberId, final int role, final long epoch,
        final long committedPosition, final long durablePosition, final int primaryMemberId, final int flags)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putInt(offset + HEALTH_RESULT_MEMBER_ID_OFFSET, memberId);
        buffer.putInt(offset + HEALTH_RESULT_ROLE_OFFSET, role);
        buffer.putLong(offset + HEALTH_RESULT_EPOCH_OFFSET, epoch);
        buffer.putLong(offset + HEALTH_RESULT_COMMITTED_OFFSET, committedPosition);
        buffer.putLong(offset + HEALTH_RESULT_DURABLE_OFFSET, durablePosition);
        buffer.putInt(offset + HEALTH_RESULT_PRIMARY_OFFSET, primaryMemberId);
        buffer.putInt(offset + HEALTH_RESULT_FLAGS_OFFSET, flags);
        header(HEALTH_RESULT_LENGTH, HEALTH_RESULT, 0);
        return HEALTH_RESULT_LENGTH;
    }

    /**
     * @param sessionId session.
     * @param code      why.
     * @return length written.
     */
    public int close(final long sessionId, final ErrorCode code)
    {
        buffer.putInt(offset + CLOSE_CODE_OFFSET, code.code());
        buffer.putInt(offset + CLOSE_CODE_OFFSET + 4, 0);
        header(CLOSE_LENGTH, CLOSE, sessionId);
        return CLOSE_LENGTH;
    }

    /**
     * @param sessionId     session.
     * @param correlationId echoed in the result.
     * @param streamId      aggregate to read.
     * @return length written.
     */
    public int query(final long sessionId, final long correlationId, final long streamId)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putLong(offset + QUERY_STREAM_ID_OFFSET, streamId);
        header(QUERY_LENGTH, QUERY, sessionId);
        return QUERY_LENGTH;
    }

    /**
     * @param sessionId     session.
     * @param correlationId of the QUERY.
     * @param streamId      aggregate read.
     * @param found         true when the stream has events.
     * @param state         encoded aggregate.
     * @param stateOffset   in state.
     * @param stateLength   bytes.
     * @return length written.
     */
    public int queryResult(final long sessionId, final long correlationId, final long streamId, final boolean found,
        final DirectBuffer state, final int stateOffset, final int stateLength)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
        buffer.putLong(offset + QUERY_STREAM_ID_OFFSET, streamId);
        buffer.putInt(offset + QUERY_RESULT_FOUND_OFFSET, found ? 1 : 0);
        buffer.putInt(offset + QUERY_RESULT_STATE_LENGTH_OFFSET, stateLength);
        if (stateLength > 0)
        {
            buffer.putBytes(offset + QUERY_RESULT_STATE_OFFSET, state, stateOffset, stateLength);
        }
        final int length = QUERY_RESULT_STATE_OFFSET + stateLength;
        header(length, QUERY_RESULT, sessionId);
        return length;
    }
}
