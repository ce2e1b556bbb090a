package io.keel.engine;

/**
 * A command or request was not queued: the ring was full, the engine closed, or the command too large.
 * Nothing was applied; retry later (with the same command id) when the ring was full.
 */
public final class SubmitRefusedException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final Engine.Submit reason;

    /**
     * @param reason why the submission was refused.
     */
    public SubmitRefusedException(final Engine.Submit reason)
    {
        super("submission refused: " + reason);
        this.reason = reason;
    }

    /** @return why the submission was refused. */
    public Engine.Submit reason()
    {
        return reason;
    }
}
