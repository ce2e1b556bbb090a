package io.keel.gateway;

import io.keel.engine.EngineContext;
import io.keel.gateway.protocol.Protocol;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.IdleStrategy;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Configuration of a {@link Gateway}. Defaults come from system properties ({@code keel.gateway.*});
 * {@link #conclude()} validates every setting and fails naming it.
 */
public final class GatewayContext
{
    /** Ingress stream id. */
    public static final String INGRESS_STREAM_ID_PROP = "keel.gateway.ingress.stream.id";
    /** Most open sessions. */
    public static final String MAX_SESSIONS_PROP = "keel.gateway.max.sessions";
    /** Most commands (and queries) in flight per session. */
    public static final String MAX_IN_FLIGHT_PROP = "keel.gateway.max.in.flight";
    /** Largest message accepted on the ingress. */
    public static final String MAX_MESSAGE_LENGTH_PROP = "keel.gateway.max.message.length";
    /** A session that sends nothing for this long is closed. */
    public static final String SESSION_TIMEOUT_MS_PROP = "keel.gateway.session.timeout.ms";
    /** A connect that does not complete in this long is dropped. */
    public static final String CONNECT_TIMEOUT_MS_PROP = "keel.gateway.connect.timeout.ms";
    /**
     * true: a standby adds its watchers' publications only once it holds connects (see
     * {@link #deferWatchPublications}); false (the default): as each WATCH arrives.
     */
    public static final String DEFER_WATCH_PUBLICATIONS_PROP = "keel.gateway.watch.publication.defer";
    /**
     * How long a standby keeps the publications it added for its watchers (see {@link #watchPublicationLingerNs})
     * after it last held connects.
     */
    public static final String WATCH_PUBLICATION_LINGER_MS_PROP = "keel.gateway.watch.publication.linger.ms";
    /** Term length of each session's egress publication. */
    public static final String EGRESS_TERM_LENGTH_PROP = "keel.gateway.egress.term.length";
    /** Idle strategy of the gateway thread: busy-spin, yield, backoff or sleep. */
    public static final String IDLE_STRATEGY_PROP = "keel.gateway.idle";

    public static final int INGRESS_STREAM_ID_DEFAULT = 101;
    public static final int MAX_SESSIONS_DEFAULT = 64;
    public static final int MAX_SESSIONS_LIMIT = 4096;
    public static final int MAX_IN_FLIGHT_DEFAULT = 1024;
    public static final int MAX_IN_FLIGHT_LIMIT = 1 << 16;
    /** Total commands in flight over all sessions, at most: sizes the answer ring. */
    public static final int MAX_TOTAL_IN_FLIGHT_LIMIT = 1 << 16;
    public static final int MAX_MESSAGE_LENGTH_DEFAULT = 1024;
    public static final long SESSION_TIMEOUT_MS_DEFAULT = 5_000;
    public static final long CONNECT_TIMEOUT_MS_DEFAULT = 5_000;
    public static final long WATCH_PUBLICATION_LINGER_MS_DEFAULT = 5_000;
    public static final int EGRESS_TERM_LENGTH_DEFAULT = 1 << 20;
    /** Attempts to offer one egress message to a back-pressured client before it is dropped (and counted). */
    public static final int EGRESS_ATTEMPTS = 3;
    /** Fragments polled from the ingress per duty cycle. */
    public static final int INGRESS_FRAGMENT_LIMIT = 64;
    /** Engine answers handed to clients per duty cycle. */
    public static final int ANSWER_LIMIT = 256;
    /** {@link #initialPrimaryMemberId(int)}: this member takes commands from the start. */
    public static final int SELF = -2;
    /** {@link #initialPrimaryMemberId(int)}: no primary known (connects refused with NOT_PRIMARY, watches held). */
    public static final int NO_PRIMARY = -1;
    /** How long a closed session's id is remembered, so late commands get UNKNOWN_SESSION with a reason. */
    public static final long CLOSED_SESSION_LINGER_NS = TimeUnit.SECONDS.toNanos(2);

    private int memberId;
    private int initialPrimaryMemberId = SELF;
    private List<Member> members;
    private int ingressStreamId = Integer.getInteger(INGRESS_STREAM_ID_PROP, INGRESS_STREAM_ID_DEFAULT);
    private int maxSessions = Integer.getInteger(MAX_SESSIONS_PROP, MAX_SESSIONS_DEFAULT);
    private int maxInFlightPerSession = Integer.getInteger(MAX_IN_FLIGHT_PROP, MAX_IN_FLIGHT_DEFAULT);
    private int maxTotalInFlight;
    private org.agrona.concurrent.status.CountersManager countersManager;
    private int maxMessageLengthBytes = Integer.getInteger(MAX_MESSAGE_LENGTH_PROP, MAX_MESSAGE_LENGTH_DEFAULT);
    private long sessionTimeoutNs =
        TimeUnit.MILLISECONDS.toNanos(Long.getLong(SESSION_TIMEOUT_MS_PROP, SESSION_TIMEOUT_MS_DEFAULT));
    private long connectTimeoutNs =
        TimeUnit.MILLISECONDS.toNanos(Long.getLong(CONNECT_TIMEOUT_MS_PROP, CONNECT_TIMEOUT_MS_DEFAULT));
    private boolean deferWatchPublications = Boolean.getBoolean(DEFER_WATCH_PUBLICATIONS_PROP);
    private long watchPublicationLingerNs = TimeUnit.MILLISECONDS.toNanos(
        Long.getLong(WATCH_PUBLICATION_LINGER_MS_PROP, WATCH_PUBLICATION_LINGER_MS_DEFAULT));
    private int egressTermLengthBytes = Integer.getInteger(EGRESS_TERM_LENGTH_PROP, EGRESS_TERM_LENGTH_DEFAULT);
    private String idleStrategyName = System.getProperty(IDLE_STRATEGY_PROP, "yield");
    private IdleStrategy idleStrategy;
    private Credentials credentials;
    private ErrorHandler errorHandler;
    private org.agrona.concurrent.AgentInvoker driverInvoker;
    private org.agrona.concurrent.AgentInvoker companion;
    private java.util.function.LongSupplier epochSupplier;
    private boolean concluded;

    /**
     * Validate the settings and derive the rest.
     *
     * @param maxCommandLengthBytes the engine's largest command, so the message limit can hold one.
     * @return this.
     * @throws IllegalArgumentException naming the first bad setting.
     */
    public GatewayContext conclude(final int maxCommandLengthBytes)
    {
        if (concluded)
        {
            return this;
        }
        if (null == members || members.isEmpty())
        {
            throw new IllegalArgumentException("members must be set");
        }
        if (member(memberId) == null)
        {
            throw new IllegalArgumentException("--id " + memberId + " is not in --members " + members);
        }
        if (SELF != initialPrimaryMemberId && NO_PRIMARY != initialPrimaryMemberId &&
            null == member(initialPrimaryMemberId))
        {
            throw new IllegalArgumentException("initial primary " + initialPrimaryMemberId + " is not in --members " +
                members);
        }
        if (ingressStreamId <= 0)
        {
            throw new IllegalArgumentException(INGRESS_STREAM_ID_PROP + " = " + ingressStreamId + " must be > 0");
        }
        if (maxSessions < 1 || maxSessions > MAX_SESSIONS_LIMIT)
        {
            throw new IllegalArgumentException(MAX_SESSIONS_PROP + " (maxSessions) = " + maxSessions +
                " must be in [1, " + MAX_SESSIONS_LIMIT + "]");
        }
        if (maxInFlightPerSession < 1 || maxInFlightPerSession > MAX_IN_FLIGHT_LIMIT)
        {
            throw new IllegalArgumentException(MAX_IN_FLIGHT_PROP + " (maxInFlightPerSession) = " +
                maxInFlightPerSession + " must be in [1, " + MAX_IN_FLIGHT_LIMIT + "]");
        }
        if (0 == maxTotalInFlight)
        {
            maxTotalInFlight = (int)Math.min(MAX_TOTAL_IN_FLIGHT_LIMIT, (long)maxSessions * maxInFlightPerSession);
        }
        if (maxTotalInFlight < maxInFlightPerSession || maxTotalInFlight > MAX_TOTAL_IN_FLIGHT_LIMIT)
        {
            throw new IllegalArgumentException("maxTotalInFlight = " + maxTotalInFlight + " must be in [" +
                "maxInFlightPerSession = " + maxInFlightPerSession + ", " + MAX_TOTAL_IN_FLIGHT_LIMIT + "]");
        }
        final int minMessageLength = Protocol.COMMAND_PAYLOAD_OFFSET + Math.min(maxCommandLengthBytes, 64);
        if (maxMessageLengthBytes < minMessageLength || maxMessageLengthBytes > Protocol.MAX_MESSAGE_LENGTH_LIMIT)
        {
            throw new IllegalArgumentException(MAX_MESSAGE_LENGTH_PROP + " (maxMessageLengthBytes) = " +
                maxMessageLengthBytes + " must be in [" + minMessageLength + ", " +
                Protocol.MAX_MESSAGE_LENGTH_LIMIT + "]");
        }
        if (sessionTimeoutNs < TimeUnit.MILLISECONDS.toNanos(100))
        {
            throw new IllegalArgumentException(SESSION_TIMEOUT_MS_PROP + " (sessionTimeoutNs) = " +
                sessionTimeoutNs + " must be at least 100 ms");
        }
        if (watchPublicationLingerNs < 0 || watchPublicationLingerNs > TimeUnit.HOURS.toNanos(1))
        {
            throw new IllegalArgumentException(WATCH_PUBLICATION_LINGER_MS_PROP + " (watchPublicationLingerNs) = " +
                watchPublicationLingerNs + " must be in [0, 1 h]");
        }
        if (connectTimeoutNs < TimeUnit.MILLISECONDS.toNanos(100))
        {
            throw new IllegalArgumentException(CONNECT_TIMEOUT_MS_PROP + " (connectTimeoutNs) = " +
                connectTimeoutNs + " must be at least 100 ms");
        }
        if (egressTermLengthBytes < 64 * 1024 || egressTermLengthBytes > 1 << 30 ||
            Integer.bitCount(egressTermLengthBytes) != 1)
        {
            throw new IllegalArgumentException(EGRESS_TERM_LENGTH_PROP + " (egressTermLengthBytes) = " +
                egressTermLengthBytes + " must be a power of two in [64 KiB, 1 GiB]");
        }
        if (null == idleStrategy)
        {
            idleStrategy = EngineContext.idleStrategy(idleStrategyName);
        }
        concluded = true;
        return this;
    }

    /**
     * @param id member id.
     * @return the member, or null.
     */
    public Member member(final int id)
    {
        for (final Member member : members)
        {
            if (member.id() == id)
            {
                return member;
            }
        }
        return null;
    }

    /** @return this member's id. */
    public int memberId()
    {
        return memberId;
    }

    /**
     * @param memberId this member's id: its client port is where the gateway listens.
     * @return this.
     */
    public GatewayContext memberId(final int memberId)
    {
        this.memberId = memberId;
        return this;
    }

    /** @return the primary the gateway starts with: a member id, {@link #SELF} or {@link #NO_PRIMARY}. */
    public int initialPrimaryMemberId()
    {
        return initialPrimaryMemberId;
    }

    /**
     * The primary from the moment the gateway's thread starts, before anyone calls
     * {@link Gateway#primaryMemberId(int)}. A member of a replicated pair starts with {@link #NO_PRIMARY}: until its
     * replication layer knows the roles, it must not answer a connect or a watch as if it were the primary.
     *
     * @param memberId a member id, {@link #SELF} (the default: a lone node) or {@link #NO_PRIMARY}.
     * @return this.
     */
    public GatewayContext initialPrimaryMemberId(final int memberId)
    {
        this.initialPrimaryMemberId = memberId;
        return this;
    }

    /** @return every member. */
    public List<Member> members()
    {
        return members;
    }

    /**
     * @param members every member (redirects name them).
     * @return this.
     */
    public GatewayContext members(final List<Member> members)
    {
        this.members = members;
        return this;
    }

    /** @return ingress stream id. */
    public int ingressStreamId()
    {
        return ingressStreamId;
    }

    /**
     * @param ingressStreamId ingress stream id.
     * @return this.
     */
    public GatewayContext ingressStreamId(final int ingressStreamId)
    {
        this.ingressStreamId = ingressStreamId;
        return this;
    }

    /** @return most open sessions. */
    public int maxSessions()
    {
        return maxSessions;
    }

    /**
     * @param maxSessions most open sessions.
     * @return this.
     */
    public GatewayContext maxSessions(final int maxSessions)
    {
        this.maxSessions = maxSessions;
        return this;
    }

    /** @return most commands in flight per session. */
    public int maxInFlightPerSession()
    {
        return maxInFlightPerSession;
    }

    /**
     * @param maxInFlightPerSession most commands in flight per session; more get BUSY.
     * @return this.
     */
    public GatewayContext maxInFlightPerSession(final int maxInFlightPerSession)
    {
        this.maxInFlightPerSession = maxInFlightPerSession;
        return this;
    }

    /** @return most commands in flight over all sessions. */
    public int maxTotalInFlight()
    {
        return maxTotalInFlight;
    }

    /**
     * @param maxTotalInFlight most commands in flight over all sessions; more get BUSY (0 = derived).
     * @return this.
     */
    public GatewayContext maxTotalInFlight(final int maxTotalInFlight)
    {
        this.maxTotalInFlight = maxTotalInFlight;
        return this;
    }

    /** @return largest ingress message. */
    public int maxMessageLengthBytes()
    {
        return maxMessageLengthBytes;
    }

    /**
     * @param maxMessageLengthBytes largest ingress message; longer ones get TOO_LARGE.
     * @return this.
     */
    public GatewayContext maxMessageLengthBytes(final int maxMessageLengthBytes)
    {
        this.maxMessageLengthBytes = maxMessageLengthBytes;
        return this;
    }

    /** @return idle time after which a session is closed. */
    public long sessionTimeoutNs()
    {
        return sessionTimeoutNs;
    }

    /**
     * @param sessionTimeoutNs idle time after which a session is closed.
     * @return this.
     */
    public GatewayContext sessionTimeoutNs(final long sessionTimeoutNs)
    {
        this.sessionTimeoutNs = sessionTimeoutNs;
        return this;
    }

    /** @return true when a standby adds its watchers' publications only once it holds connects. */
    public boolean deferWatchPublications()
    {
        return deferWatchPublications;
    }

    /**
     * Whether a standby holds its watchers' WATCHes without a response publication while its primary speaks.
     * <ul>
     *   <li>false (the default): it adds a publication to each watching client when the WATCH arrives, so at a
     *   takeover it answers them at once. Its driver then has one sending socket per watching client to poll on
     *   every duty cycle (about 0.6 us on a pair's closed-loop round trip p50, measured on 2 cores with one
     *   client).</li>
     *   <li>true: it adds them only once its primary falls silent and it holds connects, and keeps them for
     *   {@link #watchPublicationLingerNs} after it last did. For many clients. Adding a publication costs the
     *   driver milliseconds and the connect as long again (30-145 ms on a loaded 2-core machine), so a takeover
     *   that comes before they connect waits for them: the failover bench's slowest gaps grew past 100 ms.</li>
     * </ul>
     *
     * @param deferWatchPublications see above.
     * @return this.
     */
    public GatewayContext deferWatchPublications(final boolean deferWatchPublications)
    {
        this.deferWatchPublications = deferWatchPublications;
        return this;
    }

    /** @return how long a standby keeps its watchers' publications after it last held connects. */
    public long watchPublicationLingerNs()
    {
        return watchPublicationLingerNs;
    }

    /**
     * With {@link #deferWatchPublications}, a standby adds its watchers' publications once its primary falls silent
     * and it holds connects, and keeps them this long after it last did: a primary that is often late under load
     * then costs no add and remove each time (milliseconds of driver work each), and a takeover soon after finds
     * them connected. 0 lets them go as soon as the primary speaks again.
     *
     * @param watchPublicationLingerNs time, from 0 to an hour.
     * @return this.
     */
    public GatewayContext watchPublicationLingerNs(final long watchPublicationLingerNs)
    {
        this.watchPublicationLingerNs = watchPublicationLingerNs;
        return this;
    }

    /** @return time a connect may take. */
    public long connectTimeoutNs()
    {
        return connectTimeoutNs;
    }

    /**
     * @param connectTimeoutNs time a connect may take (response publication + challenge).
     * @return this.
     */
    public GatewayContext connectTimeoutNs(final long connectTimeoutNs)
    {
        this.connectTimeoutNs = connectTimeoutNs;
        return this;
    }

    /** @return term length of egress publications. */
    public int egressTermLengthBytes()
    {
        return egressTermLengthBytes;
    }

    /**
     * @param egressTermLengthBytes term length of each session's egress publication.
     * @return this.
     */
    public GatewayContext egressTermLengthBytes(final int egressTermLengthBytes)
    {
        this.egressTermLengthBytes = egressTermLengthBytes;
        return this;
    }

    /** @return where the gateway allocates its counters (a node's counters file), or null for Aeron counters. */
    public org.agrona.concurrent.status.CountersManager countersManager()
    {
        return countersManager;
    }

    /**
     * @param countersManager where the gateway allocates its counters, e.g. the node's memory-mapped counters file;
     *                        null (default): Aeron counters in the media driver's counters file.
     * @return this.
     */
    public GatewayContext countersManager(final org.agrona.concurrent.status.CountersManager countersManager)
    {
        this.countersManager = countersManager;
        return this;
    }

    /** @return idle strategy of the gateway thread. */
    public IdleStrategy idleStrategy()
    {
        return idleStrategy;
    }

    /**
     * @param name busy-spin, yield, backoff or sleep.
     * @return this.
     */
    public GatewayContext idleStrategyName(final String name)
    {
        this.idleStrategy = EngineContext.idleStrategy(name);
        return this;
    }

    /**
     * @param idleStrategy idle strategy of the gateway thread.
     * @return this.
     */
    public GatewayContext idleStrategy(final IdleStrategy idleStrategy)
    {
        this.idleStrategy = idleStrategy;
        return this;
    }

    /** @return credentials, or null when authentication is off. */
    public Credentials credentials()
    {
        return credentials;
    }

    /**
     * @param credentials who may connect; null turns authentication off (every client may send everything).
     * @return this.
     */
    public GatewayContext credentials(final Credentials credentials)
    {
        this.credentials = credentials;
        return this;
    }

    /** @return the embedded media driver's invoker run in the gateway's duty cycle, or null. */
    public org.agrona.concurrent.AgentInvoker driverInvoker()
    {
        return driverInvoker;
    }

    /**
     * @param driverInvoker an embedded media driver in INVOKER mode: the gateway thread runs it in every duty
     *                      cycle, so the driver needs no thread of its own (null: the driver has its own threads).
     * @return this.
     */
    public GatewayContext driverInvoker(final org.agrona.concurrent.AgentInvoker driverInvoker)
    {
        this.driverInvoker = driverInvoker;
        return this;
    }

    /** @return another agent run in the gateway's duty cycle (e.g. replication), or null. */
    public org.agrona.concurrent.AgentInvoker companion()
    {
        return companion;
    }

    /**
     * @param companion a started invoker of another agent (e.g. replication) the gateway thread runs in every duty
     *                  cycle after the driver, so it needs no thread of its own; closed with the gateway.
     * @return this.
     */
    public GatewayContext companion(final org.agrona.concurrent.AgentInvoker companion)
    {
        this.companion = companion;
        return this;
    }

    /** @return extra error handler, or null. */
    public ErrorHandler errorHandler()
    {
        return errorHandler;
    }

    /**
     * @param errorHandler told about every unexpected error on the gateway thread.
     * @return this.
     */
    public GatewayContext errorHandler(final ErrorHandler errorHandler)
    {
        this.errorHandler = errorHandler;
        return this;
    }

    /** @return the live epoch a HEALTH answer reports, or null for the engine's (an unreplicated node). */
    public java.util.function.LongSupplier epochSupplier()
    {
        return epochSupplier;
    }

    /**
     * @param epochSupplier the live epoch (e.g. replication's), asked on the gateway thread for each HEALTH answer;
     *                      null (default) reports {@code NodeObservability.epochOf(engine)}.
     * @return this.
     */
    public GatewayContext epochSupplier(final java.util.function.LongSupplier epochSupplier)
    {
        this.epochSupplier = epochSupplier;
        return this;
    }
}
