package io.keel.replication;

import io.keel.engine.CounterTypes;
import io.keel.journal.Journal;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.util.concurrent.TimeUnit;

/**
 * Mirrors a member's {@link ReplicationCounters} into the node's counters file (type
 * {@link CounterTypes#REPLICATION}) so {@code keel stat}, the Prometheus endpoint and the Grafana dashboard show them,
 * also after a crash. Runs in the same duty cycle as the replication agent (after it): a few plain reads and, only for
 * values that changed, an ordered store; no allocation. Reports no work, so it never keeps the duty cycle from idling.
 * Copies at most once every {@link #EXPORT_INTERVAL_NS} (a busy gateway thread cycles every few microseconds, and
 * runs this twice per cycle).
 * <p>
 * Role and epoch are the live ones the agent publishes. Positions: {@code replication position} is this member's
 * committed journal position (what it holds, as primary or standby), {@code standby acked position} and the lag are
 * the primary's view (0 on a standby, which does not know how far behind it is).
 */
final class ReplicationCountersExport implements Agent
{
    /** Role gauge values, as the node's role gauge. */
    static final int ROLE_PRIMARY = 1;
    static final int ROLE_STANDBY = 2;
    static final int ROLE_STEPPING_DOWN = 3;

    private static final int COUNT = 24;
    private static final long NS_PER_MS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Counters are at most this stale (plus a stall of the thread). */
    static final long EXPORT_INTERVAL_NS = TimeUnit.MICROSECONDS.toNanos(100);

    private final ReplicationNode node;
    private final ReplicationCounters counters;
    private final Journal journal;
    private final AtomicCounter[] out = new AtomicCounter[COUNT];
    private final long[] last = new long[COUNT];
    private final long[] now = new long[COUNT];
    private long nextExportNs = System.nanoTime();

    ReplicationCountersExport(final ReplicationNode node, final Journal journal, final CountersManager manager)
    {
        this.node = node;
        this.counters = node.counters();
        this.journal = journal;
        int i = 0;
        out[i++] = gauge(manager, "role (1 primary, 2 standby, 3 stepping)");
        out[i++] = gauge(manager, "epoch");
        out[i++] = gauge(manager, "replication position (committed journal position)");
        out[i++] = gauge(manager, "standby acked position (primary)");
        out[i++] = gauge(manager, "lag bytes (primary: committed, not acked)");
        out[i++] = gauge(manager, "lag ms (primary: since standby caught up)");
        out[i++] = counter(manager, "promotions (failovers: became primary)");
        out[i++] = counter(manager, "step downs (saw a higher epoch)");
        out[i++] = counter(manager, "truncations (standby: divergent tail cut)");
        out[i++] = counter(manager, "truncated bytes");
        out[i++] = counter(manager, "resends served (primary)");
        out[i++] = counter(manager, "resend requests (standby)");
        out[i++] = counter(manager, "standby losses (primary)");
        out[i++] = counter(manager, "degradations (SYNC to ASYNC)");
        out[i++] = counter(manager, "batches sent");
        out[i++] = counter(manager, "bytes sent");
        out[i++] = counter(manager, "back pressured");
        out[i++] = counter(manager, "frames appended (standby)");
        out[i++] = counter(manager, "frames rejected (standby)");
        out[i++] = counter(manager, "batches dropped (test hook)");
        out[i++] = counter(manager, "malformed messages");
        out[i++] = counter(manager, "errors");
        out[i++] = counter(manager, "catch-ups (standby: reached the primary's end after following it)");
        out[i++] = counter(manager, "promotions behind (a standby still catching up took over: acknowledged loss)");
        if (COUNT != i)
        {
            throw new IllegalStateException("replication counters: allocated " + i + ", expected " + COUNT);
        }
        java.util.Arrays.fill(last, -1);
        doWork();
    }

    private static AtomicCounter gauge(final CountersManager manager, final String label)
    {
        return CounterTypes.newCounter(manager, CounterTypes.REPLICATION, CounterTypes.KIND_GAUGE, label);
    }

    private static AtomicCounter counter(final CountersManager manager, final String label)
    {
        return CounterTypes.newCounter(manager, CounterTypes.REPLICATION, CounterTypes.KIND_COUNTER, label);
    }

    static int roleValue(final Role role)
    {
        switch (role)
        {
            case PRIMARY:
                return ROLE_PRIMARY;
            case STEPPING_DOWN:
                return ROLE_STEPPING_DOWN;
            default:
                return ROLE_STANDBY;
        }
    }

    /** The last values, whatever the interval: the counters file outlives the node. */
    @Override
    public void onClose()
    {
        nextExportNs = System.nanoTime();
        doWork();
    }

    @Override
    public String roleName()
    {
        return "keel-replication-counters-" + node.memberId();
    }

    @Override
    public int doWork()
    {
        final long nowNs = System.nanoTime();
        if (nowNs - nextExportNs < 0)
        {
            return 0;
        }
        nextExportNs = nowNs + EXPORT_INTERVAL_NS;
        final boolean primary = node.isPrimary();
        int i = 0;
        now[i++] = roleValue(node.role());
        now[i++] = node.epoch();
        now[i++] = journal.committedPosition();
        now[i++] = primary ? counters.standbyAckedPosition() : 0;
        now[i++] = primary ? counters.lagBytes() : 0;
        now[i++] = primary ? counters.lagNs() / NS_PER_MS : 0;
        now[i++] = counters.promotions();
        now[i++] = counters.stepDowns();
        now[i++] = counters.truncations();
        now[i++] = counters.truncatedBytes();
        now[i++] = counters.resendsServed();
        now[i++] = counters.resendRequests();
        now[i++] = counters.standbyLosses();
        now[i++] = counters.degradations();
        now[i++] = counters.batchesSent();
        now[i++] = counters.bytesSent();
        now[i++] = counters.backPressured();
        now[i++] = counters.framesAppended();
        now[i++] = counters.framesRejected();
        now[i++] = counters.batchesDropped();
        now[i++] = counters.malformedMessages();
        now[i++] = counters.errors();
        now[i++] = counters.catchUps();
        now[i++] = counters.promotionsBehind();
        for (int c = 0; c < COUNT; c++)
        {
            if (now[c] != last[c])
            {
                last[c] = now[c];
                out[c].setRelease(now[c]);
            }
        }
        return 0;
    }
}
