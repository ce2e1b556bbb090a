package io.keel.replication;

/**
 * When a primary may release a command's response.
 */
public enum AckMode
{
    /**
     * Released once the local fsync policy is met AND the standby has acknowledged the command's position (it
     * holds the frames durably by its own policy). A primary without a standby acknowledges nothing: callers get
     * {@link AckGate.Status#NO_STANDBY}, unless degrading to {@link #ASYNC} after a timeout was allowed.
     */
    SYNC,
    /**
     * Released once the local fsync policy is met; the standby follows behind. Losing the primary can lose the
     * acknowledged commands the standby had not received yet: the replication lag at that moment.
     */
    ASYNC;

    /**
     * @param name {@code sync} or {@code async}, case-insensitive.
     * @return the mode.
     */
    public static AckMode parse(final String name)
    {
        for (final AckMode mode : values())
        {
            if (mode.name().equalsIgnoreCase(name))
            {
                return mode;
            }
        }
        throw new IllegalArgumentException("unknown ack mode '" + name + "': expected sync or async");
    }
}
