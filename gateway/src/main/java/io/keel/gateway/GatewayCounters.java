package io.keel.gateway;

import io.aeron.Aeron;
import io.keel.engine.CounterTypes;
import org.agrona.CloseHelper;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.util.ArrayList;
import java.util.List;

/**
 * What the gateway is doing, as counters readable from outside the process: in the node's counters file when the
 * node has one ({@link GatewayContext#countersManager}; {@code keel stat}, also after the node died), else as Aeron
 * counters in the media driver's counters file (e.g. {@link #read(CountersReader, int)} or Aeron's AeronStat) while
 * the node runs. Every refused input increments exactly one counter. Written by the gateway thread only.
 */
public final class GatewayCounters implements AutoCloseable
{
    /** Aeron counter type id of Keel gateway counters. */
    public static final int TYPE_ID = CounterTypes.GATEWAY;
    /** Label prefix: {@code keel-gateway <member>: <name>}. */
    public static final String LABEL_PREFIX = "keel-gateway ";

    private final CountersManager manager;
    private final List<AtomicCounter> all = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    final AtomicCounter sessionsOpened;
    final AtomicCounter sessionsClosed;
    final AtomicCounter sessionsTimedOut;
    final AtomicCounter sessionsActive;
    final AtomicCounter authFailures;
    final AtomicCounter redirects;
    final AtomicCounter commands;
    final AtomicCounter responses;
    final AtomicCounter queries;
    final AtomicCounter malformed;
    final AtomicCounter unknownType;
    final AtomicCounter badVersion;
    final AtomicCounter tooLarge;
    final AtomicCounter unknownSession;
    final AtomicCounter unauthenticated;
    final AtomicCounter unauthorized;
    final AtomicCounter unknownCommandType;
    final AtomicCounter busy;
    final AtomicCounter ringFull;
    final AtomicCounter notPrimary;
    final AtomicCounter refusedAnswers;
    final AtomicCounter sessionLimit;
    final AtomicCounter badChannel;
    final AtomicCounter egressDropped;
    final AtomicCounter answersForClosedSessions;
    final AtomicCounter errors;
    final AtomicCounter healthChecks;
    final AtomicCounter watchesActive;
    final AtomicCounter watchesAnswered;
    final AtomicCounter watchPublicationsAdded;

    GatewayCounters(final Aeron aeron, final int memberId)
    {
        this(aeron, null, memberId);
    }

    /**
     * @param aeron    client whose driver holds the counters when there is no manager.
     * @param manager  the node's counters (file), or null.
     * @param memberId member.
     */
    GatewayCounters(final Aeron aeron, final CountersManager manager, final int memberId)
    {
        this.manager = manager;
        sessionsOpened = add(aeron, memberId, "sessions opened");
        sessionsClosed = add(aeron, memberId, "sessions closed");
        sessionsTimedOut = add(aeron, memberId, "sessions timed out");
        sessionsActive = add(aeron, memberId, "sessions active");
        authFailures = add(aeron, memberId, "auth failures");
        redirects = add(aeron, memberId, "redirects");
        commands = add(aeron, memberId, "commands submitted");
        responses = add(aeron, memberId, "responses sent");
        queries = add(aeron, memberId, "queries");
        malformed = add(aeron, memberId, "malformed");
        unknownType = add(aeron, memberId, "unknown message type");
        badVersion = add(aeron, memberId, "bad version");
        tooLarge = add(aeron, memberId, "too large");
        unknownSession = add(aeron, memberId, "unknown session");
        unauthenticated = add(aeron, memberId, "unauthenticated");
        unauthorized = add(aeron, memberId, "unauthorized");
        unknownCommandType = add(aeron, memberId, "unknown command type");
        busy = add(aeron, memberId, "busy");
        ringFull = add(aeron, memberId, "ring full");
        notPrimary = add(aeron, memberId, "not primary");
        refusedAnswers = add(aeron, memberId, "refused answers (no standby, not primary)");
        sessionLimit = add(aeron, memberId, "session limit");
        badChannel = add(aeron, memberId, "bad channel");
        egressDropped = add(aeron, memberId, "egress dropped");
        answersForClosedSessions = add(aeron, memberId, "answers for closed sessions");
        errors = add(aeron, memberId, "errors");
        healthChecks = add(aeron, memberId, "health checks");
        watchesActive = add(aeron, memberId, "watches active");
        watchesAnswered = add(aeron, memberId, "watches answered");
        watchPublicationsAdded = add(aeron, memberId, "watch publications added");
    }

    private AtomicCounter add(final Aeron aeron, final int memberId, final String name)
    {
        final String label = LABEL_PREFIX + memberId + ": " + name;
        final AtomicCounter counter = null == manager ? aeron.addCounter(TYPE_ID, label) :
            CounterTypes.newCounter(manager, TYPE_ID,
                name.endsWith(" active") ? CounterTypes.KIND_GAUGE : CounterTypes.KIND_COUNTER, label);
        all.add(counter);
        names.add(name);
        return counter;
    }

    /**
     * Read one member's gateway counters from a counters file, e.g. in a test or a stat tool.
     *
     * @param reader   counters of the media driver the node uses.
     * @param memberId member.
     * @return name to value.
     */
    public static java.util.Map<String, Long> read(final CountersReader reader, final int memberId)
    {
        final String prefix = LABEL_PREFIX + memberId + ": ";
        final java.util.Map<String, Long> values = new java.util.LinkedHashMap<>();
        reader.forEach((counterId, typeId, keyBuffer, label) ->
        {
            if (typeId == TYPE_ID && label.startsWith(prefix))
            {
                values.put(label.substring(prefix.length()), reader.getCounterValue(counterId));
            }
        });
        return values;
    }

    @Override
    public String toString()
    {
        final StringBuilder text = new StringBuilder();
        for (int i = 0; i < all.size(); i++)
        {
            final AtomicCounter counter = all.get(i);
            final long value = counter.isClosed() ? 0 : counter.get();
            if (value != 0)
            {
                text.append(text.length() == 0 ? "" : ", ").append(names.get(i)).append('=').append(value);
            }
        }
        return text.toString();
    }

    @Override
    public void close()
    {
        if (null != manager)
        {
            return; // in the node's counters file they stay readable after the gateway stopped
        }
        all.forEach(CloseHelper::quietClose);
    }
}
