package io.keel.gateway.protocol;

/**
 * Why the gateway refused a message or a command. Travels as an int in ERROR and REJECTED_CONNECT messages and
 * in CLOSE; codes are stable, add new ones at the end.
 */
public enum ErrorCode
{
    /** Not an error: the message is valid. */
    OK(0),
    /** The message does not parse: wrong length field, truncated, a field out of range. */
    MALFORMED(1),
    /** The message type is not one this version of the protocol knows. */
    UNKNOWN_TYPE(2),
    /** The protocol version is not {@link Protocol#VERSION}. */
    BAD_VERSION(3),
    /** The message or the command payload is longer than the configured maximum. */
    TOO_LARGE(4),
    /** The session id is not an open session of this node (never existed, closed, timed out). */
    UNKNOWN_SESSION(5),
    /** Missing or wrong credentials, or a command before authentication completed. */
    UNAUTHENTICATED(6),
    /** The principal may not send this command type (or query). */
    UNAUTHORIZED(7),
    /** The session has its maximum number of commands in flight: wait for answers, then retry. */
    BUSY(8),
    /** The engine's ring is full: back off and retry with the same command id. */
    RING_FULL(9),
    /** This member is not the primary: see the REDIRECT it sent, or try another member. */
    NOT_PRIMARY(10),
    /** No command of this type is registered in the node's domain. */
    UNKNOWN_COMMAND_TYPE(11),
    /** The node has its maximum number of sessions. */
    SESSION_LIMIT(12),
    /** The node is shutting down: reconnect (to another member) and retry with the same command ids. */
    SHUTTING_DOWN(13),
    /** The response channel in CONNECT is not a usable Aeron UDP channel. */
    BAD_CHANNEL(14),
    /** The session sent nothing for longer than the keep-alive timeout and was closed. */
    TIMED_OUT(15),
    /** The client closed the session. */
    CLIENT_CLOSED(16),
    /** The engine stopped and cannot take commands. */
    ENGINE_CLOSED(17),
    /**
     * The primary runs in SYNC mode and has no standby: it acknowledges nothing until one is back (or the operator
     * allowed degrading to ASYNC). The command may have been journaled: retry later with the same command id.
     */
    NO_STANDBY(18);

    private static final ErrorCode[] BY_CODE;

    static
    {
        final ErrorCode[] values = values();
        BY_CODE = new ErrorCode[values.length];
        for (final ErrorCode value : values)
        {
            BY_CODE[value.code] = value;
        }
    }

    private final int code;

    ErrorCode(final int code)
    {
        this.code = code;
    }

    /** @return the code on the wire. */
    public int code()
    {
        return code;
    }

    /**
     * @param code from the wire.
     * @return the error code, or null when unknown (a newer peer).
     */
    public static ErrorCode of(final int code)
    {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
