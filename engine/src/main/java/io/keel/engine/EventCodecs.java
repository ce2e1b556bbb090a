package io.keel.engine;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.wire.Wire;
import net.openhft.chronicle.wire.WireType;
import org.agrona.DirectBuffer;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Event type id to event class and back, and the way tools render a journal payload: given a frame's
 * {@code (type, payload bytes)}, {@link #render} gives the event's simple name and its fields, as a map, JSON or
 * YAML. The type id is what the journal stores in each frame's {@code type} field, so keep ids stable.
 */
public final class EventCodecs
{
    /**
     * Largest event type id. It is reserved for the engine's {@link CommandRejected} frames: domains register ids in
     * [1, {@code MAX_TYPE_ID - 1}].
     */
    public static final int MAX_TYPE_ID = 1023;

    final TypeRegistry<Event> registry = new TypeRegistry<>("event", MAX_TYPE_ID);

    /**
     * An empty registry; it already knows the engine's reserved {@link CommandRejected} type.
     */
    public EventCodecs()
    {
        registry.register(CommandRejected.TYPE_ID, CommandRejected.class, CommandRejected::new);
    }

    /**
     * A decoded payload, for tools: allocates, not for the hot path.
     *
     * @param typeId type id from the frame.
     * @param name   simple class name of the event, e.g. {@code Deposited}.
     * @param event  the decoded event.
     * @param fields field name to value, in declaration order.
     */
    public record RenderedEvent(int typeId, String name, Event event, Map<String, Object> fields)
    {
        /** @return the fields as one compact JSON object, e.g. {@code {"account":1,"amount":100}}. */
        public String json()
        {
            return EventCodecs.toJson(event);
        }

        /** @return the fields as YAML, one {@code name: value} per line. */
        public String yaml()
        {
            return EventCodecs.toYaml(event);
        }
    }

    /**
     * Register an event type.
     *
     * @param typeId  in [1, {@link #MAX_TYPE_ID}); {@link CommandRejected#TYPE_ID} is reserved.
     * @param type    event class.
     * @param factory making empty instances to decode into.
     * @param <E>     event type.
     * @return this.
     * @throws IllegalArgumentException when the id is out of range, reserved or taken.
     */
    public <E extends Event> EventCodecs register(final int typeId, final Class<E> type, final Supplier<E> factory)
    {
        if (CommandRejected.TYPE_ID == typeId)
        {
            throw new IllegalArgumentException("event type id " + typeId + " for " + type.getName() +
                " is reserved for the engine's CommandRejected frames: use [1, " + (MAX_TYPE_ID - 1) + "]");
        }
        registry.register(typeId, type, factory);
        return this;
    }

    /**
     * @param event instance of a registered class.
     * @return its type id.
     * @throws IllegalArgumentException when the class is not registered.
     */
    public int typeIdOf(final Event event)
    {
        final int typeId = registry.typeIdOf(event);
        if (TypeRegistry.MISSING == typeId)
        {
            throw new IllegalArgumentException("event class " + event.getClass().getName() + " is not registered");
        }
        return typeId;
    }

    /**
     * @param typeId of an event.
     * @return simple class name, or null when unknown.
     */
    public String name(final int typeId)
    {
        final Class<? extends Event> type = registry.classOf(typeId);
        return null == type ? null : type.getSimpleName();
    }

    /**
     * @param typeId of an event.
     * @return a new empty instance, or null when the id is unknown.
     */
    public Event newInstance(final int typeId)
    {
        return registry.newInstance(typeId);
    }

    /**
     * Decode a payload into a new event (allocates: for tools and tests).
     *
     * @param typeId  frame type.
     * @param payload frame payload.
     * @return the event.
     * @throws IllegalArgumentException when the type is unknown or the bytes do not decode to exactly one event.
     */
    public Event decode(final int typeId, final byte[] payload)
    {
        final Event event = registry.newInstance(typeId);
        if (null == event)
        {
            throw new IllegalArgumentException("unknown event type " + typeId);
        }
        final Bytes<byte[]> bytes = Bytes.wrapForRead(payload);
        try
        {
            event.readMarshallable(bytes);
            if (bytes.readRemaining() != 0)
            {
                throw new IllegalArgumentException("event type " + typeId + " (" + name(typeId) + ") left " +
                    bytes.readRemaining() + " of " + payload.length + " payload bytes unread");
            }
        }
        catch (final IllegalArgumentException ex)
        {
            throw ex;
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("event type " + typeId + " (" + name(typeId) + ") does not decode from " +
                payload.length + " bytes: " + ex, ex);
        }
        finally
        {
            bytes.releaseLast();
        }
        return event;
    }

    /**
     * Render a payload for a dump.
     *
     * @param typeId frame type.
     * @param buffer holding the payload.
     * @param offset of the payload.
     * @param length of the payload.
     * @return name and fields.
     * @throws IllegalArgumentException when the type is unknown or the payload does not decode.
     */
    public RenderedEvent render(final int typeId, final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] payload = new byte[length];
        buffer.getBytes(offset, payload);
        final Event event = decode(typeId, payload);
        return new RenderedEvent(typeId, event.getClass().getSimpleName(), event, fields(event));
    }

    /**
     * Encode an event into its journal form (allocates: for tools and tests).
     *
     * @param event to encode.
     * @return the compact binary form.
     */
    public static byte[] encode(final Event event)
    {
        final Bytes<?> bytes = Bytes.allocateElasticOnHeap(64);
        try
        {
            event.writeMarshallable(bytes);
            return bytes.toByteArray();
        }
        finally
        {
            bytes.releaseLast();
        }
    }

    /**
     * @param event any event.
     * @return its fields in declaration order (superclass fields first), by reflection.
     */
    public static Map<String, Object> fields(final Event event)
    {
        final Map<String, Object> fields = new LinkedHashMap<>();
        try
        {
            for (final Field field : instanceFields(event.getClass()))
            {
                fields.put(field.getName(), field.get(event));
            }
        }
        catch (final IllegalAccessException ex)
        {
            throw new IllegalStateException("cannot read fields of " + event.getClass().getName(), ex);
        }
        return fields;
    }

    /**
     * @param event any event.
     * @return its fields as one compact JSON object, rendered by Chronicle Wire.
     */
    public static String toJson(final Event event)
    {
        return renderFields(WireType.JSON_ONLY, event, true);
    }

    /**
     * @param event any event.
     * @return its fields as YAML, rendered by Chronicle Wire.
     */
    public static String toYaml(final Event event)
    {
        return renderFields(WireType.YAML_ONLY, event, false);
    }

    private static String renderFields(final WireType wireType, final Event event, final boolean braces)
    {
        final Bytes<?> bytes = Bytes.allocateElasticOnHeap(128);
        try
        {
            final Wire wire = wireType.apply(bytes);
            event.writeMarshallable(wire);
            final String fields = bytes.toString().trim();
            return braces ? "{" + fields + "}" : fields;
        }
        finally
        {
            bytes.releaseLast();
        }
    }

    private static List<Field> instanceFields(final Class<?> type)
    {
        final List<Field> fields = new ArrayList<>();
        if (type.getSuperclass() != null && Event.class.isAssignableFrom(type.getSuperclass()))
        {
            fields.addAll(instanceFields(type.getSuperclass()));
        }
        for (final Field field : type.getDeclaredFields())
        {
            final int modifiers = field.getModifiers();
            if (!Modifier.isStatic(modifiers) && !Modifier.isTransient(modifiers))
            {
                field.setAccessible(true);
                fields.add(field);
            }
        }
        return fields;
    }
}
