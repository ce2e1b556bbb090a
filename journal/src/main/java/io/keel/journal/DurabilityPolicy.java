package io.keel.journal;

/**
 * When appended frames count as durable, and so when the engine may release the responses that wait on them.
 */
public enum DurabilityPolicy
{
    /** Durable once written to the OS page cache: survives a process crash, not a power loss. */
    NONE,
    /** One fsync per flush (group commit): every frame of a batch shares one fsync. */
    BATCH,
    /** One fsync per committed group (command): slowest, for comparison and for very low rates. */
    ALWAYS;

    /**
     * Parse a policy name as used on the command line: {@code none}, {@code batch} or {@code always}.
     *
     * @param name of the policy, case-insensitive.
     * @return the policy.
     * @throws IllegalArgumentException naming the valid values.
     */
    public static DurabilityPolicy parse(final String name)
    {
        for (final DurabilityPolicy policy : values())
        {
            if (policy.name().equalsIgnoreCase(name))
            {
                return policy;
            }
        }
        throw new IllegalArgumentException("unknown fsync policy '" + name + "': expected none, batch or always");
    }
}
