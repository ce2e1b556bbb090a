package io.keel.replication;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.keel.journal.FrameDescriptor;
import io.keel.journal.Journal;
import io.keel.journal.JournalAppender;
import io.keel.journal.JournalFrame;
import io.keel.journal.JournalReader;
import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static io.keel.replication.ReplicationMessage.*;

/**
 * The duty cycle of one member: as primary it tails its journal and ships whole frames to the standby, serves
 * handshakes and resend requests, sends heartbeats and tracks the standby's acks; as standby it checks and
 * appends the primary's frames, acks its durable position, repairs gaps, matches logs after an epoch change and
 * promotes itself when the primary falls silent (when allowed). Single-threaded; allocates nothing per frame.
 */
final class ReplicationAgent implements Agent, FragmentHandler
{
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationAgent.class);
    private static final int FRAGMENT_LIMIT = 16;

    private final ReplicationContext ctx;
    private final ReplicationNode node;
    private final Journal journal;
    private final JournalAppender appender;
    private final Subscription subscription;
    private final ExclusivePublication publication;
    private final io.aeron.FragmentAssembler assembler = new io.aeron.FragmentAssembler(this);
    private final NodeStateFile state;
    private final AckGate gate;
    private final ReplicationCounters counters;
    private final NanoClock clock = SystemNanoClock.INSTANCE;
    private final UnsafeBuffer controlBuffer = new UnsafeBuffer(
        ByteBuffer.allocateDirect(BitUtil.align(STANDBY_STATUS_LENGTH, 64)));
    private final UnsafeBuffer batchBuffer;
    private final ReplicationMessage in = new ReplicationMessage();
    private final ReplicationMessage out = new ReplicationMessage();
    private final LogMatching.LastFrame lastFrame = new LogMatching.LastFrame();
    private final long[] decision = new long[2];
    private final long heartbeatIntervalNs;
    private final long failureTimeoutNs;
    private final long restartGraceNs;
    private final long voteRetryNs;
    private long startedNs;
    private final long degradeAfterNs;
    private final long promoteBehindAfterNs;
    private final int maxBatchBytes;
    private final int maxInFlightBytes;
    private final int memberIndex;
    private final int memberCount;
    private final int peerId;
    private final int selfId;
    private final boolean lowestMember;
    private final FrameCopier copier = new FrameCopier();
    private final java.util.function.BooleanSupplier peerLinkDownHook;
    private final java.util.function.BooleanSupplier witnessLinkDownHook;
    private boolean peerLinkDown;
    private boolean witnessLinkDown;

    // witness (null without one): lease, votes, in-sync set
    private final WitnessLink witness;
    private long witnessLeaseNs = -1;
    private long witnessMarginNs;
    private long leaseUntilNs;
    private long witnessEpochSeen;
    private long voteCandidate = -1;
    private long nextWitnessRequestNs;
    private long witnessPollUntilNs;
    private long lastWitnessSeq;
    private boolean wantPeerInSync;
    private long firstRemovalSeq = Long.MIN_VALUE;
    private boolean peerInSyncConfirmed;
    private boolean readdPending;
    private long cannotReleaseSinceNs = -1;
    private int lastRefusal = -1;
    private long lastRefusalEpoch = -1;
    private long lastWitnessReplyNs;
    private boolean witnessSilentLogged;

    private long epoch;
    private Role role = Role.STANDBY;
    private long nowNs;
    private long lastDutyNs;
    private boolean polledNothing;
    private long nextHeartbeatNs;

    // standby
    private int followState = STATE_HANDSHAKE;
    private int leaderId = -1;
    private boolean heardPrimary;
    private long lastPrimaryContactNs;
    private long lastPrimaryHeardNs; // as lastPrimaryContactNs, but not moved on by our own stalls
    private long primaryReleasedPosition;
    private boolean primarySync;
    private long lastAckedDurable = -1;
    private long resendRequestedFor = -1;
    private long resendRequestedNs;
    private long primaryCommittedPosition;
    private long lastAppendProgressNs;
    // the primary's committed position in its first heartbeat after the match: until the log reaches it this standby
    // is catching up (a restart, a rejoin), and unless the primary acknowledges in SYNC it does not promote itself
    private long catchUpTarget = -1;
    private boolean caughtUp;

    // snapshot catch-up: the primary's transfer in progress, the standby's install in progress (both rare)
    private SnapshotTransfer transfer;
    private long installPosition = -1;
    private UnsafeBuffer installBuffer;
    private int installReceived;
    private int installTotal;

    // primary
    private JournalReader reader;
    private boolean matched;
    private long sendPosition;
    private long standbyAppended;
    private long lastStandbyContactNs;
    private long standbyLostSinceNs = -1;
    private long caughtUpNs;
    private int pendingBatchLength;
    private long pendingBatchEnd;
    private long cachedEnd = Long.MIN_VALUE;
    private long cachedLastPosition;
    private int cachedLastCrc;
    private long cachedCommitted;

    ReplicationAgent(
        final ReplicationContext ctx,
        final ReplicationNode node,
        final Subscription subscription,
        final ExclusivePublication publication,
        final NodeStateFile state,
        final AckGate gate,
        final ReplicationCounters counters)
    {
        this.ctx = ctx;
        this.node = node;
        this.journal = ctx.journal();
        this.appender = journal.appender();
        this.subscription = subscription;
        this.publication = publication;
        this.state = state;
        this.gate = gate;
        this.counters = counters;
        this.batchBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(ctx.batchBufferBytes()));
        this.heartbeatIntervalNs = TimeUnit.MILLISECONDS.toNanos(ctx.heartbeatIntervalMs());
        this.failureTimeoutNs = TimeUnit.MILLISECONDS.toNanos(ctx.failureTimeoutMs());
        this.restartGraceNs = Math.max(TimeUnit.SECONDS.toNanos(1), 4 * failureTimeoutNs);
        this.voteRetryNs = Math.min(heartbeatIntervalNs, TimeUnit.MILLISECONDS.toNanos(1));
        this.promoteBehindAfterNs = ctx.promoteBehindAfterMs() < 0 ? -1 :
            TimeUnit.MILLISECONDS.toNanos(ctx.promoteBehindAfterMs());
        this.degradeAfterNs = ctx.degradeToAsyncAfterMs() < 0 ? -1 :
            TimeUnit.MILLISECONDS.toNanos(ctx.degradeToAsyncAfterMs());
        this.maxBatchBytes = ctx.maxBatchBytes();
        this.maxInFlightBytes = ctx.maxInFlightBytes();
        this.memberIndex = ctx.members().indexOf(ctx.self());
        this.memberCount = ctx.members().size();
        this.selfId = ctx.self().id();
        this.peerId = ctx.peer().id();
        this.lowestMember = 0 == memberIndex;
        this.epoch = state.epoch();
        counters.epoch.set(epoch);
        this.peerLinkDownHook = ctx.peerLinkDown();
        this.witnessLinkDownHook = ctx.witnessLinkDown();
        this.witness = null == ctx.witnessAddress() ? null :
            new WitnessLink(ctx.witnessAddress(), ctx.pairId(), selfId);
    }

    @Override
    public String roleName()
    {
        return "keel-replication-" + selfId;
    }

    @Override
    public void onStart()
    {
        nowNs = clock.nanoTime();
        startedNs = nowNs;
        lastDutyNs = nowNs;
        lastPrimaryContactNs = nowNs;
        LogMatching.lastGroupFrame(journal, lastFrame);
        if (lastFrame.end != appender.position())
        {
            throw new IllegalStateException("journal " + journal.dir() + " ends at " + appender.position() +
                " but its last whole group ends at " + lastFrame.end);
        }
        lastWitnessReplyNs = nowNs;
        LOG.info("member {} starts as standby in epoch {} (stored role {}), log end {}{}", selfId, epoch, state.role(),
            lastFrame.end, null == witness ? "" : ", witness " + ctx.witness() + " (pair " +
            Long.toHexString(ctx.pairId()) + ")");
    }

    @Override
    public int doWork()
    {
        nowNs = clock.nanoTime();
        final long sinceLastDutyNs = nowNs - lastDutyNs;
        lastDutyNs = nowNs;
        if (sinceLastDutyNs > heartbeatIntervalNs)
        {
            // this thread was stalled (an fsync, the scheduler, a pause): that silence is ours, not the peer's
            lastPrimaryContactNs += sinceLastDutyNs;
            lastStandbyContactNs += sinceLastDutyNs;
        }
        peerLinkDown = null != peerLinkDownHook && peerLinkDownHook.getAsBoolean();
        witnessLinkDown = null != witnessLinkDownHook && witnessLinkDownHook.getAsBoolean();
        final int fragments = subscription.poll(assembler, FRAGMENT_LIMIT);
        polledNothing = 0 == fragments;
        int work = fragments;
        if (null != witness && nowNs - witnessPollUntilNs < 0)
        {
            work += pollWitness();
        }
        switch (role)
        {
            case PRIMARY:
                work += primaryDuty();
                break;
            case STANDBY:
                work += standbyDuty();
                break;
            case STEPPING_DOWN:
                if (node.appenderReleased)
                {
                    becomeStandby();
                    work++;
                }
                break;
            default:
                throw new IllegalStateException("role " + role);
        }
        return work;
    }

    @Override
    public void onClose()
    {
        closeReader();
        if (null != witness)
        {
            witness.close();
        }
        if (Role.STANDBY == role && !appender.inGroup())
        {
            appender.flush();
        }
    }

    Role role()
    {
        return role;
    }

    // -------------------------------------------------------------------------------------------------------
    // messages

    @Override
    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (peerLinkDown)
        {
            return; // test hook: the link is cut
        }
        if (length < HEADER_LENGTH)
        {
            counters.malformedMessages.incrementAndGet();
            return;
        }
        in.wrap(buffer, offset);
        final int type = in.type();
        final int minLength = ReplicationMessage.minLength(type);
        if (minLength < 0 || length < minLength || in.senderId() != peerId ||
            (TYPE_FRAMES == type && in.framesLength() != length - FRAMES_HEADER_LENGTH))
        {
            counters.malformedMessages.incrementAndGet();
            return;
        }
        final long messageEpoch = in.epoch();
        switch (role)
        {
            case PRIMARY:
                if (messageEpoch > epoch)
                {
                    stepDown(messageEpoch, Role.PRIMARY.code() == in.roleCode() ? in.senderId() : -1);
                }
                else if (messageEpoch == epoch && TYPE_STANDBY_STATUS == type)
                {
                    onStandbyStatus();
                }
                break;
            case STANDBY:
                if (messageEpoch < epoch)
                {
                    if (TYPE_PRIMARY_HEARTBEAT == type)
                    {
                        sendStandbyStatus(-1); // tell the stale primary our epoch: it steps down
                    }
                    return;
                }
                if (Role.PRIMARY.code() != in.roleCode())
                {
                    return;
                }
                if (messageEpoch > epoch || leaderId != in.senderId())
                {
                    follow(messageEpoch, in.senderId());
                }
                lastPrimaryContactNs = nowNs;
                lastPrimaryHeardNs = nowNs;
                heardPrimary = true;
                if (TYPE_PRIMARY_HEARTBEAT == type)
                {
                    primaryReleasedPosition = in.releasedPosition();
                    primaryCommittedPosition = in.committedPosition();
                    primarySync = (in.flags() & FLAG_SYNC) != 0;
                    if (STATE_FOLLOWING == followState && catchUpTarget < 0)
                    {
                        catchUpTarget = primaryCommittedPosition;
                    }
                }
                else if (TYPE_MATCH == type)
                {
                    onMatch();
                }
                else if (TYPE_FRAMES == type)
                {
                    onFrames(buffer);
                }
                else if (ReplicationMessage.TYPE_SNAPSHOT_CHUNK == type)
                {
                    onSnapshotChunk(buffer, offset, length);
                }
                break;
            default:
                break; // stepping down: wait for the application to hand the appender back
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // standby

    private int standbyDuty()
    {
        int work = 0;
        // by the raw clock: after a stall of our own thread the primary has had time to speak (its messages were
        // polled above), so silence then is suspicious, while a redirect to a dead primary costs the client a
        // whole connect timeout
        final boolean hold = null != witness && ctx.autoPromote() &&
            nowNs - lastPrimaryHeardNs > 2 * heartbeatIntervalNs && mayPromote();
        if (hold != node.holdConnects)
        {
            node.holdConnects = hold; // a takeover may follow: let clients that come here wait for its outcome
        }
        if (nowNs >= nextHeartbeatNs)
        {
            sendStandbyStatus(-1);
            nextHeartbeatNs = nowNs + heartbeatIntervalNs;
            work++;
        }
        if (!caughtUp && catchUpTarget >= 0 && STATE_FOLLOWING == followState &&
            appender.position() >= catchUpTarget)
        {
            caughtUp = true;
            counters.catchUps.incrementAndGet();
            LOG.info("member {} caught up with member {} at {} in epoch {}", selfId, leaderId, appender.position(),
                epoch);
        }
        if (STATE_FOLLOWING == followState && primaryCommittedPosition > appender.position() &&
            nowNs - lastAppendProgressNs > 2 * heartbeatIntervalNs)
        {
            // the primary has more but nothing arrived for a while: the tail of the stream was lost
            requestResend(appender.position());
            lastAppendProgressNs = nowNs;
            work++;
        }
        if (ctx.autoPromote() && polledNothing && nowNs - lastPrimaryContactNs > failureTimeoutNs && mayPromote())
        {
            if (null == witness)
            {
                if (heardPrimary && !primarySync && !caughtUp)
                {
                    counters.promotionsBehind.incrementAndGet();
                    LOG.warn("member {} takes over from member {} while still catching up: its log ends at {}, {} " +
                        "bytes short of the committed position {} last heard; what member {} acknowledged beyond {} " +
                        "is lost (promote-behind-after {} ms)", selfId, leaderId, appender.position(),
                        Math.max(0, primaryCommittedPosition - appender.position()), primaryCommittedPosition,
                        leaderId, appender.position(), ctx.promoteBehindAfterMs());
                }
                promote(nextOwnEpoch(epoch));
                work++;
            }
            else if (nowNs - nextWitnessRequestNs >= 0)
            {
                requestVote();
                work++;
            }
        }
        return work;
    }

    private boolean mayPromote()
    {
        if (heardPrimary)
        {
            // a standby that followed the primary holds everything the primary acknowledged in SYNC mode. Otherwise
            // (ASYNC, or SYNC degraded or acting alone) the primary acknowledged beyond it, and a promotion cuts all
            // of that from the primary if it was only stalled: so not while still catching up after a (re)start or
            // rejoin, when that is everything since the standby last had the log. Caught up is a latch per
            // handshake, not a bound on the lag: a standby that falls behind later is promotable with that lag.
            // An operator who prefers availability sets promoteBehindAfterMs: after that much silence, promote anyway
            return STATE_FOLLOWING == followState &&
                (primarySync ? journal.durablePosition() >= primaryReleasedPosition :
                caughtUp || promoteBehindAfterNs >= 0 && nowNs - lastPrimaryContactNs > promoteBehindAfterNs);
        }
        if (Role.PRIMARY == state.role())
        {
            // the last primary restarting. It may have been replaced while it was down, and a fresh JVM's
            // first contact with the peer can take longer than one failure timeout: promoting now would start a
            // higher epoch that makes the real primary step down and cut what it acknowledged (ASYNC). So listen
            // for a grace period first; a primary that is alive is heard within it and followed.
            return nowNs - startedNs > restartGraceNs;
        }
        // nobody heard since start: the lowest member of a fresh pair
        return 0 == state.epoch() && lowestMember;
    }

    /** A new handshake: the standby counts as catching up until it reaches the primary's end as of then. */
    private void forgetCatchUp()
    {
        catchUpTarget = -1;
        caughtUp = false;
    }

    private void follow(final long newEpoch, final int primaryId)
    {
        if (appender.inGroup())
        {
            appender.abortGroup(); // an incomplete group of a primary that is gone: never acknowledged
        }
        appender.flush();
        state.store(newEpoch, Role.STANDBY, primaryId);
        epoch = newEpoch;
        counters.epoch.set(newEpoch);
        leaderId = primaryId;
        followState = STATE_HANDSHAKE;
        forgetCatchUp();
        installPosition = -1; // an install in progress belongs to the old handshake
        installReceived = 0;
        node.leaderId = primaryId;
        node.followGeneration++;
        node.publishRole(Role.STANDBY, newEpoch);
        LogMatching.lastGroupFrame(journal, lastFrame);
        LOG.info("member {} follows member {} in epoch {}; handshake from {}", selfId, primaryId, newEpoch,
            lastFrame.end);
        sendStandbyStatus(-1);
    }

    private void onMatch()
    {
        if (STATE_FOLLOWING == followState && ReplicationMessage.ACTION_INSTALL_SNAPSHOT == in.action() &&
            in.standbyEndPosition() <= appender.position())
        {
            LOG.warn("member {}: member {} can no longer stream from {}: handshaking again", selfId, leaderId,
                in.standbyEndPosition());
            follow(epoch, leaderId); // the application stops reading; the handshake then gets the snapshot
            return;
        }
        if (STATE_HANDSHAKE != followState || in.standbyEndPosition() != appender.position())
        {
            return; // an answer to an older handshake
        }
        if (node.gated && node.haltedGeneration != node.followGeneration)
        {
            return; // the application still reads the log: match (and maybe truncate) once it has stopped
        }
        final long position = in.matchPosition();
        if (ACTION_STREAM_FROM == in.action())
        {
            if (position != appender.position())
            {
                throw new IllegalStateException("primary streams from " + position + " but the log ends at " +
                    appender.position());
            }
            followState = STATE_FOLLOWING;
            node.matchedGeneration = node.followGeneration;
            LOG.info("member {} matches member {} at {} in epoch {}", selfId, leaderId, position, epoch);
        }
        else if (ReplicationMessage.ACTION_INSTALL_SNAPSHOT == in.action())
        {
            if (installPosition != position)
            {
                installPosition = position;
                installReceived = 0;
                LOG.warn("member {}: log (end {}) cannot be matched within member {}'s retained journal: installing " +
                    "its snapshot at {}", selfId, appender.position(), leaderId, position);
            }
            return; // chunks follow; the handshake resumes once the snapshot is installed
        }
        else if (ACTION_TRUNCATE_TO == in.action() && !rebuildableAfterTruncation(position))
        {
            // the common point is before this node's retained journal, or no kept snapshot lies between the
            // journal's start and it: cutting back would leave a log the application cannot rebuild from. Start
            // over empty instead: the next handshake streams from 0 or sends the snapshot.
            final long end = appender.position();
            LOG.warn("member {}: log diverges from member {} after {}, which this node cannot rebuild from (journal " +
                "starts at {}): setting its log ({} bytes) aside under truncated/ to catch up from the primary",
                selfId, leaderId, position, journal.startPosition(), end - journal.startPosition());
            // one crash-safe step that keeps every old segment (the divergent tail with it) under truncated/; a
            // truncation first would leave, after a crash between the two, a log the engine cannot rebuild from
            journal.resetTo(0, 0);
            counters.truncations.incrementAndGet();
            counters.truncatedBytes.addAndGet(end);
            node.lowestTruncation = 0;
            node.truncations++;
            if (null != ctx.truncationListener())
            {
                ctx.truncationListener().accept(0);
            }
            LogMatching.lastGroupFrame(journal, lastFrame);
        }
        else if (ACTION_TRUNCATE_TO == in.action())
        {
            final long end = appender.position();
            final long target = LogMatching.lastGroupEndAtOrBefore(journal, position);
            if (target >= end)
            {
                throw new IllegalStateException("truncation to " + position + " does not shrink log ending at " + end);
            }
            LOG.warn("member {}: log diverges from member {} after {}: truncating {} bytes from {} (epoch {})",
                selfId, leaderId, target, end - target, end, epoch);
            journal.truncate(target);
            counters.truncations.incrementAndGet();
            counters.truncatedBytes.addAndGet(end - target);
            node.lowestTruncation = Math.min(node.lowestTruncation, target);
            node.truncations++;
            if (null != ctx.truncationListener())
            {
                ctx.truncationListener().accept(target);
            }
            LogMatching.lastGroupFrame(journal, lastFrame);
        }
        sendStandbyStatus(-1);
    }

    private void onFrames(final DirectBuffer buffer)
    {
        if (STATE_FOLLOWING != followState || (node.gated && node.followingGeneration != node.followGeneration))
        {
            return; // not matched yet, or the application is still rebuilding: the stream is resent once it follows
        }
        final long start = in.startPosition();
        final int length = in.framesLength();
        final ReplicationContext.ReceiveFilter filter = ctx.receiveFilter();
        if (null != filter && filter.drop(start, length))
        {
            counters.batchesDropped.incrementAndGet();
            return;
        }
        final long expected = appender.position();
        if (start > expected)
        {
            requestResend(expected);
            return;
        }
        final int base = in.framesOffset();
        int offset = 0;
        while (offset < length)
        {
            final int remaining = length - offset;
            final int frameLength = remaining >= FrameDescriptor.HEADER_LENGTH ?
                buffer.getInt(base + offset + FrameDescriptor.LENGTH_OFFSET, FrameDescriptor.BYTE_ORDER) : -1;
            final int aligned = frameLength < FrameDescriptor.HEADER_LENGTH ? -1 :
                FrameDescriptor.alignedFrameLength(frameLength - FrameDescriptor.HEADER_LENGTH);
            if (aligned < 0 || aligned > remaining)
            {
                counters.framesRejected.incrementAndGet();
                requestResend(appender.position());
                break;
            }
            final long position = buffer.getLong(base + offset + FrameDescriptor.POSITION_OFFSET,
                FrameDescriptor.BYTE_ORDER);
            final long next = appender.position();
            if (position > next)
            {
                requestResend(next);
                break;
            }
            if (position == next)
            {
                try
                {
                    appender.appendFramed(buffer, base + offset, aligned);
                }
                catch (final IllegalArgumentException ex)
                {
                    counters.framesRejected.incrementAndGet();
                    LOG.warn("member {}: frame from member {} refused: {}", selfId, leaderId, ex.getMessage());
                    requestResend(next);
                    break;
                }
                counters.framesAppended.incrementAndGet();
                lastAppendProgressNs = nowNs;
                final short flags = buffer.getShort(base + offset + FrameDescriptor.FLAGS_OFFSET,
                    FrameDescriptor.BYTE_ORDER);
                if ((flags & FrameDescriptor.FLAG_END_OF_GROUP) != 0)
                {
                    lastFrame.position = position;
                    lastFrame.epoch = buffer.getLong(base + offset + FrameDescriptor.EPOCH_OFFSET,
                        FrameDescriptor.BYTE_ORDER);
                    lastFrame.crc = buffer.getInt(base + offset + FrameDescriptor.CRC_OFFSET,
                        FrameDescriptor.BYTE_ORDER);
                    lastFrame.end = position + aligned;
                }
            }
            offset += aligned; // frames before our end were appended before: a resend overlapping what we hold
        }
        if (!appender.inGroup())
        {
            appender.flush();
        }
        if (journal.durablePosition() != lastAckedDurable)
        {
            sendStandbyStatus(-1);
        }
    }

    private void requestResend(final long from)
    {
        if (from != resendRequestedFor || nowNs - resendRequestedNs > heartbeatIntervalNs)
        {
            resendRequestedFor = from;
            resendRequestedNs = nowNs;
            counters.resendRequests.incrementAndGet();
            sendStandbyStatus(from);
        }
    }

    private void sendStandbyStatus(final long resendFrom)
    {
        final long durable = journal.durablePosition();
        out.wrapAndApplyHeader(controlBuffer, 0, TYPE_STANDBY_STATUS, selfId, epoch, role, 0)
            .standbyStatus(appender.position(), durable, lastFrame.position, lastFrame.epoch, lastFrame.crc,
                followState, resendFrom);
        if (offer(controlBuffer, STANDBY_STATUS_LENGTH) > 0)
        {
            lastAckedDurable = durable;
        }
    }

    private long nextOwnEpoch(final long above)
    {
        long newEpoch = above + 1;
        while (newEpoch % memberCount != memberIndex)
        {
            newEpoch++;
        }
        return newEpoch;
    }

    private void promote(final long newEpoch)
    {
        if (appender.inGroup())
        {
            appender.abortGroup();
        }
        appender.flush();
        final long storeStartNs = System.nanoTime();
        state.store(newEpoch, Role.PRIMARY, selfId);
        final long storeNs = System.nanoTime() - storeStartNs;
        epoch = newEpoch;
        counters.epoch.set(newEpoch);
        counters.promotions.incrementAndGet();
        closeReader();
        matched = false;
        pendingBatchLength = 0;
        standbyLostSinceNs = nowNs; // a new primary starts without a standby: the degrade delay runs from now
        lastStandbyContactNs = nowNs;
        caughtUpNs = nowNs;
        cachedEnd = Long.MIN_VALUE;
        counters.standbyAckedPosition.set(0);
        gate.resetForNewEpoch(appender.position());
        gate.standbyConnected = false;
        gate.degraded = false;
        if (null != witness)
        {
            // the witness recorded this member alone in the in-sync set with its vote: it may acknowledge alone
            wantPeerInSync = false;
            firstRemovalSeq = Long.MIN_VALUE;
            peerInSyncConfirmed = false;
            readdPending = false;
            cannotReleaseSinceNs = -1;
            gate.noStandby = false;
            gate.alone = true;
            nextWitnessRequestNs = nowNs;
        }
        role = Role.PRIMARY;
        node.holdConnects = false;
        node.appenderReleased = false;
        LOG.warn("member {} promoted to primary in epoch {} at log end {} (primary {} silent for {} ms{}; epoch " +
            "persisted in {} µs)", selfId, newEpoch, appender.position(), leaderId,
            TimeUnit.NANOSECONDS.toMillis(nowNs - lastPrimaryContactNs),
            null == witness ? "" : ", with the witness's vote", TimeUnit.NANOSECONDS.toMicros(storeNs));
        node.publishRole(Role.PRIMARY, newEpoch);
        gate.primary = true;
        sendPrimaryHeartbeat();
    }

    // -------------------------------------------------------------------------------------------------------
    // primary

    private void stepDown(final long newEpoch, final int newPrimaryId)
    {
        gate.primary = false;
        state.store(newEpoch, Role.STANDBY, newPrimaryId);
        epoch = newEpoch;
        counters.epoch.set(newEpoch);
        counters.stepDowns.incrementAndGet();
        closeReader();
        matched = false;
        role = Role.STEPPING_DOWN;
        leaderId = newPrimaryId;
        node.leaderId = newPrimaryId;
        node.publishRole(Role.STEPPING_DOWN, newEpoch);
        gate.alone = false;
        gate.noStandby = false;
        LOG.warn("member {} steps down: member {} is in epoch {}", selfId, newPrimaryId, newEpoch);
    }

    private void becomeStandby()
    {
        role = Role.STANDBY;
        followState = STATE_HANDSHAKE;
        forgetCatchUp(); // a stepped-down primary rejoins: it has not caught up with the new primary yet
        heardPrimary = false;
        node.leaderId = leaderId;
        node.followGeneration++;
        lastPrimaryContactNs = nowNs;
        LogMatching.lastGroupFrame(journal, lastFrame);
        if (lastFrame.end != appender.position())
        {
            throw new IllegalStateException("log handed back ends at " + appender.position() +
                " inside a group (last group end " + lastFrame.end + ")");
        }
        node.publishRole(Role.STANDBY, epoch);
        sendStandbyStatus(-1);
    }

    private int primaryDuty()
    {
        int work = 0;
        final long committed = journal.committedPosition();
        counters.committedPosition.lazySet(committed);
        if (nowNs >= nextHeartbeatNs)
        {
            sendPrimaryHeartbeat();
            nextHeartbeatNs = nowNs + heartbeatIntervalNs;
            work++;
        }

        final boolean connected = matched && nowNs - lastStandbyContactNs <= failureTimeoutNs;
        if (connected != gate.standbyConnected)
        {
            gate.standbyConnected = connected;
            if (!connected)
            {
                standbyLostSinceNs = nowNs;
                counters.standbyLosses.incrementAndGet();
                LOG.warn("member {} (primary, epoch {}): standby lost{}", selfId, epoch,
                    AckMode.SYNC == gate.mode() ? "; SYNC acknowledges nothing until it returns" : "");
            }
        }
        // a silent standby stays matched: if it returns as it was, its status resumes the stream (resend from its
        // position); if it restarted, it handshakes again
        final long acked = counters.standbyAckedPosition.get();
        if (degradeAfterNs >= 0 && !connected && !gate.degraded && standbyLostSinceNs >= 0 &&
            nowNs - standbyLostSinceNs >= degradeAfterNs)
        {
            gate.degraded = true;
            counters.degradations.incrementAndGet();
            LOG.warn("member {}: no standby for {} ms: SYNC degrades to ASYNC", selfId, ctx.degradeToAsyncAfterMs());
        }
        else if (gate.degraded && connected && acked >= committed)
        {
            gate.degraded = false;
            LOG.info("member {}: standby caught up: SYNC again", selfId);
        }

        if (acked >= committed)
        {
            caughtUpNs = nowNs;
        }
        counters.lagBytes.lazySet(committed - acked);
        counters.lagNs.lazySet(nowNs - caughtUpNs);
        if (null != witness)
        {
            work += witnessPrimaryDuty(connected, committed, acked);
            if (Role.PRIMARY != role)
            {
                return work; // the witness knows a higher epoch: stepped down
            }
        }

        if (matched)
        {
            work += sendFrames(committed);
        }
        else if (null != transfer && !transfer.done())
        {
            work += sendSnapshotChunks();
        }
        return work;
    }

    private int sendFrames(final long committed)
    {
        if (0 == pendingBatchLength)
        {
            if (sendPosition >= committed || sendPosition - standbyAppended >= maxInFlightBytes)
            {
                return 0;
            }
            copier.length = 0;
            try
            {
                while (copier.length < maxBatchBytes && reader.position() < committed && reader.poll(copier, 1) > 0)
                {
                    // one frame at a time so the batch stops near its limit
                }
            }
            catch (final io.keel.journal.JournalException ex)
            {
                if (sendPosition >= journal.startPosition())
                {
                    throw ex;
                }
                return standbyNeedsSnapshot(sendPosition); // retention deleted the segment being streamed
            }
            if (0 == copier.length)
            {
                return 0;
            }
            out.wrapAndApplyHeader(batchBuffer, 0, TYPE_FRAMES, selfId, epoch, Role.PRIMARY, 0)
                .frames(sendPosition, copier.length);
            pendingBatchLength = copier.length;
            pendingBatchEnd = reader.position();
        }
        final long result = peerLinkDown ? 1 : publication.offer(batchBuffer, 0, FRAMES_HEADER_LENGTH + pendingBatchLength);
        if (result > 0)
        {
            counters.batchesSent.incrementAndGet();
            counters.bytesSent.addAndGet(pendingBatchLength);
            sendPosition = pendingBatchEnd;
            pendingBatchLength = 0;
            return 1;
        }
        if (Publication.CLOSED == result || Publication.MAX_POSITION_EXCEEDED == result)
        {
            throw new IllegalStateException("replication publication unusable: " + Publication.errorString(result));
        }
        counters.backPressured.incrementAndGet();
        return 0;
    }

    private void onStandbyStatus()
    {
        lastStandbyContactNs = nowNs;
        if (STATE_HANDSHAKE == in.state())
        {
            final long end = in.appendedPosition();
            final long committed = journal.committedPosition();
            if (end != cachedEnd || in.lastFramePosition() != cachedLastPosition || in.lastFrameCrc() != cachedLastCrc ||
                (ACTION_TRUNCATE_TO == decision[0] && committed != cachedCommitted))
            {
                LogMatching.decide(journal, end, in.lastFramePosition(), in.lastFrameEpoch(), in.lastFrameCrc(),
                    decision);
                cachedEnd = end;
                cachedLastPosition = in.lastFramePosition();
                cachedLastCrc = in.lastFrameCrc();
                cachedCommitted = committed;
            }
            if (ACTION_STREAM_FROM == decision[0])
            {
                closeReader();
                reader = journal.reader(decision[1]);
                sendPosition = decision[1];
                standbyAppended = decision[1];
                pendingBatchLength = 0;
                matched = true;
                advanceAcked(Math.min(in.durablePosition(), decision[1]));
            }
            else
            {
                matched = false;
            }
            long matchPosition = decision[1];
            if (ReplicationMessage.ACTION_INSTALL_SNAPSHOT == decision[0])
            {
                if (null == transfer || transfer.standbyEnd != end)
                {
                    transfer = SnapshotTransfer.newest(ctx.snapshotDir(), journal, end);
                    if (null == transfer)
                    {
                        counters.errors.incrementAndGet();
                        LOG.error("member {}: standby {} (log end {}) needs a snapshot at or after {} and none is " +
                            "kept in {}: it cannot catch up", selfId, peerId, end, journal.startPosition(),
                            ctx.snapshotDir());
                        return;
                    }
                    LOG.warn("member {}: standby {} (log end {}) is outside the retained journal [{}, {}]: sending " +
                        "the snapshot at {} ({} bytes)", selfId, peerId, end, journal.startPosition(),
                        journal.committedPosition(), transfer.position, transfer.length);
                }
                else if (transfer.done() && nowNs - transfer.doneNs > SnapshotTransfer.RESEND_AFTER_NS)
                {
                    // still asked after the whole snapshot went out: the standby was not listening yet (its
                    // application was still stopping) or lost chunks with an image: send it again
                    transfer.sent = 0;
                    counters.resendsServed.incrementAndGet();
                }
                matchPosition = transfer.position;
            }
            out.wrapAndApplyHeader(controlBuffer, 0, TYPE_MATCH, selfId, epoch, Role.PRIMARY, 0)
                .match(end, (int)decision[0], matchPosition);
            offer(controlBuffer, MATCH_LENGTH);
            return;
        }
        if (!matched)
        {
            return;
        }
        final long appended = in.appendedPosition();
        if (appended > journal.committedPosition())
        {
            throw new IllegalStateException("standby reports position " + appended + " beyond the primary's log (" +
                journal.committedPosition() + ") in the same epoch");
        }
        if (appended > sendPosition)
        {
            // batches in flight before a rewind arrived and filled the gap: skip ahead instead of resending them
            closeReader();
            reader = journal.reader(appended);
            sendPosition = appended;
            pendingBatchLength = 0;
        }
        standbyAppended = Math.max(standbyAppended, appended);
        advanceAcked(in.durablePosition());
        final long resendFrom = in.resendFrom();
        if (resendFrom >= 0 && resendFrom < journal.startPosition())
        {
            standbyNeedsSnapshot(resendFrom);
            return;
        }
        if (resendFrom >= 0 && resendFrom < sendPosition && resendFrom == appended)
        {
            closeReader();
            reader = journal.reader(resendFrom);
            sendPosition = resendFrom;
            pendingBatchLength = 0;
            counters.resendsServed.incrementAndGet();
        }
    }

    private void advanceAcked(final long durable)
    {
        if (durable > counters.standbyAckedPosition.get())
        {
            counters.standbyAckedPosition.set(durable);
        }
    }

    private void sendPrimaryHeartbeat()
    {
        final boolean sync = AckMode.SYNC == gate.mode() && !gate.degraded && !gate.alone;
        out.wrapAndApplyHeader(controlBuffer, 0, TYPE_PRIMARY_HEARTBEAT, selfId, epoch, Role.PRIMARY,
            sync ? FLAG_SYNC : 0)
            .primaryHeartbeat(journal.committedPosition(), gate.releasedPosition(), journal.startPosition());
        offer(controlBuffer, PRIMARY_HEARTBEAT_LENGTH);
    }

    private long offer(final UnsafeBuffer buffer, final int length)
    {
        return peerLinkDown ? 1 : publication.offer(buffer, 0, length);
    }

    // -------------------------------------------------------------------------------------------------------
    // witness

    private int witnessPrimaryDuty(final boolean connected, final long committed, final long acked)
    {
        int work = 0;
        if (!connected)
        {
            if (wantPeerInSync)
            {
                // the standby is gone: take it out of the in-sync set before acknowledging anything it lacks
                wantPeerInSync = false;
                peerInSyncConfirmed = false;
                firstRemovalSeq = Long.MAX_VALUE;
                nextWitnessRequestNs = nowNs;
                LOG.warn("member {} (primary, epoch {}): standby lost; asking the witness to take it out of the " +
                    "in-sync set, then acknowledging alone", selfId, epoch);
            }
            else if (readdPending)
            {
                readdPending = false; // the witness never heard of the re-add: still alone there
                gate.alone = true;
            }
        }
        else if (gate.alone && !readdPending && committed - acked <= maxBatchBytes)
        {
            // the standby is nearly caught up: release only what it holds from now on, then add it back once it
            // holds everything released so far
            gate.alone = false;
            readdPending = true;
        }
        else if (readdPending && (AckMode.ASYNC == gate.mode() || acked >= gate.releasedPosition()))
        {
            readdPending = false;
            wantPeerInSync = true;
            nextWitnessRequestNs = nowNs;
        }

        if (nowNs - nextWitnessRequestNs >= 0)
        {
            sendWitness(WitnessMessage.TYPE_RENEW, wantPeerInSync ? WitnessMessage.FLAG_PEER_IN_SYNC : 0, epoch);
            work++;
        }

        final boolean canRelease = connected || (gate.alone && nowNs - leaseUntilNs < 0);
        if (canRelease)
        {
            cannotReleaseSinceNs = -1;
            if (gate.noStandby)
            {
                gate.noStandby = false;
            }
        }
        else
        {
            if (cannotReleaseSinceNs < 0)
            {
                cannotReleaseSinceNs = nowNs;
            }
            if (!gate.noStandby && nowNs - cannotReleaseSinceNs > failureTimeoutNs)
            {
                gate.noStandby = true;
                LOG.warn("member {} (primary, epoch {}): no standby and no valid lease to acknowledge alone " +
                    "(witness silent for {} ms): answering NO_STANDBY", selfId, epoch,
                    TimeUnit.NANOSECONDS.toMillis(nowNs - lastWitnessReplyNs));
            }
        }
        if (nowNs - lastWitnessReplyNs > failureTimeoutNs && !witnessSilentLogged)
        {
            witnessSilentLogged = true;
            LOG.warn("member {} ({}, epoch {}): witness {} silent for {} ms", selfId, role, epoch, ctx.witness(),
                TimeUnit.NANOSECONDS.toMillis(nowNs - lastWitnessReplyNs));
        }
        return work;
    }

    private void requestVote()
    {
        final long candidate = nextOwnEpoch(Math.max(epoch, witnessEpochSeen));
        sendWitness(WitnessMessage.TYPE_VOTE, 0, candidate); // first, then log: the answer does not wait for the line
        // the vote is granted the moment the lease lapses: ask often (a 64-byte datagram) so as not to add up to a
        // heartbeat to the failover
        nextWitnessRequestNs = nowNs + voteRetryNs;
        if (candidate != voteCandidate)
        {
            voteCandidate = candidate;
            LOG.info("member {}: primary {} silent for {} ms; asking the witness for a vote in epoch {}", selfId,
                leaderId, TimeUnit.NANOSECONDS.toMillis(nowNs - lastPrimaryContactNs), candidate);
        }
    }

    private void sendWitness(final int type, final int flags, final long requestEpoch)
    {
        final long seq = Math.max(nowNs, lastWitnessSeq + 1); // strictly increasing: orders in-sync requests
        lastWitnessSeq = seq;
        if (WitnessMessage.TYPE_RENEW == type && 0 == flags && Long.MAX_VALUE == firstRemovalSeq)
        {
            firstRemovalSeq = seq;
        }
        if (!witnessLinkDown)
        {
            witness.send(type, flags, requestEpoch, seq);
        }
        nextWitnessRequestNs = nowNs + heartbeatIntervalNs;
        witnessPollUntilNs = nowNs + heartbeatIntervalNs;
    }

    private int pollWitness()
    {
        int work = 0;
        WitnessMessage reply;
        while (null != (reply = witness.poll()))
        {
            work++;
            if (witnessLinkDown)
            {
                continue;
            }
            lastWitnessReplyNs = nowNs;
            if (witnessSilentLogged)
            {
                witnessSilentLogged = false;
                LOG.info("member {}: witness {} answers again", selfId, ctx.witness());
            }
            if (witnessLeaseNs < 0)
            {
                witnessLeaseNs = TimeUnit.MILLISECONDS.toNanos(reply.leaseMs());
                witnessMarginNs = Witness.marginNs(reply.leaseMs());
                LOG.info("member {}: witness {} grants leases of {} ms", selfId, ctx.witness(), reply.leaseMs());
            }
            final long replyEpoch = reply.epoch();
            witnessEpochSeen = Math.max(witnessEpochSeen, replyEpoch);
            final int result = reply.result();
            if (Role.PRIMARY == role)
            {
                onRenewReply(reply, replyEpoch, result);
            }
            else if (Role.STANDBY == role && WitnessMessage.RESULT_GRANTED == result && reply.holder() == selfId &&
                replyEpoch > epoch && replyEpoch % memberCount == memberIndex)
            {
                leaseUntilNs = reply.sendTimeNs() + witnessLeaseNs - witnessMarginNs;
                gate.leaseUntilNs = leaseUntilNs;
                // renew at once: its answer arrives while the node persists the epoch and the engine takes the lead,
                // so the lease that started with the vote request does not lapse before the first answers go out
                sendWitness(WitnessMessage.TYPE_RENEW, 0, replyEpoch);
                promote(replyEpoch);
                return work;
            }
            else if (Role.STANDBY == role && WitnessMessage.RESULT_GRANTED != result &&
                (result != lastRefusal || replyEpoch != lastRefusalEpoch))
            {
                lastRefusal = result;
                lastRefusalEpoch = replyEpoch;
                if (WitnessMessage.RESULT_NOT_IN_SYNC == result)
                {
                    LOG.error("member {}: the witness refuses to promote this member: it is not in the in-sync set " +
                        "(it may lack acknowledged commands; primary member {} in epoch {}). No automatic " +
                        "failover: the pair is unavailable until that primary returns", selfId, reply.holder(),
                        replyEpoch);
                }
                else
                {
                    LOG.info("member {}: witness refuses the vote: {} (epoch {}, primary member {})", selfId,
                        WitnessMessage.resultName(result), replyEpoch, reply.holder());
                }
            }
        }
        return work;
    }

    private void onRenewReply(final WitnessMessage reply, final long replyEpoch, final int result)
    {
        if (WitnessMessage.RESULT_GRANTED == result && replyEpoch == epoch && reply.holder() == selfId)
        {
            final long until = reply.sendTimeNs() + witnessLeaseNs - witnessMarginNs;
            if (until - leaseUntilNs > 0)
            {
                leaseUntilNs = until;
                gate.leaseUntilNs = until;
            }
            if (!wantPeerInSync && !readdPending && !gate.alone && !reply.peerInSync() &&
                reply.sendTimeNs() >= firstRemovalSeq)
            {
                gate.alone = true;
                LOG.warn("member {} (primary, epoch {}): the witness took the standby out of the in-sync set: " +
                    "acknowledging alone", selfId, epoch);
            }
            else if (wantPeerInSync && reply.peerInSync() && !peerInSyncConfirmed)
            {
                peerInSyncConfirmed = true;
                LOG.info("member {} (primary, epoch {}): standby back in the in-sync set", selfId, epoch);
            }
        }
        else if (replyEpoch > epoch)
        {
            LOG.warn("member {} (primary, epoch {}): the witness knows epoch {} with primary member {}", selfId, epoch,
                replyEpoch, reply.holder());
            stepDown(replyEpoch, reply.holder());
        }
        else if (result != lastRefusal)
        {
            lastRefusal = result;
            LOG.error("member {} (primary, epoch {}): the witness refuses the lease: {} (it knows epoch {}, primary " +
                "member {}); acknowledging only what the standby holds", selfId, epoch,
                WitnessMessage.resultName(result), replyEpoch, reply.holder());
        }
    }

    /**
     * Standby: can the application rebuild after cutting the log back to the position? Always with a complete
     * journal; with a partial one (retention, an installed snapshot) only if the position is inside it and a kept
     * snapshot lies between its start and the position.
     */
    private boolean rebuildableAfterTruncation(final long position)
    {
        final long start = journal.startPosition();
        if (0 == start)
        {
            return true;
        }
        if (position < start || null == ctx.snapshotDir())
        {
            return false;
        }
        for (final long snapshot : io.keel.journal.SnapshotStore.openForReading(ctx.snapshotDir()).positions())
        {
            if (snapshot >= start && snapshot <= position)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Primary: the standby needs frames from a segment retention deleted meanwhile (it was matched while still
     * catching up). Stop streaming and tell it to handshake again: it is then answered with the snapshot.
     */
    private int standbyNeedsSnapshot(final long position)
    {
        closeReader();
        matched = false;
        pendingBatchLength = 0;
        LOG.warn("member {}: standby {} needs the log from {} but the journal now starts at {}: it handshakes again " +
            "for the snapshot", selfId, peerId, position, journal.startPosition());
        out.wrapAndApplyHeader(controlBuffer, 0, TYPE_MATCH, selfId, epoch, Role.PRIMARY, 0)
            .match(standbyAppended, ReplicationMessage.ACTION_INSTALL_SNAPSHOT, journal.startPosition());
        publication.offer(controlBuffer, 0, MATCH_LENGTH);
        return 1;
    }

    /** Primary: send what the publication takes of the snapshot in transfer; a full publication retries later. */
    private int sendSnapshotChunks()
    {
        int sent = 0;
        final int maxChunk = batchBuffer.capacity() - ReplicationMessage.SNAPSHOT_CHUNK_HEADER_LENGTH;
        while (!transfer.done() && sent < 8)
        {
            final int chunk = Math.min(maxChunk, transfer.length - transfer.sent);
            out.wrapAndApplyHeader(batchBuffer, 0, ReplicationMessage.TYPE_SNAPSHOT_CHUNK, selfId, epoch,
                Role.PRIMARY, 0).snapshotChunk(transfer.position, transfer.epochBefore, transfer.length,
                transfer.sent, transfer.crc, chunk);
            batchBuffer.putBytes(ReplicationMessage.SNAPSHOT_CHUNK_HEADER_LENGTH, transfer.payload, transfer.sent,
                chunk);
            if (offer(batchBuffer, ReplicationMessage.SNAPSHOT_CHUNK_HEADER_LENGTH + chunk) <= 0)
            {
                break;
            }
            transfer.sent += chunk;
            sent++;
        }
        if (transfer.done())
        {
            transfer.doneNs = nowNs;
            LOG.info("member {}: snapshot at {} sent to standby {} ({} bytes)", selfId, transfer.position, peerId,
                transfer.length);
        }
        return sent;
    }

    /**
     * Standby: collect the snapshot's chunks in order; once whole and its CRC checks out, install it: write it to
     * the snapshot directory (temp, fsync, rename), restart the journal empty at its position, have the
     * application rebuild from it, and handshake again from there. A gap (a chunk lost with its image) drops what
     * was collected; the primary sends the snapshot again on the next handshake.
     */
    private void onSnapshotChunk(final DirectBuffer buffer, final int offset, final int length)
    {
        final long position = in.snapshotPosition();
        final int total = in.snapshotPayloadLength();
        final int chunkOffset = in.chunkOffset();
        final int chunk = in.chunkLength();
        if (STATE_HANDSHAKE != followState || position != installPosition || total < 0 || chunk < 0 ||
            length != ReplicationMessage.SNAPSHOT_CHUNK_HEADER_LENGTH + chunk || chunkOffset + (long)chunk > total)
        {
            if (position != installPosition)
            {
                return; // an older transfer's chunk
            }
            counters.malformedMessages.incrementAndGet();
            return;
        }
        if (chunkOffset > 0 && total != installTotal)
        {
            return; // a chunk of another transfer at the same position
        }
        if (chunkOffset != installReceived)
        {
            installReceived = 0; // a gap: start over with the next transfer
            if (chunkOffset != 0)
            {
                return;
            }
        }
        if (0 == chunkOffset)
        {
            installTotal = total;
            if (null == installBuffer || installBuffer.capacity() < total)
            {
                installBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(total, 1)));
            }
        }
        installBuffer.putBytes(chunkOffset, buffer, offset + ReplicationMessage.SNAPSHOT_CHUNK_HEADER_LENGTH, chunk);
        installReceived = chunkOffset + chunk;
        if (installReceived < total)
        {
            return;
        }
        final ByteBuffer payload = installBuffer.byteBuffer().duplicate();
        payload.clear().limit(total);
        final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(payload.duplicate());
        if ((int)crc.getValue() != in.snapshotPayloadCrc())
        {
            counters.malformedMessages.incrementAndGet();
            LOG.warn("member {}: snapshot at {} from member {} fails its checksum: asking again", selfId, position,
                leaderId);
            installReceived = 0;
            installPosition = -1;
            sendStandbyStatus(-1);
            return;
        }
        installSnapshot(position, in.snapshotEpochBefore(), payload);
    }

    private void installSnapshot(final long position, final long epochBefore, final ByteBuffer payload)
    {
        if (null == ctx.snapshotDir())
        {
            throw new IllegalStateException("member " + selfId + " has no snapshot directory to install member " +
                leaderId + "'s snapshot at " + position + " in");
        }
        final long end = appender.position();
        io.keel.journal.SnapshotStore.open(ctx.snapshotDir(), Integer.MAX_VALUE).write(position, payload);
        journal.resetTo(position, epochBefore);
        counters.truncations.incrementAndGet();
        counters.truncatedBytes.addAndGet(Math.max(0, end - journal.startPosition()));
        node.lowestTruncation = Math.min(node.lowestTruncation, position);
        node.truncations++;
        if (null != ctx.truncationListener())
        {
            ctx.truncationListener().accept(position);
        }
        LogMatching.lastGroupFrame(journal, lastFrame);
        installPosition = -1;
        installReceived = 0;
        LOG.warn("member {}: installed member {}'s snapshot at {} ({} bytes); the journal restarts there", selfId,
            leaderId, position, payload.remaining());
        sendStandbyStatus(-1);
    }

    private void closeReader()
    {
        if (null != reader)
        {
            reader.close();
            reader = null;
        }
    }

    /** Copies whole frames from the reader into the batch, zeroing their padding. */
    private final class FrameCopier implements io.keel.journal.FrameHandler
    {
        int length;

        @Override
        public void onFrame(final JournalFrame frame)
        {
            final int frameLength = frame.frameLength();
            final int aligned = frame.alignedLength();
            final int at = FRAMES_HEADER_LENGTH + length;
            batchBuffer.putLong(at + aligned - FrameDescriptor.FRAME_ALIGNMENT, 0L);
            batchBuffer.putBytes(at, frame.buffer(), frame.offset(), frameLength);
            length += aligned;
        }
    }

    /** Primary: one snapshot on its way to the standby. */
    static final class SnapshotTransfer
    {
        /** A standby still handshaking this long after the last chunk went out is sent the snapshot again. */
        static final long RESEND_AFTER_NS = TimeUnit.MILLISECONDS.toNanos(200);

        final long standbyEnd;
        final long position;
        final long epochBefore;
        final UnsafeBuffer payload;
        final int length;
        final int crc;
        int sent;
        long doneNs;

        private SnapshotTransfer(final long standbyEnd, final long position, final long epochBefore,
            final ByteBuffer bytes)
        {
            this.standbyEnd = standbyEnd;
            this.position = position;
            this.epochBefore = epochBefore;
            this.length = bytes.remaining();
            final ByteBuffer copy = ByteBuffer.allocateDirect(Math.max(length, 1));
            copy.put(bytes.duplicate()).flip();
            this.payload = new UnsafeBuffer(copy);
            final java.util.zip.CRC32C checksum = new java.util.zip.CRC32C();
            checksum.update(copy.duplicate());
            this.crc = (int)checksum.getValue();
        }

        boolean done()
        {
            return sent >= length;
        }

        /**
         * The newest readable snapshot within the primary's retained journal, or null when there is none.
         */
        static SnapshotTransfer newest(final java.nio.file.Path dir, final Journal journal, final long standbyEnd)
        {
            if (null == dir || !java.nio.file.Files.isDirectory(dir))
            {
                return null;
            }
            final io.keel.journal.SnapshotStore store = io.keel.journal.SnapshotStore.openForReading(dir);
            final java.util.List<java.nio.file.Path> files = store.list();
            for (int i = files.size() - 1; i >= 0; i--)
            {
                try
                {
                    final io.keel.journal.Snapshot snapshot = store.read(files.get(i));
                    final long position = snapshot.logPosition();
                    if (position < journal.startPosition() || position > journal.committedPosition())
                    {
                        continue;
                    }
                    return new SnapshotTransfer(standbyEnd, position, LogMatching.epochBefore(journal, position),
                        snapshot.payload());
                }
                catch (final RuntimeException ex)
                {
                    LOG.warn("snapshot {} cannot be sent ({}); trying an older one", files.get(i), ex.getMessage());
                }
            }
            return null;
        }
    }
}
