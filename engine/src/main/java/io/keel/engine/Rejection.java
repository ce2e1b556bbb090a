package io.keel.engine;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * A typed reason for refusing a command: a domain outcome (insufficient funds, unknown account), not a failure.
 * <p>
 * Rejections are constants defined once with {@link #define(int, String)}, so answering one allocates nothing.
 * Codes below {@link #FIRST_DOMAIN_CODE} belong to the engine; a domain defines its own from there.
 */
public final class Rejection
{
    /** Codes at or above this belong to domains. */
    public static final int FIRST_DOMAIN_CODE = 100;

    private static final Object LOCK = new Object();
    // copy on write: lookups (answers to retried commands) read without locking
    private static volatile Int2ObjectHashMap<Rejection> byCode = new Int2ObjectHashMap<>();

    /** The command's expected stream version was not the stream's version: see the result's versions. */
    public static final Rejection VERSION_CONFLICT = defineBuiltIn(1, "VERSION_CONFLICT");
    /** No command type is registered under the command's type id. */
    public static final Rejection UNKNOWN_COMMAND = defineBuiltIn(2, "UNKNOWN_COMMAND");
    /** The command bytes did not decode to exactly one command of its type. */
    public static final Rejection MALFORMED_COMMAND = defineBuiltIn(3, "MALFORMED_COMMAND");

    private final int code;
    private final String name;

    private Rejection(final int code, final String name)
    {
        this.code = code;
        this.name = name;
    }

    /**
     * Define a domain rejection. Defining the same code and name twice returns the same instance.
     *
     * @param code at least {@link #FIRST_DOMAIN_CODE}; stored in snapshots, so keep it stable.
     * @param name upper-case name shown to clients, e.g. {@code INSUFFICIENT_FUNDS}.
     * @return the rejection.
     * @throws IllegalArgumentException when the code is reserved or taken by another name.
     */
    public static Rejection define(final int code, final String name)
    {
        if (code < FIRST_DOMAIN_CODE)
        {
            throw new IllegalArgumentException("rejection code " + code + " for " + name + " is reserved: use " +
                FIRST_DOMAIN_CODE + " or more");
        }
        return defineBuiltIn(code, name);
    }

    /**
     * Look a rejection up by code, e.g. when reading a snapshot.
     *
     * @param code of the rejection.
     * @return the defined rejection, or a placeholder named {@code REJECTED_<code>} when none is defined.
     */
    public static Rejection of(final int code)
    {
        final Rejection rejection = byCode.get(code);
        return null != rejection ? rejection : new Rejection(code, "REJECTED_" + code);
    }

    private static Rejection defineBuiltIn(final int code, final String name)
    {
        if (null == name || name.isEmpty())
        {
            throw new IllegalArgumentException("rejection " + code + " needs a name");
        }
        synchronized (LOCK)
        {
            final Rejection existing = byCode.get(code);
            if (null != existing)
            {
                if (!existing.name.equals(name))
                {
                    throw new IllegalArgumentException("rejection code " + code + " is already " + existing.name +
                        ", cannot define it as " + name);
                }
                return existing;
            }
            final Rejection rejection = new Rejection(code, name);
            final Int2ObjectHashMap<Rejection> copy = new Int2ObjectHashMap<>(byCode);
            copy.put(code, rejection);
            byCode = copy;
            return rejection;
        }
    }

    /** @return stable numeric code. */
    public int code()
    {
        return code;
    }

    /** @return name shown to clients. */
    public String name()
    {
        return name;
    }

    @Override
    public String toString()
    {
        return name;
    }
}
