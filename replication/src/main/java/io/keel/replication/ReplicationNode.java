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
    private final AckGate gate;
    private final ReplicationCounters counters = new ReplicationCounters();
    private final NodeStateFile state;
    private volatile Role role = Role.STANDBY;
    private volatile long epoch;
    volatile boolean appenderReleased;

    private ReplicationNode(final ReplicationContext ctx)
    {
        this.ctx = ctx;
        this.state = NodeStateFile.open(ctx.stateDir());
        this.epoch = state.epoch();
        this.gate = new AckGate(ctx.ackMode(), counters.standbyAckedPosition);
        MediaDriver driver = null;
        Aeron aeron = null;
        try
        {
            if (ctx.launchEmbeddedDriver())
            {
                driver = MediaDriver.launch(new MediaDriver.Context()
                    .aeronDirectoryName(ctx.aeronDirectoryName())
                    .dirDeleteOnStart(true)
                    .dirDeleteOnShutdown(true)
                    .threadingMode(ThreadingMode.SHARED)
                    .sharedIdleStrategy(ctx.idleStrategySupplier().get())
                    .spiesSimulateConnection(false));
            }
            aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(ctx.aeronDirectoryName()));
            final Subscription subscription = aeron.addSubscription(
                "aeron:udp?endpoint=" + ctx.self().replicationEndpoint(), ctx.streamId());
            final ExclusivePublication publication = aeron.addExclusivePublication(
                "aeron:udp?endpoint=" + ctx.peer().replicationEndpoint() + "|term-length=" + ctx.termLengthBytes(),
                ctx.streamId());
            final ReplicationAgent agent = new ReplicationAgent(ctx, this, subscription, publication, state, gate,
                counters);
            this.runner = new AgentRunner(ctx.idleStrategySupplier().get(), this::onError, null, agent);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(aeron);
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
        final ReplicationNode node = new ReplicationNode(ctx.conclude());
        AgentRunner.startOnThread(node.runner);
        return node;
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
        CloseHelper.closeAll(runner, aeron, driver);
    }
}
