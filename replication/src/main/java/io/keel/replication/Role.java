package io.keel.replication;

/**
 * What a node is doing in the pair.
 */
public enum Role
{
    /** Follows a primary (or waits for one): its replication agent owns the journal appender. */
    STANDBY(0),
    /** Accepts and acknowledges commands in its epoch: the application owns the journal appender. */
    PRIMARY(1),
    /**
     * Was primary and learnt of a higher epoch: acknowledges nothing; the application must stop appending and
     * hand the appender back ({@link ReplicationNode#releaseAppender()}) before the node follows the new primary.
     */
    STEPPING_DOWN(2);

    private final int code;

    Role(final int code)
    {
        this.code = code;
    }

    /** @return wire and file code. */
    public int code()
    {
        return code;
    }

    /**
     * @param code from {@link #code()}.
     * @return the role.
     */
    public static Role of(final int code)
    {
        switch (code)
        {
            case 0: return STANDBY;
            case 1: return PRIMARY;
            case 2: return STEPPING_DOWN;
            default: throw new IllegalArgumentException("unknown role code " + code);
        }
    }
}
