package io.keel.engine;

import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongObjConsumer;

/**
 * The engine's table of streams: each stream's aggregate and version in one record, so deciding, journaling and
 * applying an event costs one hash lookup (and a one-entry cache covers the repeats within a command). The
 * versions always equal the journal's stream index (asserted when applying). Business-logic thread only.
 */
final class Streams implements Aggregates
{
    /**
     * One stream.
     */
    static final class State
    {
        final long streamId;
        Aggregate aggregate;
        long version;

        State(final long streamId, final Aggregate aggregate)
        {
            this.streamId = streamId;
            this.aggregate = aggregate;
        }
    }

    private final Long2ObjectHashMap<State> states = new Long2ObjectHashMap<>();
    private final Domain domain;
    private State last;

    Streams(final Domain domain)
    {
        this.domain = domain;
    }

    State state(final long streamId)
    {
        final State cached = last;
        if (null != cached && cached.streamId == streamId)
        {
            return cached;
        }
        final State state = states.get(streamId);
        if (null != state)
        {
            last = state;
        }
        return state;
    }

    State stateOrCreate(final long streamId)
    {
        State state = state(streamId);
        if (null == state)
        {
            state = new State(streamId, domain.newAggregate(streamId));
            states.put(streamId, state);
            last = state;
        }
        return state;
    }

    void put(final long streamId, final Aggregate aggregate, final long version)
    {
        final State state = new State(streamId, aggregate);
        state.version = version;
        states.put(streamId, state);
        last = null;
    }

    void clear()
    {
        states.clear();
        last = null;
    }

    Long2ObjectHashMap<State>.ValueIterator iterator()
    {
        return states.values().iterator();
    }

    @Override
    public Aggregate get(final long streamId)
    {
        final State state = state(streamId);
        return null == state ? null : state.aggregate;
    }

    @Override
    public long version(final long streamId)
    {
        final State state = state(streamId);
        return null == state ? 0 : state.version;
    }

    @Override
    public int size()
    {
        return states.size();
    }

    @Override
    public void forEach(final LongObjConsumer<Aggregate> consumer)
    {
        states.forEachLong((id, state) -> consumer.accept(id, state.aggregate));
    }
}
