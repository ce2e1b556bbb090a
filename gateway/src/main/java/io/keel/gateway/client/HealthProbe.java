package io.keel.gateway.client;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.keel.gateway.GatewayContext;
import io.keel.gateway.Member;
import io.keel.gateway.protocol.ErrorCode;
import io.keel.gateway.protocol.MessageDecoder;
import io.keel.gateway.protocol.MessageEncoder;
import io.keel.gateway.protocol.Protocol;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Asks members how they are with the protocol's HEALTH message (no session, no credentials): each answers with
 * its role, epoch, journal positions and the primary it knows. Used by {@code keel health}.
 */
public final class HealthProbe
{
    /** Stream the answers come back on. */
    public static final int EGRESS_STREAM_ID = 1077;

    /**
     * What a member said, or that it did not answer.
     *
     * @param member            the member asked.
     * @param answered          false when it did not answer within the timeout.
     * @param role              {@link Protocol#ROLE_PRIMARY}, {@link Protocol#ROLE_STANDBY}, or 0 when not answered.
     * @param epoch             its epoch.
     * @param committedPosition its journal's written position.
     * @param durablePosition   its journal's durable position.
     * @param primaryMemberId   the primary it knows, -1 none.
     * @param engineFailed      its engine stopped after a failure.
     */
    public record Health(Member member, boolean answered, int role, long epoch, long committedPosition,
        long durablePosition, int primaryMemberId, boolean engineFailed)
    {
        /** @return PRIMARY, STANDBY or UNREACHABLE. */
        public String roleName()
        {
            return !answered ? "UNREACHABLE" : role == Protocol.ROLE_PRIMARY ? "PRIMARY" :
                role == Protocol.ROLE_STANDBY ? "STANDBY" : "UNKNOWN(" + role + ")";
        }
    }

    private HealthProbe()
    {
    }

    /**
     * Ask every member at once and wait for the answers.
     *
     * @param aeron          a connected client.
     * @param members        members to ask.
     * @param egressChannel  where answers arrive, e.g. {@code aeron:udp?endpoint=127.0.0.1:0}.
     * @param timeoutMs      how long to wait for all answers.
     * @return one entry per member, in order.
     */
    public static List<Health> probe(final Aeron aeron, final List<Member> members, final String egressChannel,
        final long timeoutMs)
    {
        final Health[] answers = new Health[members.size()];
        final List<ExclusivePublication> publications = new ArrayList<>();
        final boolean[] sent = new boolean[members.size()];
        final MessageDecoder decoder = new MessageDecoder();
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[512]);
        final MessageEncoder encoder = new MessageEncoder();
        try (Subscription subscription = aeron.addSubscription(egressChannel, EGRESS_STREAM_ID))
        {
            for (final Member member : members)
            {
                publications.add(aeron.addExclusivePublication(member.ingressChannel(),
                    GatewayContext.INGRESS_STREAM_ID_DEFAULT));
            }
            final FragmentAssembler assembler = new FragmentAssembler((DirectBuffer b, int offset, int length,
                io.aeron.logbuffer.Header header) ->
            {
                if (ErrorCode.OK != decoder.wrap(b, offset, length, Protocol.MAX_MESSAGE_LENGTH_LIMIT) ||
                    decoder.type() != Protocol.HEALTH_RESULT)
                {
                    return;
                }
                final int index = (int)decoder.correlationId() - 1;
                if (index >= 0 && index < answers.length &&
                    decoder.healthInt(Protocol.HEALTH_RESULT_MEMBER_ID_OFFSET) == members.get(index).id())
                {
                    answers[index] = new Health(members.get(index), true,
                        decoder.healthInt(Protocol.HEALTH_RESULT_ROLE_OFFSET),
                        decoder.healthLong(Protocol.HEALTH_RESULT_EPOCH_OFFSET),
                        decoder.healthLong(Protocol.HEALTH_RESULT_COMMITTED_OFFSET),
                        decoder.healthLong(Protocol.HEALTH_RESULT_DURABLE_OFFSET),
                        decoder.healthInt(Protocol.HEALTH_RESULT_PRIMARY_OFFSET),
                        (decoder.healthInt(Protocol.HEALTH_RESULT_FLAGS_OFFSET) &
                            Protocol.HEALTH_FLAG_ENGINE_FAILED) != 0);
                }
            });
            final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (System.nanoTime() - deadlineNs < 0)
            {
                final String responseChannel = subscription.tryResolveChannelEndpointPort();
                boolean all = true;
                for (int i = 0; i < answers.length; i++)
                {
                    if (null == answers[i])
                    {
                        all = false;
                        if (!sent[i] && null != responseChannel && publications.get(i).isConnected())
                        {
                            final int length = encoder.wrap(buffer, 0).health(i + 1, EGRESS_STREAM_ID,
                                responseChannel);
                            sent[i] = publications.get(i).offer(buffer, 0, length) > 0;
                        }
                    }
                }
                if (all)
                {
                    break;
                }
                if (0 == subscription.poll(assembler, 16))
                {
                    Thread.yield();
                }
            }
        }
        finally
        {
            publications.forEach(CloseHelper::quietClose);
        }
        final List<Health> result = new ArrayList<>();
        for (int i = 0; i < answers.length; i++)
        {
            result.add(null != answers[i] ? answers[i] :
                new Health(members.get(i), false, 0, -1, -1, -1, -1, false));
        }
        return result;
    }
}
