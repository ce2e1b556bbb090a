package io.keel.gateway;

import io.aeron.Aeron;
import io.keel.engine.Engine;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The client-facing side of a node: an Aeron UDP ingress where clients connect and send commands, sessions with
 * authentication and limits, and an egress publication per session carrying the engine's answers. Runs one agent
 * on its own thread; the engine's thread is never blocked by it.
 * <p>
 * Shutting down is two steps so nothing acknowledged is lost: {@link #stopIngress()} (no new input), then close
 * the engine (it drains and answers everything in its ring), then {@link #close()} (deliver those answers, tell
 * each session, stop).
 */
public final class Gateway implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
    private static final long STOP_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private final GatewayContext ctx;
    private final String ingressChannel;
    private final GatewayCounters counters;
    private final GatewayAgent agent;
    private final AgentRunner runner;
    private volatile int primaryMemberId;
    private volatile boolean holdConnects;
    private volatile boolean ingressStopRequested;
    private volatile boolean ingressStopped;
    private volatile boolean drainRequested;
    private volatile boolean drained;
    private boolean closed;

    private Gateway(final GatewayContext ctx, final Engine engine, final Aeron aeron)
    {
        this.ctx = ctx;
        this.primaryMemberId = GatewayContext.SELF == ctx.initialPrimaryMemberId() ? ctx.memberId() :
            ctx.initialPrimaryMemberId(); // set before the thread starts: its first cycle may answer a connect
        this.ingressChannel = ctx.member(ctx.memberId()).ingressChannel();
        final ErrorHandler errorHandler = ex ->
        {
            if (null != ctx.errorHandler())
            {
                ctx.errorHandler().onError(ex);
            }
            else
            {
                LOG.error("gateway error", ex);
            }
        };
        this.counters = new GatewayCounters(aeron, ctx.countersManager(), ctx.memberId());
        try
        {
            this.agent = new GatewayAgent(ctx, this, engine, aeron, counters, errorHandler);
        }
        catch (final RuntimeException ex)
        {
            counters.close();
            throw ex;
        }
        this.runner = new AgentRunner(ctx.idleStrategy(), errorHandler, counters.errors, agent);
    }

    /**
     * Open the ingress and start the gateway thread.
     *
     * @param ctx    configuration; concluded here.
     * @param engine the engine commands go to.
     * @param aeron  a connected Aeron client.
     * @return the running gateway.
     * @throws io.aeron.exceptions.RegistrationException when the ingress cannot be opened (e.g. port in use).
     */
    public static Gateway launch(final GatewayContext ctx, final Engine engine, final Aeron aeron)
    {
        final Gateway gateway = new Gateway(ctx.conclude(engine.context().maxCommandLengthBytes()), engine, aeron);
        AgentRunner.startOnThread(gateway.runner);
        return gateway;
    }

    /** @return the ingress channel clients send to. */
    public String ingressChannel()
    {
        return ingressChannel;
    }

    /** @return the configuration. */
    public GatewayContext context()
    {
        return ctx;
    }

    /** @return counters. */
    public GatewayCounters counters()
    {
        return counters;
    }

    /** @return true when this member takes commands; otherwise clients are redirected. */
    public boolean isPrimary()
    {
        return primaryMemberId == ctx.memberId();
    }

    /**
     * While set, a member that is not the primary keeps new connects waiting (up to the connect timeout) instead of
     * redirecting them: set by the replication layer while this standby's primary is silent and it may be about
     * to take over, so a client that noticed the dead primary first is answered by the new one at once.
     *
     * @param hold whether to hold connects.
     */
    public void holdConnects(final boolean hold)
    {
        if (holdConnects != hold)
        {
            holdConnects = hold;
        }
    }

    /** @return whether connects to a non-primary wait instead of being redirected. */
    public boolean holdsConnects()
    {
        return holdConnects;
    }

    /** @return the member clients are sent to. */
    public int primaryMemberId()
    {
        return primaryMemberId;
    }

    /**
     * Set by the replication layer; the primary the gateway starts with is
     * {@link GatewayContext#initialPrimaryMemberId(int)}. Connects to any other member are redirected to the primary,
     * and commands are refused with NOT_PRIMARY.
     *
     * @param memberId the primary, or -1 when none is known (connects are refused with NOT_PRIMARY).
     */
    public void primaryMemberId(final int memberId)
    {
        if (-1 != memberId && null == ctx.member(memberId))
        {
            throw new IllegalArgumentException("primary " + memberId + " is not a member: " + ctx.members());
        }
        this.primaryMemberId = memberId;
    }

    /**
     * Stop reading the ingress and wait until the gateway thread has: after this no new command reaches the engine.
     */
    public void stopIngress()
    {
        ingressStopRequested = true;
        awaitFlag(() -> ingressStopped);
    }

    /**
     * Deliver every answer the engine has produced, tell each session the node is shutting down, and stop.
     * Close the engine first so its answers are all in.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        ingressStopRequested = true;
        drainRequested = true;
        awaitFlag(() -> drained);
        CloseHelper.quietClose(runner);
        counters.close();
    }

    private void awaitFlag(final java.util.function.BooleanSupplier flag)
    {
        final long deadlineNs = System.nanoTime() + STOP_TIMEOUT_NS;
        while (!flag.getAsBoolean() && !runner.isClosed() && System.nanoTime() < deadlineNs)
        {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
        }
    }

    boolean ingressStopRequested()
    {
        return ingressStopRequested;
    }

    void ingressStopped()
    {
        ingressStopped = true;
    }

    boolean drainRequested()
    {
        return drainRequested;
    }

    void drained()
    {
        drained = true;
    }
}
