package io.keel.gateway;

import io.aeron.Aeron;
import io.aeron.ChannelUri;
import io.aeron.CommonContext;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Image;
import io.aeron.Subscription;
import io.aeron.exceptions.RegistrationException;
import io.keel.engine.CommandCodecs;
import io.keel.engine.Engine;
import io.keel.gateway.protocol.ErrorCode;
import io.keel.gateway.protocol.Hmac;
import io.keel.gateway.protocol.MessageDecoder;
import io.keel.gateway.protocol.MessageEncoder;
import io.keel.gateway.protocol.Protocol;
import net.openhft.chronicle.bytes.Bytes;
import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's duty cycle: poll the ingress, validate every message, manage sessions, submit commands to the
 * engine, and send the engine's answers back on each session's egress publication. One thread; nothing here
 * blocks, and the command path allocates nothing.
 */
final class GatewayAgent implements Agent, BoundedAssembler.Handler, MessageHandler
{
    private static final long HOUSEKEEPING_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long PENDING_INTERVAL_NS = TimeUnit.MICROSECONDS.toNanos(200);

    private final GatewayContext ctx;
    private final Gateway gateway;
    private final Engine engine;
    private final boolean engineInvoked;
    private final Aeron aeron;
    private final GatewayCounters counters;
    private final ErrorHandler errorHandler;
    private final NanoClock clock = SystemNanoClock.INSTANCE;
    private final BoundedAssembler assembler;
    private final MessageDecoder decoder = new MessageDecoder();
    private final MessageEncoder encoder = new MessageEncoder();
    private final UnsafeBuffer egressBuffer;
    private final ManyToOneRingBuffer answers;
    private final AtomicLong answersLost = new AtomicLong();
    private final Long2ObjectHashMap<Session> sessions = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<Hmac> hmacs = new Long2ObjectHashMap<>();
    private final boolean[] knownCommandTypes = new boolean[CommandCodecs.MAX_TYPE_ID + 1];
    private final byte[] proof = new byte[Protocol.MAC_LENGTH];
    private final SecureRandom random = new SecureRandom();
    private final int maxCommandLength;
    private final int maxSessionTable;
    private final org.agrona.concurrent.AgentInvoker driverInvoker;
    private final org.agrona.concurrent.AgentInvoker companion;
    private final org.agrona.concurrent.AgentInvoker clientConductorInvoker;
    private Subscription ingress;
    private int openSessions;
    private int pendingSessions;
    private int totalInFlight;
    private long nextHousekeepingNs;
    private int watches;
    private boolean wasPrimary;
    private boolean wasLeading;
    private long lastLeadingNs;
    private boolean ingressClosed;
    private boolean drained;

    GatewayAgent(final GatewayContext ctx, final Gateway gateway, final Engine engine, final Aeron aeron,
        final GatewayCounters counters, final ErrorHandler errorHandler)
    {
        this.ctx = ctx;
        this.gateway = gateway;
        this.engine = engine;
        this.engineInvoked = engine.isInvoked();
        this.aeron = aeron;
        this.counters = counters;
        this.errorHandler = errorHandler;
        this.maxCommandLength = engine.context().maxCommandLengthBytes();
        this.maxSessionTable = ctx.maxSessions() * 2 + 16;
        this.lastLeadingNs = clock.nanoTime() - ctx.watchPublicationLingerNs() - 1; // never led yet
        this.assembler = new BoundedAssembler(this, ctx.maxMessageLengthBytes(), maxSessionTable);
        this.egressBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(
            Math.max(ctx.maxMessageLengthBytes(), Protocol.QUERY_RESULT_STATE_OFFSET + ctx.maxMessageLengthBytes())));
        // every command and query in flight has at most one answer in this ring, so it can never fill: size each
        // slot for the larger of a command answer and a query answer (state up to one message), plus its header
        final int slotBytes = BitUtil.align(
            Math.max(SessionAnswers.MAX_RECORD_LENGTH, 32 + ctx.maxMessageLengthBytes()) + 8, 8);
        final long neededBytes = (long)(ctx.maxTotalInFlight() + 64) * slotBytes;
        if (neededBytes > (1L << 30))
        {
            throw new IllegalArgumentException("answer ring of " + neededBytes + " bytes (maxTotalInFlight " +
                ctx.maxTotalInFlight() + " x " + slotBytes + " bytes for a maxMessageLengthBytes of " +
                ctx.maxMessageLengthBytes() + ") exceeds 1 GiB: lower maxTotalInFlight or maxMessageLengthBytes");
        }
        final int ringBytes = BitUtil.findNextPositivePowerOfTwo((int)neededBytes);
        this.answers = new ManyToOneRingBuffer(
            new UnsafeBuffer(ByteBuffer.allocateDirect(ringBytes + RingBufferDescriptor.TRAILER_LENGTH)));
        final CommandCodecs commandCodecs = engine.context().domain().commands();
        for (int type = 1; type <= CommandCodecs.MAX_TYPE_ID; type++)
        {
            knownCommandTypes[type] = null != commandCodecs.newInstance(type);
        }
        this.driverInvoker = ctx.driverInvoker();
        this.companion = ctx.companion();
        this.clientConductorInvoker = aeron.conductorAgentInvoker();
        this.ingress = aeron.addSubscription(gateway.ingressChannel(), ctx.ingressStreamId());
    }

    @Override
    public String roleName()
    {
        return "keel-gateway-" + ctx.memberId();
    }

    @Override
    public int doWork()
    {
        final long nowNs = clock.nanoTime();
        int work = 0;
        if (null != driverInvoker)
        {
            work += driverInvoker.invoke();
        }
        if (null != clientConductorInvoker)
        {
            work += clientConductorInvoker.invoke();
        }
        if (null != companion)
        {
            work += companion.invoke();
        }
        if (!ingressClosed)
        {
            if (gateway.ingressStopRequested())
            {
                ingressClosed = true;
                ingress.close();
                gateway.ingressStopped();
            }
            else
            {
                work += ingress.poll(assembler, GatewayContext.INGRESS_FRAGMENT_LIMIT);
            }
        }
        if (engineInvoked)
        {
            work += engine.invoke(); // decide what was just received, so its answers go out in this same cycle
            if (null != companion)
            {
                work += companion.invoke(); // replicate what the engine just journaled, in this same cycle
            }
        }
        work += answers.read(this, GatewayContext.ANSWER_LIMIT);
        if (gateway.isPrimary() != wasPrimary || leading() != wasLeading)
        {
            wasPrimary = gateway.isPrimary();
            if (wasLeading)
            {
                lastLeadingNs = nowNs; // it led until now: the watch publication linger runs from here
            }
            wasLeading = leading();
            nextHousekeepingNs = nowNs; // a new primary answers the clients watching it at once
        }
        if (nowNs >= nextHousekeepingNs)
        {
            work += housekeeping(nowNs);
            nextHousekeepingNs = nowNs + (pendingSessions > 0 ? PENDING_INTERVAL_NS : HOUSEKEEPING_INTERVAL_NS);
        }
        if (!drained && gateway.drainRequested())
        {
            work += answers.read(this, Integer.MAX_VALUE);
            if (0 == answers.size())
            {
                for (final Session session : sessions.values())
                {
                    if (session.state != Session.CLOSED)
                    {
                        close(session, ErrorCode.SHUTTING_DOWN, true, nowNs);
                    }
                }
                drained = true;
                gateway.drained();
            }
        }
        return work;
    }

    @Override
    public void onClose()
    {
        if (null != companion)
        {
            companion.close();
        }
        if (!ingressClosed)
        {
            ingress.close();
        }
        for (final Session session : sessions.values())
        {
            if (Aeron.NULL_VALUE != session.publicationRegistrationId) // a watch held without a publication has none
            {
                aeron.asyncRemovePublication(session.publicationRegistrationId);
            }
        }
        sessions.clear();
        if (answersLost.get() > 0)
        {
            errorHandler.onError(new IllegalStateException(answersLost.get() + " engine answers did not fit the " +
                "answer ring: clients recover them by retrying"));
        }
    }

    int openSessions()
    {
        return openSessions;
    }

    // ------------------------------------------------------------------------------------------- ingress

    @Override
    public void onMessage(final DirectBuffer buffer, final int offset, final int length, final int imageSessionId)
    {
        final ErrorCode valid = decoder.wrap(buffer, offset, length, ctx.maxMessageLengthBytes());
        if (ErrorCode.OK != valid)
        {
            refuseInvalid(valid, length, imageSessionId);
            return;
        }
        final long nowNs = clock.nanoTime();
        try
        {
            switch (decoder.type())
            {
                case Protocol.CONNECT:
                    onConnect(imageSessionId, nowNs);
                    break;
                case Protocol.CHALLENGE_REPLY:
                    onChallengeReply(imageSessionId, nowNs);
                    break;
                case Protocol.COMMAND:
                    onCommand(imageSessionId, nowNs);
                    break;
                case Protocol.KEEPALIVE:
                    onKeepAlive(imageSessionId, nowNs);
                    break;
                case Protocol.CLOSE:
                    onClientClose(imageSessionId, nowNs);
                    break;
                case Protocol.QUERY:
                    onQuery(imageSessionId, nowNs);
                    break;
                case Protocol.HEALTH:
                    onConnect(imageSessionId, nowNs); // same layout; decide() answers and closes
                    break;
                case Protocol.WATCH:
                    onWatch(imageSessionId, nowNs);
                    break;
                default:
                    counters.unknownType.increment();
                    final Session session = sessionOf(decoder.sessionId(), imageSessionId);
                    if (null != session)
                    {
                        sendError(session, 0, ErrorCode.UNKNOWN_TYPE, "not a client message");
                    }
                    break;
            }
        }
        catch (final RuntimeException ex)
        {
            counters.errors.increment();
            errorHandler.onError(ex);
        }
    }

    @Override
    public void onTooLarge(final DirectBuffer buffer, final int offset, final int length, final int imageSessionId)
    {
        counters.tooLarge.increment();
        if (length >= Protocol.HEADER_LENGTH)
        {
            final Session session = sessionOf(buffer.getLong(offset + Protocol.SESSION_ID_OFFSET), imageSessionId);
            if (null != session)
            {
                final long commandId = length >= Protocol.COMMAND_ID_OFFSET + 8 ?
                    buffer.getLong(offset + Protocol.COMMAND_ID_OFFSET) : 0;
                sendError(session, commandId, ErrorCode.TOO_LARGE, "message longer than the maximum");
            }
        }
    }

    private void refuseInvalid(final ErrorCode why, final int length, final int imageSessionId)
    {
        switch (why)
        {
            case BAD_VERSION:
                counters.badVersion.increment();
                break;
            case UNKNOWN_TYPE:
                counters.unknownType.increment();
                break;
            case TOO_LARGE:
                counters.tooLarge.increment();
                break;
            default:
                counters.malformed.increment();
                break;
        }
        if (length >= Protocol.HEADER_LENGTH)
        {
            final Session session = sessionOf(decoder.sessionId(), imageSessionId);
            if (null != session)
            {
                final long correlationId = length >= Protocol.CORRELATION_ID_OFFSET + 8 ? decoder.correlationId() : 0;
                sendError(session, correlationId, why, null);
            }
        }
    }

    /**
     * @return the session when it exists and the message came from the publication that opened it.
     */
    private Session sessionOf(final long sessionId, final int imageSessionId)
    {
        final Session session = sessions.get(sessionId);
        if (null == session || session.imageSessionId != imageSessionId || null == session.publication)
        {
            return null;
        }
        return session;
    }

    private Session onConnect(final int imageSessionId, final long nowNs)
    {
        return onConnect(imageSessionId, false, nowNs);
    }

    /**
     * @param watch a WATCH: its response channel is checked now and kept; when watch publications are deferred (see
     *              {@link GatewayContext#deferWatchPublications}) and this member neither leads nor may be about to
     *              (see {@link #leading()}), no publication is added for it yet (see {@link #progressDeferredWatch}).
     */
    private Session onConnect(final int imageSessionId, final boolean watch, final long nowNs)
    {
        final boolean deferPublication = watch && !watchPublicationsWanted(nowNs);
        if (decoder.sessionId() != 0 || decoder.responseStreamId() <= 0)
        {
            counters.malformed.increment();
            return null;
        }
        if (sessions.size() >= maxSessionTable || pendingSessions >= ctx.maxSessions())
        {
            counters.sessionLimit.increment();
            return null;
        }
        final String channel = egressChannel(decoder.channel(), imageSessionId);
        if (null == channel)
        {
            counters.badChannel.increment();
            return null;
        }
        final long registrationId;
        try
        {
            registrationId = deferPublication ? Aeron.NULL_VALUE :
                aeron.asyncAddExclusivePublication(channel, decoder.responseStreamId());
        }
        catch (final RuntimeException ex)
        {
            counters.badChannel.increment();
            return null;
        }
        long sessionId;
        do
        {
            sessionId = random.nextLong() & Long.MAX_VALUE;
        }
        while (0 == sessionId || sessions.containsKey(sessionId));
        final Session session = new Session(sessionId, decoder.clientId(), decoder.correlationId(), imageSessionId,
            registrationId, nowNs, new SessionAnswers(sessionId, answers, answersLost));
        session.healthOnly = Protocol.HEALTH == decoder.type();
        if (Protocol.CONNECT == decoder.type())
        {
            endWatchesOf(session.clientId, nowNs);
        }
        sessions.put(sessionId, session);
        if (watch)
        {
            session.egressChannel = channel;
            session.egressStreamId = decoder.responseStreamId();
        }
        if (!deferPublication)
        {
            pendingSessions++;
            nextHousekeepingNs = nowNs;
            if (watch)
            {
                counters.watchPublicationsAdded.increment();
            }
        }
        return session;
    }

    /**
     * A client that connects here no longer needs the watches it holds here (it dropped them when it chose this
     * member): closed now, so a takeover does not open sessions nobody will use.
     */
    private void endWatchesOf(final long clientId, final long nowNs)
    {
        if (0 == watches)
        {
            return;
        }
        for (final Session held : sessions.values())
        {
            if (held.watch && held.clientId == clientId)
            {
                closeQuietly(held, ErrorCode.CLIENT_CLOSED, nowNs);
            }
        }
    }

    /**
     * A standby watch: renews the watch this publication already holds, else opens one, held in CONNECTING until
     * this member is the primary (see {@link #progressConnect}).
     */
    private void onWatch(final int imageSessionId, final long nowNs)
    {
        final long clientId = decoder.clientId();
        final long correlationId = decoder.correlationId();
        for (final Session session : sessions.values())
        {
            if (session.watched && session.imageSessionId == imageSessionId && session.clientId == clientId &&
                session.correlationId == correlationId)
            {
                if (session.state == Session.CONNECTING)
                {
                    session.lastIngressNs = nowNs;
                }
                return; // a renewal, or one that crossed the answer: the session it opened is the client's
            }
        }
        final Session session = onConnect(imageSessionId, true, nowNs);
        if (null != session)
        {
            session.watch = true;
            session.watched = true;
            watches++;
            counters.watchesActive.setRelease(watches);
        }
    }

    /**
     * The channel answers go to: UDP only, and only to the host the CONNECT came from, so an unauthenticated
     * CONNECT cannot make the node send traffic to a third party (reflection).
     */
    private String egressChannel(final String requested, final int imageSessionId)
    {
        try
        {
            final ChannelUri uri = ChannelUri.parse(requested);
            final String endpoint = uri.get(CommonContext.ENDPOINT_PARAM_NAME);
            if (!CommonContext.UDP_MEDIA.equals(uri.media()) || null == endpoint)
            {
                return null;
            }
            final Image image = ingress.imageBySessionId(imageSessionId);
            if (null == image || !host(endpoint).equals(host(image.sourceIdentity())))
            {
                return null;
            }
            uri.put(CommonContext.TERM_LENGTH_PARAM_NAME, Integer.toString(ctx.egressTermLengthBytes()));
            return uri.toString();
        }
        catch (final RuntimeException ex)
        {
            return null;
        }
    }

    /** Host part of "host:port" or "[v6]:port". */
    static String host(final String hostAndPort)
    {
        final int colon = hostAndPort.lastIndexOf(':');
        final String host = colon < 0 ? hostAndPort : hostAndPort.substring(0, colon);
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private void onChallengeReply(final int imageSessionId, final long nowNs)
    {
        final Session session = sessionOf(decoder.sessionId(), imageSessionId);
        if (null == session || session.state != Session.CHALLENGED || decoder.correlationId() != session.correlationId)
        {
            counters.unauthenticated.increment();
            if (null != session && session.state != Session.CLOSED)
            {
                sendError(session, decoder.correlationId(), ErrorCode.UNAUTHENTICATED, "no challenge outstanding");
            }
            return;
        }
        decoder.buffer().getBytes(decoder.macOffset(), proof);
        final Hmac hmac = hmacs.get(session.clientId);
        if (null == hmac || !hmac.verify(session.nonce, session.clientId, session.id, proof))
        {
            counters.authFailures.increment();
            reject(session, ErrorCode.UNAUTHENTICATED, "wrong credentials for client " + session.clientId, nowNs);
            return;
        }
        open(session, nowNs);
    }

    private void onCommand(final int imageSessionId, final long nowNs)
    {
        final long commandId = decoder.commandId();
        final Session session = openSession(imageSessionId, commandId, nowNs);
        if (null == session)
        {
            return;
        }
        final int commandType = decoder.commandType();
        if (null != session.principal && !session.principal.maySend(commandType))
        {
            counters.unauthorized.increment();
            sendError(session, commandId, ErrorCode.UNAUTHORIZED, "client may not send this command type");
            return;
        }
        if (commandType <= 0 || commandType > CommandCodecs.MAX_TYPE_ID || !knownCommandTypes[commandType])
        {
            counters.unknownCommandType.increment();
            sendError(session, commandId, ErrorCode.UNKNOWN_COMMAND_TYPE, "no such command type");
            return;
        }
        final int payloadLength = decoder.payloadLength();
        if (payloadLength > maxCommandLength)
        {
            counters.tooLarge.increment();
            sendError(session, commandId, ErrorCode.TOO_LARGE, "command longer than the engine's maximum");
            return;
        }
        if (session.inFlight >= ctx.maxInFlightPerSession() || totalInFlight >= ctx.maxTotalInFlight())
        {
            counters.busy.increment();
            sendError(session, commandId, ErrorCode.BUSY, "too many commands in flight");
            return;
        }
        final Engine.Submit submit = engine.trySubmitEncoded(session.clientId, commandId, commandType,
            decoder.buffer(), decoder.payloadOffset(), payloadLength, decoder.expectedStreamId(),
            decoder.expectedVersion(), session.answers);
        switch (submit)
        {
            case SUBMITTED:
                session.inFlight++;
                totalInFlight++;
                counters.commands.increment();
                break;
            case RING_FULL:
                counters.ringFull.increment();
                sendError(session, commandId, ErrorCode.RING_FULL, "engine ring full, retry");
                break;
            case TOO_LARGE:
                counters.tooLarge.increment();
                sendError(session, commandId, ErrorCode.TOO_LARGE, "command longer than the engine's maximum");
                break;
            default:
                counters.errors.increment();
                sendError(session, commandId, ErrorCode.ENGINE_CLOSED, engine.failure());
                break;
        }
    }

    /**
     * @return the session when the message may act on it; otherwise answers (where possible), counts, and
     * returns null.
     */
    private Session openSession(final int imageSessionId, final long correlationId, final long nowNs)
    {
        final Session session = sessionOf(decoder.sessionId(), imageSessionId);
        if (null == session)
        {
            counters.unknownSession.increment();
            return null;
        }
        if (session.state == Session.CLOSED)
        {
            counters.unknownSession.increment();
            sendError(session, correlationId, ErrorCode.UNKNOWN_SESSION, "session closed: " + session.closeReason);
            return null;
        }
        if (session.state != Session.OPEN)
        {
            counters.unauthenticated.increment();
            sendError(session, correlationId, ErrorCode.UNAUTHENTICATED, "session not authenticated yet");
            return null;
        }
        if (!gateway.isPrimary())
        {
            counters.notPrimary.increment();
            sendError(session, correlationId, ErrorCode.NOT_PRIMARY, "member is not the primary");
            return null;
        }
        session.lastIngressNs = nowNs;
        return session;
    }

    private void onKeepAlive(final int imageSessionId, final long nowNs)
    {
        final Session session = sessionOf(decoder.sessionId(), imageSessionId);
        if (null == session || session.state != Session.OPEN)
        {
            counters.unknownSession.increment();
            if (null != session)
            {
                sendError(session, 0, ErrorCode.UNKNOWN_SESSION, "session not open");
            }
            return;
        }
        session.lastIngressNs = nowNs;
        send(session, encoder.wrap(egressBuffer, 0).keepAlive(session.id, decoder.timestampNs()));
    }

    private void onClientClose(final int imageSessionId, final long nowNs)
    {
        final Session session = sessionOf(decoder.sessionId(), imageSessionId);
        if (null == session || session.state == Session.CLOSED)
        {
            counters.unknownSession.increment();
            return;
        }
        close(session, ErrorCode.CLIENT_CLOSED, false, nowNs);
    }

    private void onQuery(final int imageSessionId, final long nowNs)
    {
        final long correlationId = decoder.correlationId();
        final Session session = openSession(imageSessionId, correlationId, nowNs);
        if (null == session)
        {
            return;
        }
        if (null != session.principal && !session.principal.mayQuery())
        {
            counters.unauthorized.increment();
            sendError(session, correlationId, ErrorCode.UNAUTHORIZED, "client may not query");
            return;
        }
        if (session.inFlight >= ctx.maxInFlightPerSession() || totalInFlight >= ctx.maxTotalInFlight())
        {
            counters.busy.increment();
            sendError(session, correlationId, ErrorCode.BUSY, "too many commands in flight");
            return;
        }
        final long streamId = decoder.streamId();
        final SessionAnswers answer = session.answers;
        final int maxStateBytes = ctx.maxMessageLengthBytes() - Protocol.QUERY_RESULT_STATE_OFFSET;
        session.inFlight++;
        totalInFlight++;
        counters.queries.increment();
        engine.query(streamId, aggregate ->
        {
            if (null == aggregate)
            {
                return null;
            }
            final Bytes<byte[]> bytes = Bytes.allocateElasticOnHeap(64);
            aggregate.writeMarshallable(bytes);
            return bytes.toByteArray();
        }).whenComplete((state, error) -> answer.onQueryAnswer(correlationId, streamId, state, maxStateBytes,
            null != error));
    }

    // -------------------------------------------------------------------------------------------- answers

    @Override
    public void onMessage(final int msgTypeId, final org.agrona.MutableDirectBuffer buffer, final int index,
        final int length)
    {
        totalInFlight--;
        final long sessionId = buffer.getLong(index + SessionAnswers.SESSION_ID_OFFSET);
        final Session session = sessions.get(sessionId);
        if (null == session)
        {
            counters.answersForClosedSessions.increment();
            return;
        }
        session.inFlight--;
        if (session.state != Session.OPEN)
        {
            counters.answersForClosedSessions.increment();
            return;
        }
        encoder.wrap(egressBuffer, 0);
        if (msgTypeId == SessionAnswers.COMMAND_ANSWER &&
            SessionAnswers.STATUS_REFUSED == buffer.getInt(index + SessionAnswers.STATUS_OFFSET))
        {
            // not available (no standby, not primary): an error the client retries on, not an answer
            final ErrorCode code = ErrorCode.of(buffer.getInt(index + SessionAnswers.REJECTION_CODE_OFFSET));
            counters.refusedAnswers.increment();
            sendError(session, buffer.getLong(index + SessionAnswers.COMMAND_ID_OFFSET), code,
                ErrorCode.NO_STANDBY == code ? "no standby: nothing can be acknowledged now, retry" :
                "member is not the primary");
        }
        else if (msgTypeId == SessionAnswers.COMMAND_ANSWER)
        {
            final int detailLength = buffer.getInt(index + SessionAnswers.DETAIL_LENGTH_OFFSET);
            final int messageLength = encoder.response(sessionId,
                buffer.getLong(index + SessionAnswers.COMMAND_ID_OFFSET),
                buffer.getInt(index + SessionAnswers.STATUS_OFFSET),
                buffer.getInt(index + SessionAnswers.REJECTION_CODE_OFFSET),
                buffer.getLong(index + SessionAnswers.POSITION_OFFSET),
                buffer.getInt(index + SessionAnswers.EVENT_COUNT_OFFSET),
                buffer.getLong(index + SessionAnswers.EXPECTED_VERSION_OFFSET),
                buffer.getLong(index + SessionAnswers.ACTUAL_VERSION_OFFSET),
                (buffer.getInt(index + SessionAnswers.FLAGS_OFFSET) & Protocol.FLAG_DUPLICATE) != 0,
                null);
            egressBuffer.putInt(Protocol.RESPONSE_DETAIL_LENGTH_OFFSET, detailLength);
            egressBuffer.putBytes(Protocol.RESPONSE_DETAIL_OFFSET, buffer, index + SessionAnswers.DETAIL_OFFSET,
                detailLength);
            egressBuffer.putInt(Protocol.FRAME_LENGTH_OFFSET, messageLength + detailLength);
            if (send(session, messageLength + detailLength))
            {
                counters.responses.increment();
            }
        }
        else
        {
            final long correlationId = buffer.getLong(index + 8);
            final int found = buffer.getInt(index + 24);
            if (found == SessionAnswers.QUERY_TOO_LARGE)
            {
                sendError(session, correlationId, ErrorCode.TOO_LARGE, "state does not fit in a message");
                return;
            }
            if (found == SessionAnswers.QUERY_FAILED)
            {
                sendError(session, correlationId, ErrorCode.RING_FULL, "engine did not take the query, retry");
                return;
            }
            send(session, encoder.queryResult(sessionId, correlationId, buffer.getLong(index + 16), found == 1,
                buffer, index + 32, buffer.getInt(index + 28)));
        }
    }

    // ------------------------------------------------------------------------------------------- sessions

    private int housekeeping(final long nowNs)
    {
        int work = 0;
        final Iterator<Session> iterator = sessions.values().iterator();
        while (iterator.hasNext())
        {
            final Session session = iterator.next();
            switch (session.state)
            {
                case Session.CONNECTING:
                    work += progressConnect(session, nowNs);
                    break;
                case Session.CHALLENGED:
                    if (nowNs - session.createdNs > ctx.connectTimeoutNs())
                    {
                        counters.authFailures.increment();
                        reject(session, ErrorCode.UNAUTHENTICATED, "no answer to the challenge in time", nowNs);
                        work++;
                    }
                    break;
                case Session.OPEN:
                    if (nowNs - session.lastIngressNs > ctx.sessionTimeoutNs())
                    {
                        counters.sessionsTimedOut.increment();
                        close(session, ErrorCode.TIMED_OUT, true, nowNs);
                        work++;
                    }
                    break;
                default:
                    if (nowNs - session.closedNs > GatewayContext.CLOSED_SESSION_LINGER_NS)
                    {
                        dropPublication(session);
                        iterator.remove();
                        work++;
                    }
                    break;
            }
        }
        return work;
    }

    private int progressConnect(final Session session, final long nowNs)
    {
        if (Aeron.NULL_VALUE == session.publicationRegistrationId)
        {
            return progressDeferredWatch(session, nowNs);
        }
        if (null == session.publication)
        {
            try
            {
                session.publication = aeron.getExclusivePublication(session.publicationRegistrationId);
            }
            catch (final RegistrationException ex)
            {
                return refuseChannel(session, nowNs);
            }
            if (null != session.publication)
            {
                pendingSessions--;
            }
        }
        final boolean connected = null != session.publication && session.publication.isConnected();
        if (!connected && nowNs - session.createdNs > ctx.connectTimeoutNs())
        {
            return refuseChannel(session, nowNs);
        }
        if (session.watch)
        {
            return progressWatch(session, connected, nowNs);
        }
        if (!connected || (gateway.holdsConnects() && !gateway.isPrimary() &&
            nowNs - session.createdNs < ctx.connectTimeoutNs() / 2))
        {
            return 0; // not connected yet, or a takeover may be under way: answer once it is decided
        }
        decide(session, nowNs);
        return 1;
    }

    private int refuseChannel(final Session session, final long nowNs)
    {
        counters.badChannel.increment();
        closeQuietly(session, ErrorCode.BAD_CHANNEL, nowNs - GatewayContext.CLOSED_SESSION_LINGER_NS);
        return 1;
    }

    private int progressWatch(final Session session, final boolean connected, final long nowNs)
    {
        if (watchExpired(session, nowNs))
        {
            return 1;
        }
        if (!watchPublicationsWanted(nowNs))
        {
            // the primary spoke again, long enough ago: back to holding the watch without a publication
            dropPublication(session);
            return 1;
        }
        if (connected && gateway.isPrimary())
        {
            endWatch(session);
            counters.watchesAnswered.increment();
            decide(session, nowNs); // now a CONNECT like any other: CHALLENGE or CONNECTED
            return 1;
        }
        return 0;
    }

    /**
     * A watch held without a response publication: kept while the client renews it; once this member leads, or its
     * primary has gone silent and it may be about to, its publication is added (the connect timeout runs from then),
     * so it is connected by the time this member answers as the primary.
     */
    private int progressDeferredWatch(final Session session, final long nowNs)
    {
        if (watchExpired(session, nowNs))
        {
            return 1;
        }
        if (!watchPublicationsWanted(nowNs) || pendingSessions >= ctx.maxSessions())
        {
            return 0; // not needed yet, or as many publications pending as connects may have: asked again later
        }
        try
        {
            session.publicationRegistrationId =
                aeron.asyncAddExclusivePublication(session.egressChannel, session.egressStreamId);
        }
        catch (final RuntimeException ex)
        {
            return refuseChannel(session, nowNs);
        }
        session.createdNs = nowNs;
        pendingSessions++;
        counters.watchPublicationsAdded.increment();
        return 1;
    }

    /**
     * @return true when watchers' publications are added, or kept: always, unless they are deferred (see
     * {@link GatewayContext#deferWatchPublications}); then while this member leads (see {@link #leading()}, as of
     * this duty cycle's check, which also records when it stopped) or led within the watch publication linger
     * ({@link GatewayContext#watchPublicationLingerNs}).
     */
    private boolean watchPublicationsWanted(final long nowNs)
    {
        return !ctx.deferWatchPublications() || wasLeading ||
            nowNs - lastLeadingNs < ctx.watchPublicationLingerNs();
    }

    /**
     * @return true when this member is the primary or, its primary silent, holds connects because it may take over
     * (see {@link Gateway#holdConnects}): watches then need their publications.
     */
    private boolean leading()
    {
        return gateway.isPrimary() || gateway.holdsConnects();
    }

    /** Remove the session's response publication, if it has one (a pending one no longer counts as pending). */
    private void dropPublication(final Session session)
    {
        if (Aeron.NULL_VALUE != session.publicationRegistrationId)
        {
            if (null == session.publication)
            {
                pendingSessions--;
            }
            aeron.asyncRemovePublication(session.publicationRegistrationId);
            session.publicationRegistrationId = Aeron.NULL_VALUE;
            session.publication = null;
        }
    }

    /** @return true when the client stopped renewing the watch: closed. */
    private boolean watchExpired(final Session session, final long nowNs)
    {
        if (nowNs - session.lastIngressNs > ctx.sessionTimeoutNs())
        {
            counters.sessionsTimedOut.increment();
            closeQuietly(session, ErrorCode.TIMED_OUT, nowNs);
            return true;
        }
        return false;
    }

    private void endWatch(final Session session)
    {
        session.watch = false;
        watches--;
        counters.watchesActive.setRelease(watches);
    }

    private void decide(final Session session, final long nowNs)
    {
        if (session.healthOnly)
        {
            answerHealth(session, nowNs);
            return;
        }
        if (!gateway.isPrimary())
        {
            final Member primary = ctx.member(gateway.primaryMemberId());
            counters.redirects.increment();
            if (null != primary)
            {
                send(session, encoder.wrap(egressBuffer, 0).redirect(session.correlationId, primary.id(),
                    primary.clientEndpoint()));
            }
            else
            {
                send(session, encoder.wrap(egressBuffer, 0).error(Protocol.REJECTED_CONNECT, session.id,
                    session.correlationId, ErrorCode.NOT_PRIMARY, "no primary known"));
            }
            closeQuietly(session, ErrorCode.NOT_PRIMARY, nowNs);
            return;
        }
        final Credentials credentials = ctx.credentials();
        if (null == credentials)
        {
            open(session, nowNs);
            return;
        }
        final Credentials.Principal principal = credentials.principal(session.clientId);
        if (null == principal)
        {
            counters.authFailures.increment();
            reject(session, ErrorCode.UNAUTHENTICATED, "client " + session.clientId + " has no credentials on " +
                "this node", nowNs);
            return;
        }
        session.principal = principal;
        if (!hmacs.containsKey(principal.clientId()))
        {
            hmacs.put(principal.clientId(), new Hmac(principal.secret()));
        }
        session.nonce = new byte[Protocol.NONCE_LENGTH];
        random.nextBytes(session.nonce);
        session.state = Session.CHALLENGED;
        send(session, encoder.wrap(egressBuffer, 0).challenge(session.id, session.correlationId, session.nonce));
    }

    private void open(final Session session, final long nowNs)
    {
        if (openSessions >= ctx.maxSessions())
        {
            counters.sessionLimit.increment();
            reject(session, ErrorCode.SESSION_LIMIT, "node has " + openSessions + " sessions, the maximum", nowNs);
            return;
        }
        session.state = Session.OPEN;
        session.lastIngressNs = nowNs;
        openSessions++;
        counters.sessionsOpened.increment();
        counters.sessionsActive.setRelease(openSessions);
        send(session, encoder.wrap(egressBuffer, 0).connected(session.id, session.correlationId,
            ctx.maxInFlightPerSession(), ctx.maxMessageLengthBytes(), ctx.sessionTimeoutNs(), ctx.memberId(),
            epoch()));
    }

    private void reject(final Session session, final ErrorCode code, final String detail, final long nowNs)
    {
        send(session, encoder.wrap(egressBuffer, 0).error(Protocol.REJECTED_CONNECT, session.id,
            session.correlationId, code, detail));
        closeQuietly(session, code, nowNs);
    }

    private void answerHealth(final Session session, final long nowNs)
    {
        counters.healthChecks.increment();
        final io.keel.journal.Journal journal = engine.journal();
        final int primary = gateway.primaryMemberId();
        send(session, encoder.wrap(egressBuffer, 0).healthResult(session.correlationId, ctx.memberId(),
            gateway.isPrimary() ? Protocol.ROLE_PRIMARY : Protocol.ROLE_STANDBY,
            epoch(), journal.committedPosition(),
            journal.durablePosition(), null == ctx.member(primary) ? -1 : primary,
            null != engine.failure() ? Protocol.HEALTH_FLAG_ENGINE_FAILED : 0));
        closeQuietly(session, ErrorCode.CLIENT_CLOSED, nowNs);
    }

    private long epoch()
    {
        return null == ctx.epochSupplier() ? io.keel.gateway.ops.NodeObservability.epochOf(engine) :
            ctx.epochSupplier().getAsLong();
    }

    private void closeQuietly(final Session session, final ErrorCode reason, final long nowNs)
    {
        if (session.watch)
        {
            endWatch(session);
        }
        session.state = Session.CLOSED;
        session.closedNs = nowNs;
        session.closeReason = reason;
    }

    private void close(final Session session, final ErrorCode reason, final boolean tellClient, final long nowNs)
    {
        if (session.state == Session.OPEN)
        {
            openSessions--;
            counters.sessionsClosed.increment();
            counters.sessionsActive.setRelease(openSessions);
        }
        if (tellClient && null != session.publication)
        {
            send(session, encoder.wrap(egressBuffer, 0).close(session.id, reason));
        }
        closeQuietly(session, reason, nowNs);
    }

    // --------------------------------------------------------------------------------------------- egress

    private void sendError(final Session session, final long correlationId, final ErrorCode code,
        final CharSequence detail)
    {
        send(session, encoder.wrap(egressBuffer, 0).error(Protocol.ERROR, session.id, correlationId, code,
            detail));
    }

    /**
     * Offer one message from the egress buffer, retrying a back-pressured publication a bounded number of times:
     * a slow client loses the message (counted; its retry fetches the answer again), it never stalls the others.
     */
    private boolean send(final Session session, final int length)
    {
        final ExclusivePublication publication = session.publication;
        if (null == publication)
        {
            return false;
        }
        for (int attempt = 0; attempt < GatewayContext.EGRESS_ATTEMPTS; attempt++)
        {
            final long result = publication.offer(egressBuffer, 0, length);
            if (result > 0)
            {
                return true;
            }
            if (result == Publication.NOT_CONNECTED || result == Publication.CLOSED ||
                result == Publication.MAX_POSITION_EXCEEDED)
            {
                break;
            }
        }
        counters.egressDropped.increment();
        return false;
    }
}
