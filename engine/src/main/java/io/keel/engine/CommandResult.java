package io.keel.engine;

/**
 * The answer to one command, as a reused flyweight handed to a {@link ResponseHandler}: valid only during the
 * call. {@link #toOutcome()} makes an immutable copy.
 */
public final class CommandResult
{
    /**
     * How a command ended.
     */
    public enum Status
    {
        /** Applied; its events (if any) are durable. */
        ACCEPTED,
        /** Refused for a typed reason ({@link #rejection()}); no events. */
        REJECTED,
        /** The handler threw or the engine could not make it durable ({@link #error()}); no events applied. */
        FAILED
    }

    private long clientId;
    private long commandId;
    private Status status;
    private Rejection rejection;
    private long expectedVersion;
    private long actualVersion;
    private long position;
    private int eventCount;
    private boolean duplicate;
    private String error;

    CommandResult set(
        final long clientId,
        final long commandId,
        final Status status,
        final Rejection rejection,
        final long expectedVersion,
        final long actualVersion,
        final long position,
        final int eventCount,
        final boolean duplicate,
        final String error)
    {
        this.clientId = clientId;
        this.commandId = commandId;
        this.status = status;
        this.rejection = rejection;
        this.expectedVersion = expectedVersion;
        this.actualVersion = actualVersion;
        this.position = position;
        this.eventCount = eventCount;
        this.duplicate = duplicate;
        this.error = error;
        return this;
    }

    /** @return client that sent the command. */
    public long clientId()
    {
        return clientId;
    }

    /** @return the client's id for the command. */
    public long commandId()
    {
        return commandId;
    }

    /** @return how the command ended. */
    public Status status()
    {
        return status;
    }

    /** @return why it was rejected, null unless {@link Status#REJECTED}. */
    public Rejection rejection()
    {
        return rejection;
    }

    /** @return the expected version, for {@link Rejection#VERSION_CONFLICT}. */
    public long expectedVersion()
    {
        return expectedVersion;
    }

    /** @return the stream's actual version, for {@link Rejection#VERSION_CONFLICT}. */
    public long actualVersion()
    {
        return actualVersion;
    }

    /** @return journal position just after the command's last event; 0 when it produced none. */
    public long position()
    {
        return position;
    }

    /** @return number of events the command produced. */
    public int eventCount()
    {
        return eventCount;
    }

    /** @return true when served from the idempotency window: the command was a retry of one already decided. */
    public boolean duplicate()
    {
        return duplicate;
    }

    /** @return error description, null unless {@link Status#FAILED}. */
    public String error()
    {
        return error;
    }

    /**
     * @return an immutable copy (allocates).
     */
    public CommandOutcome toOutcome()
    {
        switch (status)
        {
            case ACCEPTED:
                return new CommandOutcome.Accepted(position, eventCount, duplicate);
            case REJECTED:
                return rejection == Rejection.VERSION_CONFLICT ?
                    new CommandOutcome.VersionConflict(expectedVersion, actualVersion, duplicate) :
                    new CommandOutcome.Rejected(rejection, duplicate);
            default:
                return new CommandOutcome.Failed(error, duplicate);
        }
    }

    @Override
    public String toString()
    {
        return clientId + ":" + commandId + " " + toOutcome();
    }
}
