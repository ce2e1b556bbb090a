package io.keel.gateway.protocol;

/**
 * The Keel wire protocol, version {@value #VERSION}: little-endian binary messages, one per Aeron message.
 * <p>
 * Every message starts with a {@value #HEADER_LENGTH}-byte header:
 * <pre>
 *  0  int32  frameLength   total length of the message, header included: must equal the Aeron message length
 *  4  uint16 version       {@link #VERSION}
 *  6  uint16 type          one of the message types below
 *  8  int64  sessionId     the session, or 0 before there is one (CONNECT)
 * </pre>
 * Bodies (offsets from the start of the message):
 * <pre>
 * CONNECT          16 correlationId, 24 clientId, 32 int responseStreamId, 36 int channelLength, 40 channel (ASCII)
 * CHALLENGE        16 correlationId, 24 nonce[32]                         (header carries the new session id)
 * CHALLENGE_REPLY  16 correlationId, 24 mac[32] = HMAC-SHA256(secret, nonce | clientId | sessionId)
 * CONNECTED        16 correlationId, 24 int maxInFlight, 28 int maxMessageLength, 32 sessionTimeoutNs,
 *                  40 int memberId, 44 int epoch (of the answering primary; 0 unknown)
 * REJECTED_CONNECT 16 correlationId, 24 int code, 28 int detailLength, 32 detail (ASCII)
 * COMMAND          16 commandId, 24 expectedStreamId, 32 expectedVersion, 40 int commandType,
 *                  44 int payloadLength, 48 payload
 * RESPONSE         16 commandId, 24 position, 32 expectedVersion, 40 actualVersion, 48 int status,
 *                  52 int rejectionCode, 56 int eventCount, 60 int flags, 64 int detailLength, 68 detail (ASCII)
 * ERROR            16 correlationId (the command id, when about a command), 24 int code, 28 int detailLength,
 *                  32 detail (ASCII)
 * REDIRECT         16 correlationId, 24 int memberId, 28 int endpointLength, 32 endpoint "host:port" (ASCII)
 * KEEPALIVE        16 timestampNs
 * CLOSE            16 int code, 20 int reserved
 * QUERY            16 correlationId, 24 streamId
 * QUERY_RESULT     16 correlationId, 24 streamId, 32 int found, 36 int stateLength, 40 state
 * HEALTH           as CONNECT (clientId ignored): a one-shot, unauthenticated health question, answered by any member
 *                  (primary or not) with one HEALTH_RESULT on the given channel; no session is opened
 * HEALTH_RESULT    16 correlationId, 24 int memberId, 28 int role, 32 epoch, 40 committedPosition,
 *                  48 durablePosition, 56 int primaryMemberId (-1 none known), 60 int flags
 * WATCH            as CONNECT: a connect held by a member that is not the primary until it becomes the primary, then
 *                  answered like CONNECT (CHALLENGE or CONNECTED; REJECTED_CONNECT when refused). A client sends it
 *                  to the members it is not connected to, so a standby that takes over tells it at once instead of
 *                  the client waiting for its liveness timeout. Sent again on the same publication (the same
 *                  correlation id), it renews the watch; a member drops a watch not renewed for its session timeout
 * </pre>
 * A node answers a valid message it cannot act on with ERROR (to the session, when there is one) and counts it;
 * a message without a session to answer is only counted.
 */
public final class Protocol
{
    /** Protocol version carried in every header. */
    public static final int VERSION = 1;

    /** Header length. */
    public static final int HEADER_LENGTH = 16;
    /** Offset of the frame length. */
    public static final int FRAME_LENGTH_OFFSET = 0;
    /** Offset of the version. */
    public static final int VERSION_OFFSET = 4;
    /** Offset of the message type. */
    public static final int TYPE_OFFSET = 6;
    /** Offset of the session id. */
    public static final int SESSION_ID_OFFSET = 8;

    /** Client to node: open a session. */
    public static final int CONNECT = 1;
    /** Node to client: prove you know the secret. */
    public static final int CHALLENGE = 2;
    /** Client to node: the proof. */
    public static final int CHALLENGE_REPLY = 3;
    /** Node to client: the session is open. */
    public static final int CONNECTED = 4;
    /** Node to client: the session was refused. */
    public static final int REJECTED_CONNECT = 5;
    /** Client to node: a command for the engine. */
    public static final int COMMAND = 6;
    /** Node to client: the engine's answer to a command. */
    public static final int RESPONSE = 7;
    /** Node to client: a message or command was refused by the gateway. */
    public static final int ERROR = 8;
    /** Node to client: this member is not the primary, try that one. */
    public static final int REDIRECT = 9;
    /** Both ways: the session is alive. */
    public static final int KEEPALIVE = 10;
    /** Both ways: the session is over. */
    public static final int CLOSE = 11;
    /** Client to node: read one aggregate's state. */
    public static final int QUERY = 12;
    /** Node to client: the state read. */
    public static final int QUERY_RESULT = 13;
    /** Client to node: how are you (role, epoch, positions)? Needs no session or credentials. */
    public static final int HEALTH = 14;
    /** Node to client: the answer to HEALTH. */
    public static final int HEALTH_RESULT = 15;
    /** Client to node: answer this connect when you become the primary (a standby watch). */
    public static final int WATCH = 16;
    /** Highest message type. */
    public static final int MAX_TYPE = WATCH;

    /** Correlation id offset in connect-phase messages, ERROR, REDIRECT and QUERY*. */
    public static final int CORRELATION_ID_OFFSET = 16;

    public static final int CONNECT_CLIENT_ID_OFFSET = 24;
    public static final int CONNECT_RESPONSE_STREAM_ID_OFFSET = 32;
    public static final int CONNECT_CHANNEL_LENGTH_OFFSET = 36;
    public static final int CONNECT_CHANNEL_OFFSET = 40;
    /** Longest response channel in CONNECT. */
    public static final int MAX_CHANNEL_LENGTH = 256;

    /** HMAC-SHA256 nonce length. */
    public static final int NONCE_LENGTH = 32;
    /** HMAC-SHA256 length. */
    public static final int MAC_LENGTH = 32;
    public static final int CHALLENGE_NONCE_OFFSET = 24;
    public static final int CHALLENGE_LENGTH = CHALLENGE_NONCE_OFFSET + NONCE_LENGTH;
    public static final int CHALLENGE_REPLY_MAC_OFFSET = 24;
    public static final int CHALLENGE_REPLY_LENGTH = CHALLENGE_REPLY_MAC_OFFSET + MAC_LENGTH;

    public static final int CONNECTED_MAX_IN_FLIGHT_OFFSET = 24;
    public static final int CONNECTED_MAX_MESSAGE_LENGTH_OFFSET = 28;
    public static final int CONNECTED_SESSION_TIMEOUT_OFFSET = 32;
    public static final int CONNECTED_MEMBER_ID_OFFSET = 40;
    public static final int CONNECTED_EPOCH_OFFSET = 44;
    public static final int CONNECTED_LENGTH = 48;

    /** Code offset in REJECTED_CONNECT and ERROR. */
    public static final int ERROR_CODE_OFFSET = 24;
    /** Detail length offset in REJECTED_CONNECT and ERROR. */
    public static final int ERROR_DETAIL_LENGTH_OFFSET = 28;
    /** Detail offset in REJECTED_CONNECT and ERROR. */
    public static final int ERROR_DETAIL_OFFSET = 32;
    /** Longest detail text in any message. */
    public static final int MAX_DETAIL_LENGTH = 160;

    public static final int COMMAND_ID_OFFSET = 16;
    public static final int COMMAND_EXPECTED_STREAM_OFFSET = 24;
    public static final int COMMAND_EXPECTED_VERSION_OFFSET = 32;
    public static final int COMMAND_TYPE_OFFSET = 40;
    public static final int COMMAND_PAYLOAD_LENGTH_OFFSET = 44;
    public static final int COMMAND_PAYLOAD_OFFSET = 48;

    public static final int RESPONSE_COMMAND_ID_OFFSET = 16;
    public static final int RESPONSE_POSITION_OFFSET = 24;
    public static final int RESPONSE_EXPECTED_VERSION_OFFSET = 32;
    public static final int RESPONSE_ACTUAL_VERSION_OFFSET = 40;
    public static final int RESPONSE_STATUS_OFFSET = 48;
    public static final int RESPONSE_REJECTION_CODE_OFFSET = 52;
    public static final int RESPONSE_EVENT_COUNT_OFFSET = 56;
    public static final int RESPONSE_FLAGS_OFFSET = 60;
    public static final int RESPONSE_DETAIL_LENGTH_OFFSET = 64;
    public static final int RESPONSE_DETAIL_OFFSET = 68;
    /** RESPONSE flag: served from the idempotency window. */
    public static final int FLAG_DUPLICATE = 1;
    /** RESPONSE status: applied. */
    public static final int STATUS_ACCEPTED = 0;
    /** RESPONSE status: rejected for a typed reason (code and name in the message). */
    public static final int STATUS_REJECTED = 1;
    /** RESPONSE status: failed (detail holds the error). */
    public static final int STATUS_FAILED = 2;

    public static final int REDIRECT_MEMBER_ID_OFFSET = 24;
    public static final int REDIRECT_ENDPOINT_LENGTH_OFFSET = 28;
    public static final int REDIRECT_ENDPOINT_OFFSET = 32;
    /** Longest endpoint in REDIRECT. */
    public static final int MAX_ENDPOINT_LENGTH = 128;

    public static final int KEEPALIVE_TIMESTAMP_OFFSET = 16;
    public static final int KEEPALIVE_LENGTH = 24;

    public static final int CLOSE_CODE_OFFSET = 16;
    public static final int CLOSE_LENGTH = 24;

    public static final int QUERY_STREAM_ID_OFFSET = 24;
    public static final int QUERY_LENGTH = 32;
    public static final int QUERY_RESULT_FOUND_OFFSET = 32;
    public static final int QUERY_RESULT_STATE_LENGTH_OFFSET = 36;
    public static final int QUERY_RESULT_STATE_OFFSET = 40;

    public static final int HEALTH_RESULT_MEMBER_ID_OFFSET = 24;
    public static final int HEALTH_RESULT_ROLE_OFFSET = 28;
    public static final int HEALTH_RESULT_EPOCH_OFFSET = 32;
    public static final int HEALTH_RESULT_COMMITTED_OFFSET = 40;
    public static final int HEALTH_RESULT_DURABLE_OFFSET = 48;
    public static final int HEALTH_RESULT_PRIMARY_OFFSET = 56;
    public static final int HEALTH_RESULT_FLAGS_OFFSET = 60;
    public static final int HEALTH_RESULT_LENGTH = 64;
    /** HEALTH_RESULT role: takes commands. */
    public static final int ROLE_PRIMARY = 1;
    /** HEALTH_RESULT role: follows or redirects clients to the primary. */
    public static final int ROLE_STANDBY = 2;
    /** HEALTH_RESULT flag: the engine stopped (failure); the node takes no more commands. */
    public static final int HEALTH_FLAG_ENGINE_FAILED = 1;

    /** Largest message either side accepts unless configured lower; larger ones are refused as TOO_LARGE. */
    public static final int MAX_MESSAGE_LENGTH_LIMIT = 64 * 1024;

    private static final String[] NAMES =
    {
        "NONE", "CONNECT", "CHALLENGE", "CHALLENGE_REPLY", "CONNECTED", "REJECTED_CONNECT", "COMMAND", "RESPONSE",
        "ERROR", "REDIRECT", "KEEPALIVE", "CLOSE", "QUERY", "QUERY_RESULT", "HEALTH", "HEALTH_RESULT",
        "WATCH"
    };

    private Protocol()
    {
    }

    /**
     * @param type message type.
     * @return its name, or {@code UNKNOWN}.
     */
    public static String typeName(final int type)
    {
        return type > 0 && type <= MAX_TYPE ? NAMES[type] : "UNKNOWN";
    }
}
