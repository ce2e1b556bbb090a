package io.keel.replication;

import io.keel.engine.Engine;
import io.keel.gateway.Gateway;
import org.agrona.concurrent.Agent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Keeps the engine and the gateway in step with the replication role, in the same duty cycle as the replication
 * agent (so it sees every role change in order, with no locks):
 * <ul>
 *   <li>{@link Role#PRIMARY}: the engine leads in the node's epoch (after applying everything the journal holds);
 *   then the gateway takes commands.</li>
 *   <li>{@link Role#STEPPING_DOWN}: the gateway redirects; the engine stops appending, fails waiting answers with
 *   NOT_PRIMARY and hands the appender back.</li>
 *   <li>{@link Role#STANDBY}: for each new follow generation the engine stops reading the journal first (only then
 *   may log matching truncate it); once the logs match it follows again, rebuilding its state when the log was
 *   truncated meanwhile.</li>
 * </ul>
 * At most one engine control is in flight; the next decision waits for it.
 */
final class RoleCoordinator implements Agent
{
    private static final Logger LOG = LoggerFactory.getLogger(RoleCoordinator.class);

    private enum EngineRole
    {
        LEADING, FOLLOWING, HALTED
    }

    private final ReplicationNode node;
    private final Engine engine;
    private final int selfId;
    private final Consumer<String> roleListener;
    private volatile Gateway gateway;
    private EngineRole engineRole;
    private EngineRole requested;
    private long engineGeneration;
    private long acknowledgedHalt = -1;
    private CompletableFuture<Long> inFlight;
    private long truncationsAtBuild;
    private long lowestTruncationSinceBuild = Long.MAX_VALUE;
    private long failedControls;
    private Role announcedRole;
    private long announcedEpoch = -1;
    private int announcedPrimary = -2;

    RoleCoordinator(final ReplicationNode node, final Engine engine, final Consumer<String> roleListener)
    {
        this.node = node;
        this.engine = engine;
        this.selfId = node.memberId();
        this.roleListener = roleListener;
        this.engineRole = engine.isLeading() ? EngineRole.LEADING : EngineRole.FOLLOWING;
        this.engineGeneration = node.followGeneration();
        this.truncationsAtBuild = node.truncations();
    }

    void gateway(final Gateway gateway)
    {
        this.gateway = gateway;
    }

    /** Agent thread: a truncation happened (called by the replication agent's listener). */
    void onTruncated(final long position)
    {
        lowestTruncationSinceBuild = Math.min(lowestTruncationSinceBuild, position);
    }

    @Override
    public String roleName()
    {
        return "keel-role-coordinator-" + selfId;
    }

    @Override
    public int doWork()
    {
        if (null != inFlight)
        {
            if (!inFlight.isDone())
            {
                return 0;
            }
            if (inFlight.isCompletedExceptionally())
            {
                failedControls++;
                LOG.error("member {}: engine could not switch to {}: {}", selfId, requested,
                    inFlight.handle((v, ex) -> ex).join());
                engineRole = EngineRole.HALTED;
            }
            else
            {
                engineRole = requested;
                if (EngineRole.FOLLOWING == engineRole)
                {
                    node.applicationFollowing(engineGeneration); // rebuilt: the replicator may append again
                }
            }
            inFlight = null;
            return 1;
        }
        final Role role = node.role();
        switch (role)
        {
            case PRIMARY:
                if (EngineRole.LEADING != engineRole)
                {
                    final boolean rebuild = rebuildNeeded();
                    issue(EngineRole.LEADING, engine.lead(node.epoch(), rebuild, lowestTruncationSinceBuild),
                        rebuild);
                    return 1;
                }
                return route(selfId) + announce(Role.PRIMARY, selfId);
            case STEPPING_DOWN:
                route(node.leaderId());
                if (EngineRole.LEADING == engineRole)
                {
                    issue(EngineRole.HALTED, engine.stepDown(node::releaseAppender), false);
                    return 1;
                }
                return 0;
            default:
                return standby();
        }
    }

    private int standby()
    {
        final long generation = node.followGeneration();
        int work = route(node.leaderId());
        switch (engineRole)
        {
            case LEADING:
                throw new IllegalStateException("engine leads while the node is a standby");
            case FOLLOWING:
                if (engineGeneration != generation)
                {
                    issue(EngineRole.HALTED, engine.haltFollowing(), false);
                    engineGeneration = generation;
                    work++;
                }
                else
                {
                    work += announce(Role.STANDBY, node.leaderId());
                }
                break;
            default:
                engineGeneration = generation;
                if (acknowledgedHalt != generation)
                {
                    node.applicationHalted(generation);
                    acknowledgedHalt = generation;
                    work++;
                }
                if (node.matchedGeneration() == generation)
                {
                    final boolean rebuild = rebuildNeeded();
                    issue(EngineRole.FOLLOWING, engine.follow(rebuild, lowestTruncationSinceBuild), rebuild);
                    work++;
                }
                break;
        }
        return work;
    }

    private boolean rebuildNeeded()
    {
        return node.truncations() != truncationsAtBuild;
    }

    private void issue(final EngineRole target, final CompletableFuture<Long> control, final boolean rebuild)
    {
        requested = target;
        inFlight = control;
        if (rebuild)
        {
            truncationsAtBuild = node.truncations();
            lowestTruncationSinceBuild = Long.MAX_VALUE;
        }
    }

    private int route(final int primaryId)
    {
        final Gateway gw = gateway;
        if (null != gw)
        {
            gw.holdConnects(node.holdConnects());
        }
        if (null != gw && gw.primaryMemberId() != primaryId)
        {
            gw.primaryMemberId(primaryId);
            return 1;
        }
        return 0;
    }

    /** Tell the listener once per (role, epoch, primary): allocates only when something changed. */
    private int announce(final Role role, final int primaryId)
    {
        final long epoch = node.epoch();
        if (role == announcedRole && epoch == announcedEpoch && primaryId == announcedPrimary)
        {
            return 0;
        }
        announcedRole = role;
        announcedEpoch = epoch;
        announcedPrimary = primaryId;
        final String state = Role.PRIMARY == role ?
            "primary in epoch " + epoch + " from position " + engine.appliedPosition() :
            // the log's end, where following resumes (the engine may still be rebuilding its state from earlier)
            "standby following member " + primaryId + " in epoch " + epoch + " from position " +
                engine.journal().committedPosition();
        LOG.info("member {}: {}", selfId, state);
        if (null != roleListener)
        {
            roleListener.accept(state);
        }
        return 1;
    }

    long failedControls()
    {
        return failedControls;
    }
}
