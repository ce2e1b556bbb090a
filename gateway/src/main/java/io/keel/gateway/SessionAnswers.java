package io.keel.gateway;

import io.keel.engine.CommandResult;
import io.keel.engine.ResponseHandler;
import io.keel.gateway.protocol.Protocol;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands the engine's answers for one session to the gateway thread through the shared answer ring: called on the
 * business-logic thread, it copies the answer into the ring and returns at once. It never blocks and never
 * allocates. The ring is sized for every command that may be in flight, so it cannot fill; if it ever did the
 * answer would be counted as lost and the client's retry (same command id) would fetch it again.
 */
final class SessionAnswers implements ResponseHandler
{
    static final int COMMAND_ANSWER = 1;
    static final int QUERY_ANSWER = 2;
    static final int QUERY_TOO_LARGE = -1;
    static final int QUERY_FAILED = -2;
    /** Internal status of a command refused for availability: the rejection code field holds the error code. */
    static final int STATUS_REFUSED = -1;

    static final int SESSION_ID_OFFSET = 0;
    static final int COMMAND_ID_OFFSET = 8;
    static final int POSITION_OFFSET = 16;
    static final int EXPECTED_VERSION_OFFSET = 24;
    static final int ACTUAL_VERSION_OFFSET = 32;
    static final int STATUS_OFFSET = 40;
    static final int REJECTION_CODE_OFFSET = 44;
    static final int EVENT_COUNT_OFFSET = 48;
    static final int FLAGS_OFFSET = 52;
    static final int DETAIL_LENGTH_OFFSET = 56;
    static final int DETAIL_OFFSET = 60;
    static final int MAX_RECORD_LENGTH = DETAIL_OFFSET + Protocol.MAX_DETAIL_LENGTH;

    private final long sessionId;
    private final ManyToOneRingBuffer ring;
    private final AtomicLong lost;

    SessionAnswers(final long sessionId, final ManyToOneRingBuffer ring, final AtomicLong lost)
    {
        this.sessionId = sessionId;
        this.ring = ring;
        this.lost = lost;
    }

    @Override
    public void onResponse(final CommandResult result)
    {
        final int status;
        int rejectionCode = 0;
        CharSequence detail = null;
        switch (result.status())
        {
            case ACCEPTED:
                status = Protocol.STATUS_ACCEPTED;
                break;
            case REJECTED:
                status = Protocol.STATUS_REJECTED;
                rejectionCode = result.rejection().code();
                detail = result.rejection().name();
                break;
            default:
                detail = result.error();
                if (io.keel.engine.Availability.NO_STANDBY.equals(detail))
                {
                    status = STATUS_REFUSED;
                    rejectionCode = io.keel.gateway.protocol.ErrorCode.NO_STANDBY.code();
                }
                else if (io.keel.engine.Availability.NOT_PRIMARY.equals(detail))
                {
                    status = STATUS_REFUSED;
                    rejectionCode = io.keel.gateway.protocol.ErrorCode.NOT_PRIMARY.code();
                }
                else
                {
                    status = Protocol.STATUS_FAILED;
                }
                break;
        }
        final int detailLength = null == detail ? 0 : Math.min(detail.length(), Protocol.MAX_DETAIL_LENGTH);
        final int index = ring.tryClaim(COMMAND_ANSWER, DETAIL_OFFSET + detailLength);
        if (index < 0)
        {
            lost.incrementAndGet();
            return;
        }
        final AtomicBuffer buffer = ring.buffer();
        buffer.putLong(index + SESSION_ID_OFFSET, sessionId);
        buffer.putLong(index + COMMAND_ID_OFFSET, result.commandId());
        buffer.putLong(index + POSITION_OFFSET, result.position());
        buffer.putLong(index + EXPECTED_VERSION_OFFSET, result.expectedVersion());
        buffer.putLong(index + ACTUAL_VERSION_OFFSET, result.actualVersion());
        buffer.putInt(index + STATUS_OFFSET, status);
        buffer.putInt(index + REJECTION_CODE_OFFSET, rejectionCode);
        buffer.putInt(index + EVENT_COUNT_OFFSET, result.eventCount());
        buffer.putInt(index + FLAGS_OFFSET, result.duplicate() ? Protocol.FLAG_DUPLICATE : 0);
        buffer.putInt(index + DETAIL_LENGTH_OFFSET, detailLength);
        for (int i = 0; i < detailLength; i++)
        {
            final char c = detail.charAt(i);
            buffer.putByte(index + DETAIL_OFFSET + i, (byte)(c < 0x80 ? c : '?'));
        }
        ring.commit(index);
    }

    /**
     * Hand a query's answer to the gateway thread (called on the business-logic thread; allocation is fine here:
     * queries are not the hot path).
     *
     * @param correlationId of the query.
     * @param streamId      stream read.
     * @param state         encoded aggregate, or null when the stream has no events.
     * @param maxStateBytes most bytes that fit in a reply.
     * @param failed        true when the engine did not answer (ring full, closed).
     */
    void onQueryAnswer(final long correlationId, final long streamId, final byte[] state, final int maxStateBytes,
        final boolean failed)
    {
        final int length = null == state ? 0 : state.length;
        final boolean fits = !failed && length <= maxStateBytes;
        final int index = ring.tryClaim(QUERY_ANSWER, 32 + (fits ? length : 0));
        if (index < 0)
        {
            lost.incrementAndGet();
            return;
        }
        final AtomicBuffer buffer = ring.buffer();
        buffer.putLong(index, sessionId);
        buffer.putLong(index + 8, correlationId);
        buffer.putLong(index + 16, streamId);
        buffer.putInt(index + 24, failed ? QUERY_FAILED : !fits ? QUERY_TOO_LARGE : null == state ? 0 : 1);
        buffer.putInt(index + 28, fits ? length : 0);
        if (fits && length > 0)
        {
            buffer.putBytes(index + 32, state);
        }
        ring.commit(index);
    }
}
