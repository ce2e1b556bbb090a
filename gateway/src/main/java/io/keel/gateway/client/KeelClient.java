package io.keel.gateway.client;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.exceptions.RegistrationException;
import io.aeron.logbuffer.Header;
import io.keel.engine.Aggregate;
import io.keel.engine.Command;
import io.keel.engine.CommandCodecs;
import io.keel.engine.CommandOutcome;
import io.keel.engine.Engine;
import io.keel.gateway.DriverDirectories;
import io.keel.gateway.KeelNode;
import io.keel.gateway.Member;
import io.keel.gateway.protocol.ErrorCode;
import io.keel.gateway.protocol.Hmac;
import io.keel.gateway.protocol.MessageDecoder;
import io.keel.gateway.protocol.MessageEncoder;
import io.keel.gateway.protocol.Protocol;
import net.openhft.chronicle.bytes.Bytes;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.collections.IntArrayQueue;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A Keel client: connects to the primary of a member list over Aeron UDP, sends commands with a bounded window in
 * flight, retries them with the same command id (the engine applies each at most once) with exponential backoff and
 * jitter, follows redirects, and reconnects when a node restarts or goes silent.
 *
 * <pre>{@code
 * try (KeelClient client = KeelClient.connect(new KeelClient.Context()
 *     .members("0=127.0.0.1:9100").clientId(7).secret("s3cret-s3cret").commandCodecs(Ledger.domain().commands())))
 * {
 *     CommandOutcome outcome = client.submit(new OpenAccount().set(1, 100)).get();
 * }
 * }</pre>
 *
 * The client has its own duty cycle ({@link #doWork()}): futures complete only while it runs. By default
 * {@link #connect} starts it on its own thread; with {@link Context#ownThread(boolean) ownThread(false)} the caller
 * drives it with {@link #poll()} (lowest latency, no thread hand-off). Methods are thread-safe (one lock, held
 * briefly by the duty cycle); the callback path {@link #trySubmit} allocates nothing.
 */
public final class KeelClient implements Agent, AutoCloseable
{
    private static final int DISCONNECTED = 0;
    private static final int AWAIT_PUBLICATION = 1;
    private static final int AWAIT_CONNECT_ANSWER = 2;
    private static final int CONNECTED = 3;
    private static final int CLOSED = 4;
    private static final long TIMER_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long WATCH_RENEW_MAX_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long WATCH_RENEW_MIN_NS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long WATCH_REFUSED_MAX_NS = TimeUnit.SECONDS.toNanos(30);
    /** Watches opened on suspicion stay this long after the primary last seemed silent. */
    private static final long WATCH_LINGER_NS = TimeUnit.SECONDS.toNanos(1);

    private final Context ctx;
    private final MediaDriver driver;
    private final Aeron aeron;
    private final boolean ownsAeron;
    private final org.agrona.concurrent.AgentInvoker driverInvoker;
    private final org.agrona.concurrent.AgentInvoker conductorInvoker;
    private final Subscription egress;
    private final FragmentAssembler assembler;
    private final MessageDecoder decoder = new MessageDecoder();
    private final MessageEncoder encoder = new MessageEncoder();
    private final UnsafeBuffer sendBuffer;
    private final Response response = new Response();
    private final Pending[] slots;
    private final IntArrayQueue freeSlots;
    private final IntArrayQueue sendQueue;
    private final Long2ObjectHashMap<Pending> pendingByCommandId;
    private final Long2ObjectHashMap<PendingQuery> queries = new Long2ObjectHashMap<>();
    private final Hmac hmac;
    private final byte[] nonce = new byte[Protocol.NONCE_LENGTH];
    private final byte[] proof = new byte[Protocol.MAC_LENGTH];
    private final Bytes<Void> encodeBytes;
    private final UnsafeBuffer encodeView;
    private AgentRunner runner;
    private boolean released;
    private int state = DISCONNECTED;
    private int memberIndex;
    private int attemptsThisRound;
    private Member member;
    private long publicationRegistrationId = Aeron.NULL_VALUE;
    private ExclusivePublication publication;
    private String responseChannel;
    private long connectCorrelationId;
    private long sessionId;
    private long stateDeadlineNs;
    private long nextConnectAttemptNs;
    private long reconnectBackoffNs;
    private long lastReceivedNs;
    private long lastKeepAliveNs;
    private long nextTimerNs;
    private long nextCommandId;
    private long nextCorrelationId;
    private int connects;
    private int watchTakeovers;
    private int watchesOpened;
    private final Watch[] watches;
    private long watchRenewNs = WATCH_RENEW_MAX_NS;
    private boolean awaitingAnswer; // something was sent to the primary that it has not answered since
    private long awaitingSinceNs;   // when it was sent, or when the primary last spoke while more was in flight
    private long lastSuspectNs;
    private long sessionEpoch;
    private ErrorCode lastRejection;
    private String lastRejectionDetail;

    private KeelClient(final Context ctx)
    {
        this.ctx = ctx;
        MediaDriver mediaDriver = null;
        if (null != ctx.aeron)
        {
            aeron = ctx.aeron;
            ownsAeron = false;
        }
        else
        {
            String dir = ctx.aeronDirectoryName;
            if (null == dir)
            {
                final MediaDriver.Context driverContext = KeelNode.driverContext(
                    DriverDirectories.fresh("client"), ctx.idle);
                if (ctx.invokeDriver)
                {
                    driverContext.threadingMode(io.aeron.driver.ThreadingMode.INVOKER);
                }
                mediaDriver = MediaDriver.launch(driverContext);
                dir = mediaDriver.aeronDirectoryName();
            }
            try
            {
                aeron = Aeron.connect(KeelNode.clientContext(dir, ctx.invokeDriver ? mediaDriver : null));
            }
            catch (final RuntimeException ex)
            {
                CloseHelper.quietClose(mediaDriver);
                throw ex;
            }
            ownsAeron = true;
        }
        driver = mediaDriver;
        driverInvoker = null != mediaDriver ? mediaDriver.sharedAgentInvoker() : null;
        conductorInvoker = ownsAeron ? aeron.conductorAgentInvoker() : null;
        egress = aeron.addSubscription(ctx.egressChannel, ctx.egressStreamId);
        assembler = new FragmentAssembler(this::onFragment);
        sendBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(
            Protocol.COMMAND_PAYLOAD_OFFSET + ctx.maxCommandLengthBytes + Protocol.MAX_CHANNEL_LENGTH + 64));
        slots = new Pending[ctx.maxInFlight];
        freeSlots = new IntArrayQueue(ctx.maxInFlight, -1);
        sendQueue = new IntArrayQueue(ctx.maxInFlight, -1);
        pendingByCommandId = new Long2ObjectHashMap<>(ctx.maxInFlight * 4, 0.65f);
        for (int i = 0; i < slots.length; i++)
        {
            slots[i] = new Pending(i, ctx.maxCommandLengthBytes);
            freeSlots.addInt(i);
        }
        hmac = null == ctx.secret ? null : new Hmac(ctx.secret);
        encodeBytes = Bytes.allocateDirect(ctx.maxCommandLengthBytes);
        encodeView = new UnsafeBuffer(encodeBytes.addressForRead(0), ctx.maxCommandLengthBytes);
        nextCommandId = ctx.firstCommandId;
        nextCorrelationId = System.nanoTime() & 0xFFFF_FFFFL;
        reconnectBackoffNs = ctx.reconnectBackoffInitialNs;
        lastSuspectNs = System.nanoTime() - WATCH_LINGER_NS - 1; // never suspected yet
        watches = new Watch[ctx.watchStandbys ? ctx.members.size() : 0];
        for (int i = 0; i < watches.length; i++)
        {
            watches[i] = new Watch();
        }
    }

    /**
     * Start a client and wait until it has a session (at most {@link Context#connectTimeoutNs()}).
     *
     * @param ctx configuration; concluded here.
     * @return the connected client.
     * @throws AuthenticationException when the node refuses the credentials.
     * @throws IllegalStateException when no member answered in time.
     */
    public static KeelClient connect(final Context ctx)
    {
        final KeelClient client = new KeelClient(ctx.conclude());
        try
        {
            final long deadlineNs = System.nanoTime() + ctx.connectTimeoutNs;
            final IdleStrategy idle = ctx.idleStrategy();
            while (!client.isConnected())
            {
                idle.idle(client.doWork());
                if (null != client.lastRejection && (client.lastRejection == ErrorCode.UNAUTHENTICATED ||
                    client.lastRejection == ErrorCode.UNAUTHORIZED))
                {
                    throw new AuthenticationException(client.lastRejection + ": " + client.lastRejectionDetail);
                }
                if (System.nanoTime() > deadlineNs)
                {
                    throw new IllegalStateException("no member of " + ctx.members + " accepted a session within " +
                        TimeUnit.NANOSECONDS.toMillis(ctx.connectTimeoutNs) + " ms" +
                        (null != client.lastRejection ? " (last refusal: " + client.lastRejection + " " +
                        client.lastRejectionDetail + ")" : ""));
                }
            }
            if (ctx.ownThread)
            {
                client.runner = new AgentRunner(ctx.idleStrategy(), Throwable::printStackTrace, null, client);
                AgentRunner.startOnThread(client.runner);
            }
            return client;
        }
        catch (final RuntimeException ex)
        {
            client.close();
            throw ex;
        }
    }

    /** @return true while the client has an open session. */
    public synchronized boolean isConnected()
    {
        return state == CONNECTED;
    }

    /** @return the current session id, 0 when not connected. */
    public synchronized long sessionId()
    {
        return state == CONNECTED ? sessionId : 0;
    }

    /** @return the member the client is connected (or connecting) to. */
    public synchronized Member member()
    {
        return member;
    }

    /** @return sessions opened so far (1 after connect; more after reconnects). */
    public synchronized int connects()
    {
        return connects;
    }

    /**
     * @return sessions that began with a watched member answering this client's WATCH when it became the primary
     * (a takeover learnt without waiting for the liveness timeout).
     */
    public synchronized int watchTakeovers()
    {
        return watchTakeovers;
    }

    /**
     * @return watches this client has opened on other members so far (while its primary seemed silent, or all the
     * time with {@code watchWhenSilentNs(0)}).
     */
    public synchronized int watchesOpened()
    {
        return watchesOpened;
    }

    /** @return commands in flight. */
    public synchronized int inFlight()
    {
        return pendingByCommandId.size();
    }

    /** @return the client id. */
    public long clientId()
    {
        return ctx.clientId;
    }

    /**
     * @return a fresh command id. Ids start from a time-based base ({@link Context#firstCommandId(long)}) so a
     * restarted client with the same client id does not collide with its previous run's ids.
     */
    public synchronized long nextCommandId()
    {
        return nextCommandId++;
    }

    // ---------------------------------------------------------------------------------------------- submit

    /**
     * Send a command without allocating. Returns false, queuing nothing, when the window is full: run the duty
     * cycle and try again.
     *
     * @param commandId        unique per client id: a retry of the same command must reuse it.
     * @param commandType      command type id.
     * @param buffer           encoded command.
     * @param offset           in buffer.
     * @param length           bytes.
     * @param expectedStreamId stream whose version is checked (0 = none).
     * @param expectedVersion  expected version or {@link Engine#ANY_VERSION}.
     * @param listener         told the answer once.
     * @return true when taken.
     */
    public synchronized boolean trySubmit(final long commandId, final int commandType, final DirectBuffer buffer,
        final int offset, final int length, final long expectedStreamId, final long expectedVersion,
        final ResponseListener listener)
    {
        if (length > ctx.maxCommandLengthBytes)
        {
            throw new IllegalArgumentException("command of " + length + " bytes exceeds maxCommandLengthBytes " +
                ctx.maxCommandLengthBytes);
        }
        if (state == CLOSED || freeSlots.isEmpty() || pendingByCommandId.containsKey(commandId))
        {
            return false;
        }
        final Pending pending = slots[freeSlots.pollInt()];
        pending.init(commandId, commandType, buffer, offset, length, expectedStreamId, expectedVersion, listener,
            null, System.nanoTime(), ctx.commandTimeoutNs);
        pendingByCommandId.put(commandId, pending);
        if (state == CONNECTED)
        {
            send(pending, pending.submittedNs);
        }
        else
        {
            enqueue(pending);
        }
        return true;
    }

    /**
     * Encode and send a command without allocating (its type must be in {@link Context#commandCodecs}).
     *
     * @param commandId the command id.
     * @param command   the command; may be reused as soon as this returns.
     * @param listener  told the answer once.
     * @return true when taken; false when the window is full.
     */
    public synchronized boolean trySubmit(final long commandId, final Command command, final ResponseListener listener)
    {
        final int length = encode(command);
        return trySubmit(commandId, ctx.commandCodecs.typeIdOf(command), encodeView, 0, length, 0,
            Engine.ANY_VERSION, listener);
    }

    /**
     * Send a command and get its answer as a future (allocates). The future fails with
     * {@link CommandFailedException} on timeout or refusal, or at once when the window is full (code BUSY).
     *
     * @param command the command; its type must be in {@link Context#commandCodecs}.
     * @return the answer.
     */
    public CompletableFuture<CommandOutcome> submit(final Command command)
    {
        return submit(nextCommandId(), command, 0, Engine.ANY_VERSION);
    }

    /**
     * Send a command that expects a stream version, and get its answer as a future.
     *
     * @param commandId        unique per client id; reuse it to retry by hand.
     * @param command          the command.
     * @param expectedStreamId stream whose version is checked (0 = none).
     * @param expectedVersion  its expected version or {@link Engine#ANY_VERSION}.
     * @return the answer.
     */
    public synchronized CompletableFuture<CommandOutcome> submit(final long commandId, final Command command,
        final long expectedStreamId, final long expectedVersion)
    {
        final CompletableFuture<CommandOutcome> future = new CompletableFuture<>();
        final int length = encode(command);
        if (state == CLOSED || freeSlots.isEmpty() || pendingByCommandId.containsKey(commandId))
        {
            future.completeExceptionally(new CommandFailedException(commandId,
                state == CLOSED ? ErrorCode.CLIENT_CLOSED : ErrorCode.BUSY, false));
            return future;
        }
        final Pending pending = slots[freeSlots.pollInt()];
        pending.init(commandId, ctx.commandCodecs.typeIdOf(command), encodeView, 0, length, expectedStreamId,
            expectedVersion, null, future, System.nanoTime(), ctx.commandTimeoutNs);
        pendingByCommandId.put(commandId, pending);
        if (state == CONNECTED)
        {
            send(pending, pending.submittedNs);
        }
        else
        {
            enqueue(pending);
        }
        return future;
    }

    /**
     * Read an aggregate's current state (allocates; the principal needs the {@code query} permission).
     *
     * @param streamId the aggregate's stream.
     * @param into     an empty aggregate to read into.
     * @param <A>      aggregate type.
     * @return the aggregate, or null when the stream has no events.
     */
    public <A extends Aggregate> CompletableFuture<A> query(final long streamId, final A into)
    {
        return queryBytes(streamId).thenApply(bytes ->
        {
            if (null == bytes)
            {
                return null;
            }
            into.readMarshallable(Bytes.wrapForRead(bytes));
            return into;
        });
    }

    /**
     * @param streamId the aggregate's stream.
     * @return its encoded state, or null when the stream has no events.
     */
    public synchronized CompletableFuture<byte[]> queryBytes(final long streamId)
    {
        final PendingQuery query = new PendingQuery(nextCorrelationId++, streamId, System.nanoTime() +
            ctx.commandTimeoutNs);
        queries.put(query.correlationId, query);
        if (state == CONNECTED)
        {
            sendQuery(query);
        }
        return query.future;
    }

    private int encode(final Command command)
    {
        encodeBytes.clear();
        command.writeMarshallable(encodeBytes);
        return (int)encodeBytes.writePosition();
    }

    // ----------------------------------------------------------------------------------------- duty cycle

    /**
     * Run one duty cycle on the caller's thread (when the client has no thread of its own).
     *
     * @return work done.
     */
    public int poll()
    {
        return doWork();
    }

    @Override
    public String roleName()
    {
        return "keel-client-" + ctx.clientId;
    }

    @Override
    public synchronized int doWork()
    {
        if (state == CLOSED)
        {
            return 0;
        }
        if (aeron.isClosed())
        {
            // its driver timed out (or a shared Aeron was closed under it): nothing can be sent or received again,
            // so fail what is in flight and stop, instead of failing every duty cycle
            state = CLOSED;
            failEverything();
            if (null != runner)
            {
                throw new AgentTerminationException("Aeron client closed: keel client stops");
            }
            return 0;
        }
        int work = 0;
        if (null != driverInvoker)
        {
            work += driverInvoker.invoke();
        }
        if (null != conductorInvoker)
        {
            work += conductorInvoker.invoke();
        }
        final long nowNs = System.nanoTime();
        work += egress.poll(assembler, 64);
        switch (state)
        {
            case DISCONNECTED:
                if (nowNs >= nextConnectAttemptNs)
                {
                    startConnect(nowNs);
                    work++;
                }
                break;
            case AWAIT_PUBLICATION:
                work += awaitPublication(nowNs);
                break;
            case AWAIT_CONNECT_ANSWER:
                if (nowNs > stateDeadlineNs)
                {
                    nextMember(nowNs);
                    work++;
                }
                break;
            case CONNECTED:
                work += sendQueued(nowNs);
                if (nowNs - lastKeepAliveNs >= ctx.keepAliveIntervalNs)
                {
                    lastKeepAliveNs = nowNs;
                    if (offer(encoder.wrap(sendBuffer, 0).keepAlive(sessionId, nowNs)))
                    {
                        awaiting(nowNs);
                    }
                }
                if (nowNs - lastReceivedNs > ctx.livenessTimeoutNs)
                {
                    disconnect(nowNs, false);
                    work++;
                }
                break;
            default:
                break;
        }
        if (nowNs >= nextTimerNs)
        {
            nextTimerNs = nowNs + TIMER_INTERVAL_NS;
            work += timers(nowNs);
            work += tendWatches(nowNs);
        }
        return work;
    }

    private void startConnect(final long nowNs)
    {
        member = ctx.members.get(memberIndex);
        closePublication();
        final String channel = "aeron:udp?endpoint=" + member.clientEndpoint() + "|term-length=" +
            ctx.ingressTermLengthBytes;
        publicationRegistrationId = aeron.asyncAddExclusivePublication(channel, ctx.ingressStreamId);
        state = AWAIT_PUBLICATION;
        stateDeadlineNs = nowNs + ctx.memberConnectTimeoutNs;
    }

    private int awaitPublication(final long nowNs)
    {
        if (null == publication)
        {
            try
            {
                publication = aeron.getExclusivePublication(publicationRegistrationId);
            }
            catch (final RegistrationException ex)
            {
                publicationRegistrationId = Aeron.NULL_VALUE;
                nextMember(nowNs);
                return 1;
            }
        }
        if (null == responseChannel)
        {
            responseChannel = egress.tryResolveChannelEndpointPort();
        }
        if (null != publication && publication.isConnected() && null != responseChannel)
        {
            connectCorrelationId = nextCorrelationId++;
            if (offer(encoder.wrap(sendBuffer, 0).connect(connectCorrelationId, ctx.clientId, ctx.egressStreamId,
                responseChannel)))
            {
                state = AWAIT_CONNECT_ANSWER;
                stateDeadlineNs = nowNs + ctx.memberConnectTimeoutNs;
                return 1;
            }
        }
        if (nowNs > stateDeadlineNs)
        {
            nextMember(nowNs);
            return 1;
        }
        return 0;
    }

    private void nextMember(final long nowNs)
    {
        closePublication();
        state = DISCONNECTED;
        memberIndex = (memberIndex + 1) % ctx.members.size();
        attemptsThisRound++;
        if (attemptsThisRound >= ctx.members.size())
        {
            attemptsThisRound = 0;
            nextConnectAttemptNs = nowNs + jitter(reconnectBackoffNs);
            reconnectBackoffNs = Math.min(ctx.reconnectBackoffMaxNs, reconnectBackoffNs * 2);
        }
        else
        {
            nextConnectAttemptNs = nowNs;
        }
    }

    private void disconnect(final long nowNs, final boolean sameMemberFirst)
    {
        state = DISCONNECTED;
        sessionId = 0;
        closePublication();
        if (!sameMemberFirst)
        {
            memberIndex = (memberIndex + 1) % ctx.members.size();
        }
        attemptsThisRound = 0;
        nextConnectAttemptNs = nowNs;
        unqueueAll();
    }

    /** Nothing stays queued for a session that is gone: {@link #onConnected} queues what is in flight again. */
    private void unqueueAll()
    {
        for (final Pending pending : slots)
        {
            if (pending.inUse)
            {
                pending.queued = false;
            }
        }
        sendQueue.clear();
    }

    private void closePublication()
    {
        if (Aeron.NULL_VALUE != publicationRegistrationId)
        {
            aeron.asyncRemovePublication(publicationRegistrationId);
            publicationRegistrationId = Aeron.NULL_VALUE;
        }
        publication = null;
    }

    private void onConnected(final long nowNs)
    {
        for (final Watch watch : watches)
        {
            watch.refusals = 0; // a new session: every member is asked again at once
            watch.retryAfterNs = 0;
        }
        state = CONNECTED;
        awaitingAnswer = false;
        connects++;
        lastReceivedNs = nowNs;
        lastKeepAliveNs = nowNs;
        attemptsThisRound = 0;
        reconnectBackoffNs = ctx.reconnectBackoffInitialNs;
        lastRejection = null;
        for (final Pending pending : slots)
        {
            if (pending.inUse && !pending.waitingBackoff)
            {
                enqueue(pending);
            }
        }
        for (final PendingQuery query : queries.values())
        {
            sendQuery(query);
        }
    }

    private int sendQueued(final long nowNs)
    {
        int sent = 0;
        while (!sendQueue.isEmpty())
        {
            final Pending pending = slots[sendQueue.peekInt()];
            if (!pending.inUse || !pending.queued)
            {
                sendQueue.pollInt();
                continue;
            }
            if (!send(pending, nowNs))
            {
                break;
            }
            sendQueue.pollInt();
            sent++;
        }
        return sent;
    }

    private void enqueue(final Pending pending)
    {
        if (!pending.queued)
        {
            pending.queued = true;
            sendQueue.addInt(pending.index);
        }
    }

    private boolean send(final Pending pending, final long nowNs)
    {
        final int length = encoder.wrap(sendBuffer, 0).command(sessionId, pending.commandId, pending.commandType,
            pending.expectedStreamId, pending.expectedVersion, pending.payload, 0, pending.payloadLength);
        if (offer(length))
        {
            awaiting(nowNs);
            pending.queued = false;
            pending.waitingBackoff = false;
            pending.sends++;
            pending.lastSentNs = nowNs;
            return true;
        }
        enqueue(pending);
        return false;
    }

    private void sendQuery(final PendingQuery query)
    {
        offer(encoder.wrap(sendBuffer, 0).query(sessionId, query.correlationId, query.streamId));
    }

    /**
     * Something was sent to the primary: if nothing else was awaiting an answer, the clock starts now. Only tracked
     * when watches open on silence (with watches always open the send path does nothing more).
     */
    private void awaiting(final long nowNs)
    {
        if (!awaitingAnswer && 0 != ctx.watchWhenSilentNs)
        {
            awaitingAnswer = true;
            awaitingSinceNs = nowNs;
        }
    }

    private boolean offer(final int length)
    {
        return null != publication && publication.offer(sendBuffer, 0, length) > 0;
    }

    private int timers(final long nowNs)
    {
        int work = 0;
        for (final Pending pending : slots)
        {
            if (!pending.inUse)
            {
                continue;
            }
            if (nowNs >= pending.deadlineNs)
            {
                fail(pending, ErrorCode.TIMED_OUT, pending.sends > pending.refusals);
                work++;
            }
            else if (state == CONNECTED && !pending.queued)
            {
                if (pending.waitingBackoff ? nowNs >= pending.nextSendNs :
                    pending.sends > 0 && nowNs - pending.lastSentNs >= ctx.attemptTimeoutNs)
                {
                    if (pending.sends >= ctx.maxAttempts)
                    {
                        fail(pending, ErrorCode.TIMED_OUT, pending.sends > pending.refusals);
                    }
                    else
                    {
                        send(pending, nowNs);
                    }
                    work++;
                }
            }
        }
        if (!queries.isEmpty())
        {
            final var iterator = queries.values().iterator();
            while (iterator.hasNext())
            {
                final PendingQuery query = iterator.next();
                if (nowNs >= query.deadlineNs)
                {
                    iterator.remove();
                    query.future.completeExceptionally(new CommandFailedException(query.correlationId,
                        ErrorCode.TIMED_OUT, false));
                }
            }
        }
        return work;
    }

    private void backoff(final Pending pending, final long nowNs)
    {
        pending.refusals++;
        if (pending.sends >= ctx.maxAttempts)
        {
            fail(pending, ErrorCode.BUSY, pending.sends > pending.refusals);
            return;
        }
        final long delayNs = Math.min(ctx.retryBackoffMaxNs, ctx.retryBackoffInitialNs << Math.min(20, pending.sends));
        pending.waitingBackoff = true;
        pending.nextSendNs = nowNs + jitter(delayNs);
    }

    /**
     * The primary had no standby: the command may have been journaled (its outcome is unknown), so retry it later
     * with the same id; when attempts run out it fails with NO_STANDBY and outcome unknown.
     */
    private void awaitStandby(final Pending pending, final long nowNs)
    {
        if (pending.sends >= ctx.maxAttempts)
        {
            fail(pending, ErrorCode.NO_STANDBY, true);
            return;
        }
        final long delayNs = Math.min(ctx.retryBackoffMaxNs, ctx.retryBackoffInitialNs << Math.min(20, pending.sends));
        pending.waitingBackoff = true;
        pending.nextSendNs = nowNs + jitter(delayNs);
    }

    private static long jitter(final long delayNs)
    {
        return delayNs / 2 + ThreadLocalRandom.current().nextLong(Math.max(1, delayNs / 2 + 1));
    }

    private void complete(final Pending pending)
    {
        pendingByCommandId.remove(pending.commandId);
        pending.inUse = false;
        pending.queued = false;
        freeSlots.addInt(pending.index);
    }

    private void fail(final Pending pending, final ErrorCode code, final boolean outcomeUnknown)
    {
        final ResponseListener listener = pending.listener;
        final CompletableFuture<CommandOutcome> future = pending.future;
        final long commandId = pending.commandId;
        complete(pending);
        if (null != listener)
        {
            listener.onFailure(commandId, code, outcomeUnknown);
        }
        else if (null != future)
        {
            future.completeExceptionally(new CommandFailedException(commandId, code, outcomeUnknown));
        }
    }

    // ---------------------------------------------------------------------------------------------- egress

    private void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (ErrorCode.OK != decoder.wrap(buffer, offset, length, Protocol.MAX_MESSAGE_LENGTH_LIMIT))
        {
            return;
        }
        final long nowNs = System.nanoTime();
        final int type = decoder.type();
        if (watches.length > 0 && onWatchAnswer(type, nowNs))
        {
            return;
        }
        if (state == AWAIT_CONNECT_ANSWER)
        {
            onConnectAnswer(type, nowNs);
            return;
        }
        if (state != CONNECTED || decoder.sessionId() != sessionId)
        {
            return;
        }
        lastReceivedNs = nowNs;
        switch (type)
        {
            case Protocol.RESPONSE:
            {
                final Pending pending = pendingByCommandId.get(decoder.commandId());
                if (null != pending)
                {
                    final ResponseListener listener = pending.listener;
                    final CompletableFuture<CommandOutcome> future = pending.future;
                    complete(pending);
                    if (null != listener)
                    {
                        listener.onResponse(response.wrap(decoder));
                    }
                    else if (null != future)
                    {
                        future.complete(response.wrap(decoder).toOutcome());
                    }
                }
                break;
            }
            case Protocol.ERROR:
                onError(nowNs);
                break;
            case Protocol.QUERY_RESULT:
            {
                final PendingQuery query = queries.remove(decoder.correlationId());
                if (null != query)
                {
                    final byte[] state = decoder.found() ? new byte[decoder.stateLength()] : null;
                    if (null != state)
                    {
                        decoder.buffer().getBytes(decoder.stateOffset(), state);
                    }
                    query.future.complete(state);
                }
                break;
            }
            case Protocol.CLOSE:
                disconnect(nowNs, ErrorCode.of(decoder.errorCode()) != ErrorCode.SHUTTING_DOWN);
                break;
            default:
                break;
        }
        if (awaitingAnswer)
        {
            // the primary spoke: what is still in flight waits from now
            awaitingSinceNs = nowNs;
            awaitingAnswer = state == CONNECTED && freeSlots.size() < slots.length;
        }
    }

    private void onError(final long nowNs)
    {
        final ErrorCode code = ErrorCode.of(decoder.errorCode());
        final long correlationId = decoder.correlationId();
        final Pending pending = pendingByCommandId.get(correlationId);
        if (null == pending)
        {
            final PendingQuery query = queries.get(correlationId);
            // RING_FULL/BUSY: sent again later; NOT_PRIMARY/UNKNOWN_SESSION: the client reconnects below (following
            // the redirect) and resends every pending query; the query's own deadline still applies
            if (null != query && code != ErrorCode.RING_FULL && code != ErrorCode.BUSY &&
                code != ErrorCode.NOT_PRIMARY && code != ErrorCode.UNKNOWN_SESSION)
            {
                queries.remove(correlationId);
                query.future.completeExceptionally(new CommandFailedException(correlationId, code, false));
            }
            if (code == ErrorCode.UNKNOWN_SESSION || code == ErrorCode.NOT_PRIMARY)
            {
                disconnect(nowNs, false);
            }
            return;
        }
        if (null == code)
        {
            fail(pending, ErrorCode.MALFORMED, pending.sends > pending.refusals + 1);
            return;
        }
        switch (code)
        {
            case BUSY:
            case RING_FULL:
                backoff(pending, nowNs);
                break;
            case NO_STANDBY:
                awaitStandby(pending, nowNs);
                break;
            case UNKNOWN_SESSION:
            case NOT_PRIMARY:
            case SHUTTING_DOWN:
            case ENGINE_CLOSED:
                disconnect(nowNs, false);
                break;
            default:
                pending.refusals++;
                fail(pending, code, pending.sends > pending.refusals);
                break;
        }
    }

    private void onConnectAnswer(final int type, final long nowNs)
    {
        if (decoder.correlationId() != connectCorrelationId)
        {
            return;
        }
        switch (type)
        {
            case Protocol.CHALLENGE:
                if (null == hmac)
                {
                    lastRejection = ErrorCode.UNAUTHENTICATED;
                    lastRejectionDetail = "the node asks for credentials: set a secret";
                    nextMember(nowNs);
                    return;
                }
                sessionId = decoder.sessionId();
                offer(challengeReply(sessionId, connectCorrelationId));
                break;
            case Protocol.CONNECTED:
                sessionId = decoder.sessionId();
                sessionEpoch = decoder.connectedEpoch();
                watchRenewNs = Math.max(WATCH_RENEW_MIN_NS, Math.min(WATCH_RENEW_MAX_NS, decoder.sessionTimeoutNs() / 4));
                onConnected(nowNs);
                break;
            case Protocol.REDIRECT:
            {
                final int primaryId = decoder.memberId();
                for (int i = 0; i < ctx.members.size(); i++)
                {
                    if (ctx.members.get(i).id() == primaryId)
                    {
                        closePublication();
                        memberIndex = i;
                        state = DISCONNECTED;
                        nextConnectAttemptNs = nowNs;
                        return;
                    }
                }
                nextMember(nowNs);
                break;
            }
            case Protocol.REJECTED_CONNECT:
                lastRejection = ErrorCode.of(decoder.errorCode());
                lastRejectionDetail = decoder.detail();
                nextMember(nowNs);
                break;
            default:
                break;
        }
    }

    // ------------------------------------------------------------------------------------------------ watches

    /**
     * Keeps a WATCH open on every member but the one this client talks to: a standby that becomes the primary
     * answers it at once (CONNECTED, or CHALLENGE when it authenticates), so the client follows a failover as soon
     * as it happens instead of after its liveness timeout.
     * <p>
     * A watch costs the client a publication its driver polls on every duty cycle. With
     * {@link Context#watchWhenSilentNs} above 0 the watches open only once the primary has left something
     * unanswered that long (inside a pair's failure timeout, so the watch is in place before a standby can take
     * over) and close one second after it last seemed silent; with 0 (the default) they stay open. New watches
     * start only while connected; a member that refuses one (an older node, a full session table) is asked again
     * later.
     */
    private int tendWatches(final long nowNs)
    {
        if (state == CONNECTED && awaitingAnswer && nowNs - awaitingSinceNs > ctx.watchWhenSilentNs)
        {
            lastSuspectNs = nowNs;
        }
        final boolean watching = 0 == ctx.watchWhenSilentNs || nowNs - lastSuspectNs <= WATCH_LINGER_NS;
        int work = 0;
        for (int i = 0; i < watches.length; i++)
        {
            final Watch watch = watches[i];
            if (!watching)
            {
                if (Aeron.NULL_VALUE != watch.registrationId)
                {
                    dropWatch(watch, nowNs);
                    watch.retryAfterNs = 0; // not refused: the next suspicion opens it at once
                    work++;
                }
                continue;
            }
            if (i == memberIndex)
            {
                if (Aeron.NULL_VALUE != watch.registrationId)
                {
                    dropWatch(watch, nowNs); // the member this client connects to needs no watch
                    work++;
                }
                continue;
            }
            if (Aeron.NULL_VALUE == watch.registrationId)
            {
                if (state == CONNECTED && null != responseChannel && nowNs >= watch.retryAfterNs)
                {
                    watch.registrationId = aeron.asyncAddExclusivePublication("aeron:udp?endpoint=" +
                        ctx.members.get(i).clientEndpoint() + "|term-length=" + ctx.ingressTermLengthBytes,
                        ctx.ingressStreamId);
                    watch.correlationId = nextCorrelationId++;
                    watch.nextSendNs = nowNs;
                    watchesOpened++;
                    work++;
                }
                continue;
            }
            if (null == watch.publication)
            {
                try
                {
                    watch.publication = aeron.getExclusivePublication(watch.registrationId);
                }
                catch (final RegistrationException ex)
                {
                    watch.registrationId = Aeron.NULL_VALUE;
                    watch.retryAfterNs = nowNs + watchRenewNs;
                    continue;
                }
            }
            if (null != watch.publication && nowNs >= watch.nextSendNs && watch.publication.isConnected())
            {
                final int length = encoder.wrap(sendBuffer, 0).watch(watch.correlationId, ctx.clientId,
                    ctx.egressStreamId, responseChannel);
                if (watch.publication.offer(sendBuffer, 0, length) > 0)
                {
                    watch.nextSendNs = nowNs + watchRenewNs;
                    work++;
                }
            }
        }
        return work;
    }

    /**
     * @return true when the message answered one of this client's watches (and was handled here).
     */
    private boolean onWatchAnswer(final int type, final long nowNs)
    {
        if (type != Protocol.CONNECTED && type != Protocol.CHALLENGE && type != Protocol.REDIRECT &&
            type != Protocol.REJECTED_CONNECT)
        {
            return false;
        }
        final long correlationId = decoder.correlationId();
        for (int i = 0; i < watches.length; i++)
        {
            final Watch watch = watches[i];
            if (Aeron.NULL_VALUE == watch.registrationId || watch.correlationId != correlationId ||
                null == watch.publication)
            {
                continue;
            }
            if (type == Protocol.REDIRECT || type == Protocol.REJECTED_CONNECT)
            {
                refuseWatch(watch, nowNs);
                return true;
            }
            if (type == Protocol.CHALLENGE)
            {
                if (null == hmac)
                {
                    dropWatch(watch, nowNs); // the connect path reports the missing secret
                    return true;
                }
                // lost: the member's challenge times out, and the watch is asked again
                watch.publication.offer(sendBuffer, 0, challengeReply(decoder.sessionId(), correlationId));
                return true;
            }
            final long epoch = decoder.connectedEpoch();
            if (state == CONNECTED && epoch <= sessionEpoch)
            {
                // a takeover always brings a higher epoch: this is a primary of an older one (an async pair split by
                // a cut link) or one that does not know its epoch yet (a node just restarting): stay
                final int length = encoder.wrap(sendBuffer, 0).close(decoder.sessionId(), ErrorCode.CLIENT_CLOSED);
                watch.publication.offer(sendBuffer, 0, length);
                refuseWatch(watch, nowNs);
                return true;
            }
            // that member is the primary now: its session replaces whatever this client had or was opening
            if (state == CONNECTED)
            {
                offer(encoder.wrap(sendBuffer, 0).close(sessionId, ErrorCode.CLIENT_CLOSED));
            }
            closePublication();
            publication = watch.publication;
            publicationRegistrationId = watch.registrationId;
            watch.publication = null;
            watch.registrationId = Aeron.NULL_VALUE;
            memberIndex = i;
            member = ctx.members.get(i);
            connectCorrelationId = correlationId;
            attemptsThisRound = 0;
            unqueueAll();
            state = AWAIT_CONNECT_ANSWER;
            watchTakeovers++;
            onConnectAnswer(type, nowNs);
            return true;
        }
        return false;
    }

    /** @return length of the CHALLENGE_REPLY for the challenge being decoded, written into the send buffer. */
    private int challengeReply(final long challengedSessionId, final long correlationId)
    {
        decoder.buffer().getBytes(decoder.nonceOffset(), nonce);
        hmac.sign(nonce, ctx.clientId, challengedSessionId, proof);
        return encoder.wrap(sendBuffer, 0).challengeReply(challengedSessionId, correlationId, proof);
    }

    private void dropWatch(final Watch watch, final long nowNs)
    {
        if (Aeron.NULL_VALUE != watch.registrationId)
        {
            aeron.asyncRemovePublication(watch.registrationId);
        }
        watch.registrationId = Aeron.NULL_VALUE;
        watch.publication = null;
        watch.retryAfterNs = nowNs + watchRenewNs;
    }

    /**
     * The member refused the watch, or answered as a primary this client will not follow (an older epoch): asked
     * again after a delay that doubles each time (up to {@link #WATCH_REFUSED_MAX_NS}) until this client has a new
     * session, so a refusal that lasts (a split async pair, an older node) costs little.
     */
    private void refuseWatch(final Watch watch, final long nowNs)
    {
        dropWatch(watch, nowNs);
        watch.refusals = Math.min(watch.refusals + 1, 16);
        watch.retryAfterNs = nowNs + Math.min(WATCH_REFUSED_MAX_NS, watchRenewNs << Math.min(watch.refusals, 16));
    }

    // ------------------------------------------------------------------------------------------------ close

    /**
     * Close the session (telling the node), fail what is still in flight ({@link ErrorCode#CLIENT_CLOSED}, outcome
     * unknown when sent), and release Aeron resources.
     */
    @Override
    public void close()
    {
        if (null != runner)
        {
            CloseHelper.quietClose(runner);
        }
        synchronized (this)
        {
            if (released)
            {
                return;
            }
            released = true;
            if (state == CONNECTED)
            {
                offer(encoder.wrap(sendBuffer, 0).close(sessionId, ErrorCode.CLIENT_CLOSED));
            }
            state = CLOSED; // it may be already: the duty cycle stops by itself when its Aeron client was closed
            failEverything();
        }
        if (ownsAeron)
        {
            if (null != driverInvoker && !aeron.isClosed())
            {
                // no driver thread: run it briefly so the CLOSE message leaves before the driver stops
                final long endNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
                while (System.nanoTime() - endNs < 0)
                {
                    driverInvoker.invoke();
                    Thread.yield();
                }
            }
            CloseHelper.quietCloseAll(aeron, driver);
        }
        else if (!aeron.isClosed())
        {
            closePublication();
            for (final Watch watch : watches)
            {
                dropWatch(watch, 0);
            }
            CloseHelper.quietClose(egress);
        }
    }

    /** Fail every command (outcome unknown when sent) and query in flight with {@link ErrorCode#CLIENT_CLOSED}. */
    private void failEverything()
    {
        for (final Pending pending : slots)
        {
            if (pending.inUse)
            {
                fail(pending, ErrorCode.CLIENT_CLOSED, pending.sends > pending.refusals);
            }
        }
        for (final PendingQuery query : queries.values())
        {
            query.future.completeExceptionally(new CommandFailedException(query.correlationId,
                ErrorCode.CLIENT_CLOSED, false));
        }
        queries.clear();
    }

    /** A WATCH held open on another member. */
    private static final class Watch
    {
        long registrationId = Aeron.NULL_VALUE;
        ExclusivePublication publication;
        long correlationId;
        long nextSendNs;
        long retryAfterNs;
        int refusals;
    }

    /** One command in flight. */
    private static final class Pending
    {
        final int index;
        final UnsafeBuffer payload;
        boolean inUse;
        boolean queued;
        boolean waitingBackoff;
        long commandId;
        int commandType;
        int payloadLength;
        long expectedStreamId;
        long expectedVersion;
        ResponseListener listener;
        CompletableFuture<CommandOutcome> future;
        long submittedNs;
        long deadlineNs;
        long lastSentNs;
        long nextSendNs;
        int sends;
        int refusals;

        Pending(final int index, final int capacity)
        {
            this.index = index;
            this.payload = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(1, capacity)));
        }

        void init(final long commandId, final int commandType, final DirectBuffer buffer, final int offset,
            final int length, final long expectedStreamId, final long expectedVersion,
            final ResponseListener listener, final CompletableFuture<CommandOutcome> future, final long nowNs,
            final long timeoutNs)
        {
            this.inUse = true;
            this.queued = false;
            this.waitingBackoff = false;
            this.commandId = commandId;
            this.commandType = commandType;
            this.payloadLength = length;
            if (length > 0)
            {
                payload.putBytes(0, buffer, offset, length);
            }
            this.expectedStreamId = expectedStreamId;
            this.expectedVersion = expectedVersion;
            this.listener = listener;
            this.future = future;
            this.submittedNs = nowNs;
            this.deadlineNs = nowNs + timeoutNs;
            this.lastSentNs = 0;
            this.nextSendNs = 0;
            this.sends = 0;
            this.refusals = 0;
        }
    }

    /** One query in flight. */
    private static final class PendingQuery
    {
        final long correlationId;
        final long streamId;
        final long deadlineNs;
        final CompletableFuture<byte[]> future = new CompletableFuture<>();

        PendingQuery(final long correlationId, final long streamId, final long deadlineNs)
        {
            this.correlationId = correlationId;
            this.streamId = streamId;
            this.deadlineNs = deadlineNs;
        }
    }

    /**
     * Configuration of a {@link KeelClient}; {@link #conclude()} validates it.
     */
    public static final class Context
    {
        /** Default stream id the client receives answers on. */
        public static final int EGRESS_STREAM_ID_DEFAULT = 102;
        /** Largest in-flight window. */
        public static final int MAX_IN_FLIGHT_LIMIT = 1 << 16;

        private List<Member> members;
        private long clientId;
        private byte[] secret;
        private String aeronDirectoryName;
        private Aeron aeron;
        private String egressChannel = "aeron:udp?endpoint=127.0.0.1:0";
        private int egressStreamId = EGRESS_STREAM_ID_DEFAULT;
        private int ingressStreamId = 101;
        private int ingressTermLengthBytes = 1 << 20;
        private int maxInFlight = 256;
        private int maxCommandLengthBytes = 512;
        private CommandCodecs commandCodecs;
        private long commandTimeoutNs = TimeUnit.SECONDS.toNanos(10);
        private long attemptTimeoutNs = TimeUnit.SECONDS.toNanos(1);
        private int maxAttempts = 16;
        private long retryBackoffInitialNs = TimeUnit.MILLISECONDS.toNanos(1);
        private long retryBackoffMaxNs = TimeUnit.MILLISECONDS.toNanos(200);
        private long connectTimeoutNs = TimeUnit.SECONDS.toNanos(10);
        private long memberConnectTimeoutNs = TimeUnit.SECONDS.toNanos(2);
        private long reconnectBackoffInitialNs = TimeUnit.MILLISECONDS.toNanos(50);
        private long reconnectBackoffMaxNs = TimeUnit.SECONDS.toNanos(1);
        private long keepAliveIntervalNs = TimeUnit.MILLISECONDS.toNanos(200);
        private long livenessTimeoutNs = TimeUnit.MILLISECONDS.toNanos(1500);
        private long firstCommandId = System.currentTimeMillis() << 20;
        private String idle = "yield";
        private boolean ownThread = true;
        private boolean invokeDriver = true;
        private boolean watchStandbys = true;
        private long watchWhenSilentNs = 0;

        Context conclude()
        {
            if (null == members || members.isEmpty())
            {
                throw new IllegalArgumentException("members must be set");
            }
            if (clientId <= 0)
            {
                throw new IllegalArgumentException("clientId = " + clientId + " must be > 0");
            }
            if (maxInFlight < 1 || maxInFlight > MAX_IN_FLIGHT_LIMIT)
            {
                throw new IllegalArgumentException("maxInFlight = " + maxInFlight + " must be in [1, " +
                    MAX_IN_FLIGHT_LIMIT + "]");
            }
            if (maxCommandLengthBytes < 1 || maxCommandLengthBytes > Protocol.MAX_MESSAGE_LENGTH_LIMIT -
                Protocol.COMMAND_PAYLOAD_OFFSET)
            {
                throw new IllegalArgumentException("maxCommandLengthBytes = " + maxCommandLengthBytes +
                    " out of range");
            }
            if (maxAttempts < 1 || maxAttempts > 1000)
            {
                throw new IllegalArgumentException("maxAttempts = " + maxAttempts + " must be in [1, 1000]");
            }
            if (commandTimeoutNs <= 0 || attemptTimeoutNs <= 0 || connectTimeoutNs <= 0 ||
                memberConnectTimeoutNs <= 0 || keepAliveIntervalNs <= 0 || livenessTimeoutNs <= keepAliveIntervalNs)
            {
                throw new IllegalArgumentException("timeouts must be > 0 and livenessTimeoutNs > keepAliveIntervalNs");
            }
            if (watchWhenSilentNs < 0)
            {
                throw new IllegalArgumentException("watchWhenSilentNs = " + watchWhenSilentNs + " must be >= 0");
            }
            if (retryBackoffInitialNs <= 0 || retryBackoffMaxNs < retryBackoffInitialNs)
            {
                throw new IllegalArgumentException("retry backoff must be 0 < initial <= max");
            }
            idleStrategy();
            return this;
        }

        IdleStrategy idleStrategy()
        {
            return io.keel.engine.EngineContext.idleStrategy("spin".equals(idle) ? "busy-spin" : idle);
        }

        /**
         * @param members {@code id=host:clientPort[:replicationPort],...}; the client tries them in order.
         * @return this.
         */
        public Context members(final String members)
        {
            this.members = Member.parseList(members);
            return this;
        }

        /**
         * @param members the members to try, in order.
         * @return this.
         */
        public Context members(final List<Member> members)
        {
            this.members = members;
            return this;
        }

        /**
         * @param clientId this client's id (idempotency key, and the principal when the node authenticates).
         * @return this.
         */
        public Context clientId(final long clientId)
        {
            this.clientId = clientId;
            return this;
        }

        /**
         * @param secret shared secret for the challenge (UTF-8); null when the node does not authenticate.
         * @return this.
         */
        public Context secret(final String secret)
        {
            this.secret = null == secret ? null : secret.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        /**
         * @param aeronDirectoryName an external media driver; unset embeds one (SHARED threading).
         * @return this.
         */
        public Context aeronDirectoryName(final String aeronDirectoryName)
        {
            this.aeronDirectoryName = aeronDirectoryName;
            return this;
        }

        /**
         * @param aeron an Aeron client to share (not closed by the client).
         * @return this.
         */
        public Context aeron(final Aeron aeron)
        {
            this.aeron = aeron;
            return this;
        }

        /**
         * @param egressChannel where answers arrive; port 0 picks a free port.
         * @return this.
         */
        public Context egressChannel(final String egressChannel)
        {
            this.egressChannel = egressChannel;
            return this;
        }

        /**
         * @param egressStreamId stream id answers arrive on.
         * @return this.
         */
        public Context egressStreamId(final int egressStreamId)
        {
            this.egressStreamId = egressStreamId;
            return this;
        }

        /**
         * @param maxInFlight commands in flight at most (the pipelining window).
         * @return this.
         */
        public Context maxInFlight(final int maxInFlight)
        {
            this.maxInFlight = maxInFlight;
            return this;
        }

        /**
         * @param maxCommandLengthBytes largest encoded command.
         * @return this.
         */
        public Context maxCommandLengthBytes(final int maxCommandLengthBytes)
        {
            this.maxCommandLengthBytes = maxCommandLengthBytes;
            return this;
        }

        /**
         * @param commandCodecs command types, for {@link #submit(Command)} (e.g. {@code Ledger.domain().commands()}).
         * @return this.
         */
        public Context commandCodecs(final CommandCodecs commandCodecs)
        {
            this.commandCodecs = commandCodecs;
            return this;
        }

        /**
         * @param commandTimeoutNs give up on a command after this long (its outcome is then unknown).
         * @return this.
         */
        public Context commandTimeoutNs(final long commandTimeoutNs)
        {
            this.commandTimeoutNs = commandTimeoutNs;
            return this;
        }

        /**
         * @param attemptTimeoutNs resend (same command id) when an attempt has no answer after this long.
         * @return this.
         */
        public Context attemptTimeoutNs(final long attemptTimeoutNs)
        {
            this.attemptTimeoutNs = attemptTimeoutNs;
            return this;
        }

        /**
         * @param maxAttempts sends of one command at most.
         * @return this.
         */
        public Context maxAttempts(final int maxAttempts)
        {
            this.maxAttempts = maxAttempts;
            return this;
        }

        /**
         * @param initialNs first backoff after BUSY or RING_FULL (doubles each time, with jitter).
         * @param maxNs     largest backoff.
         * @return this.
         */
        public Context retryBackoff(final long initialNs, final long maxNs)
        {
            this.retryBackoffInitialNs = initialNs;
            this.retryBackoffMaxNs = maxNs;
            return this;
        }

        /**
         * @param connectTimeoutNs how long {@link KeelClient#connect} waits for a session.
         * @return this.
         */
        public Context connectTimeoutNs(final long connectTimeoutNs)
        {
            this.connectTimeoutNs = connectTimeoutNs;
            return this;
        }

        /**
         * @param watchStandbys keep a WATCH on every other member (all the time, or only while the primary seems
         *                      silent: {@link #watchWhenSilentNs(long)}), so a standby that takes over answers this
         *                      client at once (default true); without it the client finds the new primary after its
         *                      liveness timeout.
         * @return this.
         */
        public Context watchStandbys(final boolean watchStandbys)
        {
            this.watchStandbys = watchStandbys;
            return this;
        }

        /**
         * @param watchWhenSilentNs open the watches on the other members only once the primary has left a command or
         *                          a keep-alive unanswered for this long (10 ms sits well inside a pair's 50 ms
         *                          failure timeout); they close one second after the primary last seemed silent.
         *                          0 (the default) keeps them open all the time, at the cost of one more publication
         *                          for this client's driver to poll on every duty cycle (about 1 µs of round trip
         *                          here). Measured with 10 ms (two runs of {@code ./keel bench failover}): failover
         *                          gap p50 72 and 77 ms, max 117 and 125 ms, against 68-69 / 85-91 ms with 0, so it
         *                          is not the default.
         * @return this.
         */
        public Context watchWhenSilentNs(final long watchWhenSilentNs)
        {
            this.watchWhenSilentNs = watchWhenSilentNs;
            return this;
        }

        /**
         * @param livenessTimeoutNs reconnect when the node sends nothing (not even a keep-alive) for this long.
         * @return this.
         */
        public Context livenessTimeoutNs(final long livenessTimeoutNs)
        {
            this.livenessTimeoutNs = livenessTimeoutNs;
            return this;
        }

        /**
         * @param keepAliveIntervalNs how often a connected client sends a keep-alive (the node echoes it), default
         *                            200 ms; must stay below the liveness timeout.
         * @return this.
         */
        public Context keepAliveIntervalNs(final long keepAliveIntervalNs)
        {
            this.keepAliveIntervalNs = keepAliveIntervalNs;
            return this;
        }

        /**
         * @param memberConnectTimeoutNs how long one member may take to answer a connect before the next is tried
         *                               (default 2 s).
         * @return this.
         */
        public Context memberConnectTimeoutNs(final long memberConnectTimeoutNs)
        {
            this.memberConnectTimeoutNs = memberConnectTimeoutNs;
            return this;
        }

        /**
         * @param firstCommandId first id {@link KeelClient#nextCommandId()} hands out.
         * @return this.
         */
        public Context firstCommandId(final long firstCommandId)
        {
            this.firstCommandId = firstCommandId;
            return this;
        }

        /**
         * @param idle yield (default), backoff or spin: the client's duty cycle and embedded driver.
         * @return this.
         */
        public Context idle(final String idle)
        {
            this.idle = idle;
            return this;
        }

        /**
         * @param invokeDriver true (default): an embedded media driver runs in INVOKER mode inside the client's duty
         *                     cycle (no driver thread: one hot thread for the whole client); false: it gets a thread
         *                     of its own (SHARED threading).
         * @return this.
         */
        public Context invokeDriver(final boolean invokeDriver)
        {
            this.invokeDriver = invokeDriver;
            return this;
        }

        /**
         * @param ownThread true (default): run the duty cycle on a thread of its own; false: call
         *                  {@link KeelClient#poll()}.
         * @return this.
         */
        public Context ownThread(final boolean ownThread)
        {
            this.ownThread = ownThread;
            return this;
        }
    }
}
