package io.keel.replication;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.keel.journal.JournalAppender;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of a replicated pair: the node-state file, an Aeron channel to the peer, and the replication agent
 * on its own thread. Launch with {@link #launch(ReplicationContext)}; close when done (the journal stays open:
 * it belongs to the caller).
 * <p>
 * Ownership of the journal appender follows the role. As {@link Role#STANDBY} the replication agent appends the
 * primary's frames. When the node is promoted ({@link #role()} turns {@link Role#PRIMARY}) the application owns
 * the appender and appends with {@link #epoch()}; it releases responses up to
 * {@link AckGate#releasablePosition(long)}. When it learns of a higher epoch the node turns
 * {@link Role#STEPPING_DOWN}: the gate releases nothing more, and the application stops appending and calls
 * {@link #releaseAppender()}, after which the node truncates any divergent tail and follows the new primary.
 */
public final class ReplicationNode implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationNode.class);

    private final ReplicationContext ctx;
    private final MediaDriver driver;
    private final Aeron aeron;
    private final AgentRunner runner;
    private final ReplicationAgent agent;
    private final boolean ownsAeron;
    private final AckGate gate;
    private final ReplicationCounters counters = new ReplicationCounters();
    private final NodeStateFile state;
    private volatile Role role = Role.STANDBY;
    private volatile long epoch;
    volatile boolean appenderReleased;
    volatile boolean holdConnects;

    // hosted mode (an application applies the journal too): see launchHosted
    final boolean gated;
    volatile long followGeneration;
    volatile long haltedGeneration;
    volatile long matchedGeneration = -1;
    volatile long followingGeneration = -1;
    volatile int leaderId = -1;
    volatile long truncations;
    volatile long lowestTruncation = Long.MAX_VALUE;

    private ReplicationNode(final ReplicationContext ctx, final Aeron hostAeron)
    {
        this.ctx = ctx;
        this.gated = null != hostAeron;
        this.ownsAeron = null == hostAeron;
        this.state = NodeStateFile.open(ctx.stateDir());
        this.epoch = state.epoch();
        this.gate = new AckGate(ctx.ackMode(), counters.standbyAckedPosition, null != ctx.witness());
        MediaDriver driver = null;
        Aeron aeron = null;
        try
        {
            if (ctx.launchEmbeddedDriver() && null == hostAeron)
            {
                driver = MediaDriver.launch(new MediaDriver.Context()
                    .aeronDirectoryName(ctx.aeronDirectoryName())
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true)
                    .threadingMode(ThreadingMode.SHARED)
                    .sharedIdleStrategy(ctx.idleStrategySupplier().get())
                    .spiesSimulateConnection(false));
            }
            aeron = null != hostAeron ? hostAeron :
                Aeron.connect(new Aeron.Context().aeronDirectoryName(ctx.aeronDirectoryName()));
            final Subscription subscription = aeron.addSubscription(
                "aeron:udp?endpoint=" + ctx.self().replicationEndpoint(), ctx.streamId());
            final ExclusivePublication publication = aeron.addExclusivePublication(
                "aeron:udp?endpoint=" + ctx.peer().replicationEndpoint() + "|term-length=" + ctx.termLengthBytes(),
                ctx.streamId());
            this.agent = new ReplicationAgent(ctx, this, subscription, publication, state, gate, counters);
            this.runner = null != hostAeron ? null :
                new AgentRunner(ctx.idleStrategySupplier().get(), this::onError, null, agent);
        }
        catch (final RuntimeException ex)
        {
            if (null == hostAeron)
            {
                CloseHelper.quietClose(aeron);
            }
            CloseHelper.quietClose(driver);
            throw ex;
        }
        this.driver = driver;
        this.aeron = aeron;
    }

    /**
     * Start a member: it begins as standby, follows a primary it hears, or promotes itself when none is heard
     * within the failure timeout and it may (see the README: the last primary, or the lowest member of a fresh
     * pair, or a standby that followed the lost primary).
     *
     * @param ctx configuration; concluded here.
     * @return the running node.
     */
    public static ReplicationNode launch(final ReplicationContext ctx)
    {
        final ReplicationNode node = new ReplicationNode(ctx.conclude(), null);
        AgentRunner.startOnThread(node.runner);
        return node;
    }

    /**
     * A member whose agent runs in a host's duty cycle (no thread, no driver of its own) and whose application
     * applies the journal as the agent appends to it. The application must acknowledge every new follow generation
     * ({@link #followGeneration()}) with {@link #applicationHalted(long)} once it stopped reading the journal: only
     * then does the agent match logs (and maybe truncate) with the new primary.
     *
     * @param ctx   configuration; concluded here.
     * @param aeron the host's Aeron client (registrations happen on the calling thread, before the host runs).
     * @return the node; run {@link #agent()} from the host's duty cycle.
     */
    public static ReplicationNode launchHosted(final ReplicationContext ctx, final Aeron aeron)
    {
        return new ReplicationNode(ctx.conclude(), java.util.Objects.requireNonNull(aeron, "aeron"));
    }

    /** @return the duty cycle, for a host running it ({@link #launchHosted}). */
    public org.agrona.concurrent.Agent agent()
    {
        return agent;
    }

    /** @return the primary this member knows of: itself while primary, the followed one, or -1. */
    public int leaderId()
    {
        return Role.PRIMARY == role ? ctx.self().id() : leaderId;
    }

    /** @return incremented each time the member starts following a primary (a handshake, maybe a truncation). */
    public long followGeneration()
    {
        return followGeneration;
    }

    /** @return the follow generation whose handshake completed (the log matches the primary's), or -1. */
    public long matchedGeneration()
    {
        return matchedGeneration;
    }

    /**
     * Hosted mode: the application stopped reading the journal for this follow generation.
     *
     * @param generation from {@link #followGeneration()}.
     */
    public void applicationHalted(final long generation)
    {
        haltedGeneration = generation;
    }

    /**
     * Hosted mode: the application follows the log again for this generation (it rebuilt, if it had to, after a
     * truncation or a snapshot install). Until then the standby appends nothing: the application's rebuild reads the
     * journal's index, which only the appending thread may change.
     *
     * @param generation from {@link #followGeneration()}.
     */
    public void applicationFollowing(final long generation)
    {
        followingGeneration = generation;
    }

    /** @return truncations of the journal by log matching so far. */
    public long truncations()
    {
        return truncations;
    }

    /** @return lowest position the journal was truncated to so far, or Long.MAX_VALUE. */
    public long lowestTruncation()
    {
        return lowestTruncation;
    }

    /** @return whether clients' connects should wait: a standby whose primary is silent, with a witness. */
    public boolean holdConnects()
    {
        return holdConnects;
    }

    /** @return current role. */
    public Role role()
    {
        return role;
    }

    /** @return current epoch: the one to write frames with while primary. */
    public long epoch()
    {
        return epoch;
    }

    /** @return true while primary (the application owns the appender). */
    public boolean isPrimary()
    {
        return Role.PRIMARY == role;
    }

    /** @return the gate that decides what may be acknowledged. */
    public AckGate ackGate()
    {
        return gate;
    }

    /** @return the counters. */
    public ReplicationCounters counters()
    {
        return counters;
    }

    /** @return this member's id. */
    public int memberId()
    {
        return ctx.self().id();
    }

    /** @return the configuration. */
    public ReplicationContext context()
    {
        return ctx;
    }

    /**
     * Application thread, after {@link Role#STEPPING_DOWN}: abort any open group, flush, and hand the appender
     * back to the replication agent.
     */
    public void releaseAppender()
    {
        if (Role.STEPPING_DOWN != role)
        {
            throw new IllegalStateException("releaseAppender while " + role);
        }
        final JournalAppender appender = ctx.journal().appender();
        if (appender.inGroup())
        {
            appender.abortGroup();
        }
        appender.flush();
        appenderReleased = true;
    }

    void publishRole(final Role newRole, final long newEpoch)
    {
        epoch = newEpoch;
        role = newRole;
    }

    private void onError(final Throwable ex)
    {
        counters.errors.incrementAndGet();
        LOG.error("member {} replication error", ctx.self().id(), ex);
    }

    /** Stop the agent, the Aeron client and the embedded driver. The journal stays open. */
    @Override
    public void close()
    {
        gate.primary = false;
        CloseHelper.closeAll(runner, ownsAeron ? aeron : null, driver);
    }
}
