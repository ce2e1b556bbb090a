package io.keel.cli.gateway;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.keel.gateway.protocol.ErrorCode;
import io.keel.gateway.protocol.Hmac;
import io.keel.gateway.protocol.MessageDecoder;
import io.keel.gateway.protocol.MessageEncoder;
import io.keel.gateway.protocol.Protocol;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A hand-driven protocol peer for hostile-input tests: it speaks the wire protocol byte by byte, so it can also
 * send what no real client would.
 */
final class RawClient implements AutoCloseable
{
    /** One received message, copied. */
    record Received(int type, long sessionId, long correlationId, int code, String detail)
    {
    }

    private final ExclusivePublication publication;
    private final Subscription subscription;
    private final FragmentAssembler assembler;
    private final ArrayDeque<Received> received = new ArrayDeque<>();
    private final MessageDecoder decoder = new MessageDecoder();
    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1 << 16]);
    final MessageEncoder encoder = new MessageEncoder().wrap(buffer, 0);
    long sessionId;

    RawClient(final Aeron aeron, final int port, final int egressStreamId)
    {
        publication = aeron.addExclusivePublication("aeron:udp?endpoint=127.0.0.1:" + port + "|term-length=1m",
            101);
        subscription = aeron.addSubscription("aeron:udp?endpoint=127.0.0.1:0", egressStreamId);
        assembler = new FragmentAssembler(this::onFragment);
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!publication.isConnected() || null == subscription.tryResolveChannelEndpointPort())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("raw client could not reach 127.0.0.1:" + port);
            }
            Thread.onSpinWait();
        }
    }

    private void onFragment(final DirectBuffer buf, final int offset, final int length, final io.aeron.logbuffer.Header h)
    {
        if (ErrorCode.OK != decoder.wrap(buf, offset, length, Protocol.MAX_MESSAGE_LENGTH_LIMIT))
        {
            throw new AssertionError("node sent an invalid message of " + length + " bytes");
        }
        final int type = decoder.type();
        final boolean hasCode = type == Protocol.ERROR || type == Protocol.REJECTED_CONNECT || type == Protocol.CLOSE;
        final long correlation = type == Protocol.RESPONSE ? decoder.commandId() :
            type == Protocol.KEEPALIVE || type == Protocol.CLOSE ? 0 : decoder.correlationId();
        received.add(new Received(type, decoder.sessionId(), correlation, hasCode ? decoder.errorCode() : 0,
            hasCode && type != Protocol.CLOSE ? decoder.detail() : type == Protocol.RESPONSE ? decoder.detail() : null));
    }

    /** Authenticate (secret may be null when the node has no credentials file). */
    void connect(final long clientId, final String secret)
    {
        final long correlationId = 42;
        send(encoder.connect(correlationId, clientId, subscription.streamId(),
            subscription.tryResolveChannelEndpointPort()));
        final Received first = await(m -> m.correlationId() == correlationId, 10_000);
        sessionId = first.sessionId();
        if (first.type() == Protocol.CHALLENGE)
        {
            final byte[] nonce = new byte[Protocol.NONCE_LENGTH];
            // the nonce is in the last message seen by the decoder only while polling: ask again for it
            nonce(nonce);
            final byte[] mac = new byte[Protocol.MAC_LENGTH];
            new Hmac(secret.getBytes(StandardCharsets.UTF_8)).sign(nonce, clientId, sessionId, mac);
            send(encoder.challengeReply(sessionId, correlationId, mac));
            final Received answer = await(m -> m.correlationId() == correlationId, 10_000);
            if (answer.type() != Protocol.CONNECTED)
            {
                throw new AssertionError("not connected: " + answer);
            }
        }
        else if (first.type() != Protocol.CONNECTED)
        {
            throw new AssertionError("not connected: " + first);
        }
    }

    private byte[] lastNonce;

    private void nonce(final byte[] into)
    {
        System.arraycopy(lastNonce, 0, into, 0, into.length);
    }

    /** Offer bytes from {@link #buffer} as one message. */
    void send(final int length)
    {
        sendFrom(buffer, length);
    }

    void sendFrom(final DirectBuffer from, final int length)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long result;
        while ((result = publication.offer(from, 0, length)) < 0)
        {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED ||
                System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("cannot send: " + result);
            }
            poll();
        }
    }

    int poll()
    {
        return subscription.poll((buf, offset, length, header) ->
        {
            if (buf.getShort(offset + Protocol.TYPE_OFFSET) == Protocol.CHALLENGE)
            {
                lastNonce = new byte[Protocol.NONCE_LENGTH];
                buf.getBytes(offset + Protocol.CHALLENGE_NONCE_OFFSET, lastNonce);
            }
            assembler.onFragment(buf, offset, length, header);
        }, 64);
    }

    /** @return the first received message matching, polling up to the timeout. */
    Received await(final Predicate<Received> match, final long timeoutMs)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true)
        {
            for (final var it = received.iterator(); it.hasNext();)
            {
                final Received message = it.next();
                if (match.test(message))
                {
                    it.remove();
                    return message;
                }
            }
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("no matching message within " + timeoutMs + " ms; received " + received);
            }
            if (0 == poll())
            {
                Thread.yield();
            }
        }
    }

    /** Await ERROR with this correlation id and return its code. */
    ErrorCode awaitError(final long correlationId)
    {
        final Received error = await(m -> m.type() == Protocol.ERROR && m.correlationId() == correlationId, 10_000);
        return ErrorCode.of(error.code());
    }

    /** Drain what has arrived so far. */
    ArrayDeque<Received> received()
    {
        poll();
        return received;
    }

    @Override
    public void close()
    {
        publication.close();
        subscription.close();
    }
}
