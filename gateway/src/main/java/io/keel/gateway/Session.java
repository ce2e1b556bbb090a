package io.keel.gateway;

import io.aeron.ExclusivePublication;
import io.keel.gateway.protocol.ErrorCode;

/**
 * One client session as the gateway thread sees it. Not thread-safe: only the gateway thread touches it, except
 * {@link #answers}, which the engine's thread calls.
 */
final class Session
{
    /** Waiting for the response publication to connect. */
    static final int CONNECTING = 1;
    /** Challenge sent, waiting for the proof. */
    static final int CHALLENGED = 2;
    /** Authenticated: commands accepted. */
    static final int OPEN = 3;
    /** Closed: remembered for a while so late messages get a clear answer. */
    static final int CLOSED = 4;

    final long id;
    final long clientId;
    final long correlationId;
    final int imageSessionId;
    /** {@link io.aeron.Aeron#NULL_VALUE} while a watch holds no response publication (until this member leads). */
    long publicationRegistrationId;
    /** When the session opened, or when a watch's response publication was asked for: its connect timeout starts. */
    long createdNs;
    final SessionAnswers answers;
    int state = CONNECTING;
    ExclusivePublication publication;
    Credentials.Principal principal;
    byte[] nonce;
    /** Opened by HEALTH: answered with one HEALTH_RESULT, then closed. */
    boolean healthOnly;
    /** Opened by WATCH: held while this member is not the primary, renewed by the client, then a CONNECT. */
    boolean watch;
    /** Opened by WATCH (stays set once answered): later renewals of that watch are recognised, not new watches. */
    boolean watched;
    /** Where a watch's answers go, checked when the WATCH came: its publication is added only if this member leads. */
    String egressChannel;
    int egressStreamId;
    long lastIngressNs;
    long closedNs;
    ErrorCode closeReason;
    int inFlight;

    Session(final long id, final long clientId, final long correlationId, final int imageSessionId,
        final long publicationRegistrationId, final long nowNs, final SessionAnswers answers)
    {
        this.id = id;
        this.clientId = clientId;
        this.correlationId = correlationId;
        this.imageSessionId = imageSessionId;
        this.publicationRegistrationId = publicationRegistrationId;
        this.createdNs = nowNs;
        this.lastIngressNs = nowNs;
        this.answers = answers;
    }

    @Override
    public String toString()
    {
        return "Session{id=" + id + ", clientId=" + clientId + ", state=" + state + ", inFlight=" + inFlight + "}";
    }
}
