package io.keel.gateway.client;

import io.keel.gateway.protocol.ErrorCode;

/**
 * A command's future failed: the client gave up (timeout) or the gateway refused it.
 */
public final class CommandFailedException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final long commandId;
    private final transient ErrorCode code;
    private final boolean outcomeUnknown;

    /**
     * @param commandId      the command.
     * @param code           why.
     * @param outcomeUnknown true when it may have been applied.
     */
    public CommandFailedException(final long commandId, final ErrorCode code, final boolean outcomeUnknown)
    {
        super("command " + commandId + " failed: " + code + (outcomeUnknown ? " (outcome unknown)" : " (not applied)"));
        this.commandId = commandId;
        this.code = code;
        this.outcomeUnknown = outcomeUnknown;
    }

    /** @return the command. */
    public long commandId()
    {
        return commandId;
    }

    /** @return why. */
    public ErrorCode code()
    {
        return code;
    }

    /** @return true when the command may have been applied. */
    public boolean outcomeUnknown()
    {
        return outcomeUnknown;
    }
}
