package io.keel.engine;

import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * An application for the engine: its command and event types, the handler that decides, and how to make an
 * empty aggregate for a stream. Build it once and pass it to {@link EngineContext#domain(Domain)}.
 *
 * <pre>{@code
 * Domain ledger = new Domain()
 *     .command(1, OpenAccount.class, OpenAccount::new)
 *     .event(1, AccountOpened.class, AccountOpened::new)
 *     .aggregates(streamId -> new Account())
 *     .handler(new LedgerHandler());
 * }</pre>
 */
public final class Domain
{
    private final CommandCodecs commands = new CommandCodecs();
    private final EventCodecs events = new EventCodecs();
    private CommandHandler handler;
    private LongFunction<? extends Aggregate> aggregateFactory;

    /**
     * Register a command type.
     *
     * @param typeId  stable id in [1, {@link CommandCodecs#MAX_TYPE_ID}].
     * @param type    class.
     * @param factory makes empty instances.
     * @param <C>     command type.
     * @return this.
     */
    public <C extends Command> Domain command(final int typeId, final Class<C> type, final Supplier<C> factory)
    {
        commands.register(typeId, type, factory);
        return this;
    }

    /**
     * Register an event type.
     *
     * @param typeId  stable id in [1, {@link EventCodecs#MAX_TYPE_ID}): stored in every journal frame
     *                ({@link CommandRejected#TYPE_ID} is reserved).
     * @param type    class.
     * @param factory makes empty instances.
     * @param <E>     event type.
     * @return this.
     */
    public <E extends Event> Domain event(final int typeId, final Class<E> type, final Supplier<E> factory)
    {
        events.register(typeId, type, factory);
        return this;
    }

    /**
     * @param handler decides the events of each command.
     * @return this.
     */
    public Domain handler(final CommandHandler handler)
    {
        this.handler = handler;
        return this;
    }

    /**
     * @param aggregateFactory makes the empty aggregate of a stream, before its first event is applied.
     * @return this.
     */
    public Domain aggregates(final LongFunction<? extends Aggregate> aggregateFactory)
    {
        this.aggregateFactory = aggregateFactory;
        return this;
    }

    /** @return command types. */
    public CommandCodecs commands()
    {
        return commands;
    }

    /** @return event types: also what journal tools use to render payloads. */
    public EventCodecs events()
    {
        return events;
    }

    /** @return the handler. */
    public CommandHandler handler()
    {
        return handler;
    }

    /**
     * @param streamId stream.
     * @return a new empty aggregate for it.
     */
    public Aggregate newAggregate(final long streamId)
    {
        final Aggregate aggregate = aggregateFactory.apply(streamId);
        if (null == aggregate)
        {
            throw new IllegalStateException("aggregate factory returned null for stream " + streamId);
        }
        return aggregate;
    }

    void conclude()
    {
        if (null == handler)
        {
            throw new IllegalArgumentException("domain handler must be set");
        }
        if (null == aggregateFactory)
        {
            throw new IllegalArgumentException("domain aggregate factory must be set");
        }
        commands.registry.freeze();
        events.registry.freeze();
    }
}
