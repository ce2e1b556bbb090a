package io.keel.engine;

import java.util.function.Supplier;

/**
 * Command type id to command class and back. Ids travel in ring slots (and, from the gateway, on the wire), so
 * keep them stable.
 */
public final class CommandCodecs
{
    /** Largest command type id. */
    public static final int MAX_TYPE_ID = 1023;

    final TypeRegistry<Command> registry = new TypeRegistry<>("command", MAX_TYPE_ID);

    /**
     * Register a command type.
     *
     * @param typeId  in [1, {@link #MAX_TYPE_ID}].
     * @param type    command class.
     * @param factory making empty instances to decode into.
     * @param <C>     command type.
     * @return this.
     */
    public <C extends Command> CommandCodecs register(final int typeId, final Class<C> type, final Supplier<C> factory)
    {
        registry.register(typeId, type, factory);
        return this;
    }

    /**
     * @param command instance of a registered class.
     * @return its type id.
     * @throws IllegalArgumentException when the class is not registered.
     */
    public int typeIdOf(final Command command)
    {
        final int typeId = registry.typeIdOf(command);
        if (TypeRegistry.MISSING == typeId)
        {
            throw new IllegalArgumentException("command class " + command.getClass().getName() + " is not registered");
        }
        return typeId;
    }

    /**
     * @param typeId of a command.
     * @return a new empty instance, or null when the id is unknown.
     */
    public Command newInstance(final int typeId)
    {
        return registry.newInstance(typeId);
    }
}
