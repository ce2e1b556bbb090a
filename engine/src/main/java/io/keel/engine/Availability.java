package io.keel.engine;

/**
 * Why an engine that is part of a replicated pair does not take or answer commands right now. A command refused
 * for one of these reasons is answered {@link CommandResult.Status#FAILED} with exactly this string as its error,
 * so a gateway can turn it into a protocol error code. The outcome of such a command is unknown to the client (it
 * may have been journaled before the refusal): retry it with the same command id.
 *
 * @see EngineContext#availability(java.util.function.Supplier)
 */
public final class Availability
{
    /**
     * A SYNC primary without a standby: nothing can be acknowledged until the standby is back (or the operator
     * allowed degrading to ASYNC). Retry later, same command id.
     */
    public static final String NO_STANDBY = "NO_STANDBY";

    /**
     * This node is not the primary in the current epoch (a standby, or a primary that learnt of a newer one):
     * retry on the primary, same command id.
     */
    public static final String NOT_PRIMARY = "NOT_PRIMARY";

    private Availability()
    {
    }

    /**
     * @param error of a FAILED answer.
     * @return true when it is one of the refusals above (the command may be retried elsewhere or later).
     */
    public static boolean isRefusal(final String error)
    {
        return NO_STANDBY.equals(error) || NOT_PRIMARY.equals(error);
    }
}
