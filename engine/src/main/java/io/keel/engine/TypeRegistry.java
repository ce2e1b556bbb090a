package io.keel.engine;

import net.openhft.chronicle.bytes.BytesIn;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Object2IntHashMap;

import java.util.function.Supplier;

/**
 * Type id to class and factory, and back: the shared part of {@link EventCodecs} and {@link CommandCodecs}.
 * Registration happens before the engine starts; after {@link #freeze()} lookups are read-only and safe from
 * any thread.
 */
final class TypeRegistry<T>
{
    static final int MISSING = Integer.MIN_VALUE;

    private final String kind;
    private final int maxTypeId;
    private final Object2IntHashMap<Class<?>> idByClass = new Object2IntHashMap<>(MISSING);
    private final Int2ObjectHashMap<Class<? extends T>> classById = new Int2ObjectHashMap<>();
    private final Int2ObjectHashMap<Supplier<? extends T>> factoryById = new Int2ObjectHashMap<>();
    private volatile boolean frozen;

    TypeRegistry(final String kind, final int maxTypeId)
    {
        this.kind = kind;
        this.maxTypeId = maxTypeId;
    }

    <E extends T> void register(final int typeId, final Class<E> type, final Supplier<E> factory)
    {
        if (frozen)
        {
            throw new IllegalStateException(kind + " types are frozen once an engine uses them: register " +
                type.getName() + " before launch");
        }
        if (typeId <= 0 || typeId > maxTypeId)
        {
            throw new IllegalArgumentException(kind + " type id " + typeId + " for " + type.getName() +
                " out of range [1, " + maxTypeId + "]");
        }
        if (classById.containsKey(typeId))
        {
            throw new IllegalArgumentException(kind + " type id " + typeId + " is already " +
                classById.get(typeId).getName() + ", cannot register " + type.getName());
        }
        if (idByClass.containsKey(type))
        {
            throw new IllegalArgumentException(type.getName() + " is already registered as " + kind + " type " +
                idByClass.getValue(type));
        }
        final T sample = factory.get();
        if (sample.getClass() != type)
        {
            throw new IllegalArgumentException("factory for " + type.getName() + " made a " +
                sample.getClass().getName());
        }
        idByClass.put(type, typeId);
        classById.put(typeId, type);
        factoryById.put(typeId, factory);
    }

    void freeze()
    {
        frozen = true;
    }

    int typeIdOf(final Object instance)
    {
        return idByClass.getValue(instance.getClass());
    }

    Class<? extends T> classOf(final int typeId)
    {
        return classById.get(typeId);
    }

    T newInstance(final int typeId)
    {
        final Supplier<? extends T> factory = factoryById.get(typeId);
        return null == factory ? null : factory.get();
    }

    /**
     * One reused instance per type, for one thread's decoding: allocation-free after construction.
     */
    static final class Decoder<T extends net.openhft.chronicle.bytes.ReadBytesMarshallable>
    {
        private final Object[] instances;

        Decoder(final TypeRegistry<T> registry)
        {
            instances = new Object[registry.maxTypeId + 1];
            registry.classById.forEach((id, type) -> instances[id] = registry.newInstance(id));
        }

        /**
         * Decode into the reused instance of the type.
         *
         * @return the instance, or null when the type is unknown.
         * @throws RuntimeException when the bytes do not decode, or leave bytes over.
         */
        @SuppressWarnings("unchecked")
        T decode(final int typeId, final BytesIn<?> in)
        {
            if (typeId <= 0 || typeId >= instances.length)
            {
                return null;
            }
            final T instance = (T)instances[typeId];
            if (null == instance)
            {
                return null;
            }
            instance.readMarshallable(in);
            if (in.readRemaining() != 0)
            {
                throw new IllegalArgumentException("type " + typeId + " (" + instance.getClass().getSimpleName() +
                    ") left " + in.readRemaining() + " bytes unread");
            }
            return instance;
        }
    }
}
