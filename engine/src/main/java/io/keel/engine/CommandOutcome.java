package io.keel.engine;

/**
 * The answer to a command, as an immutable value: what {@link Engine#submit} futures complete with. The
 * allocation-free callback path sees the same information through the reused {@link CommandResult}.
 */
public sealed interface CommandOutcome
{
    /** @return true when this answer was served from the idempotency window (the command was a retry). */
    boolean duplicate();

    /**
     * The command was applied.
     *
     * @param position   journal position just after the command's last event (0 when it had none).
     * @param eventCount number of events it produced.
     * @param duplicate  served from the idempotency window.
     */
    record Accepted(long position, int eventCount, boolean duplicate) implements CommandOutcome
    {
    }

    /**
     * The command was refused for a domain reason; no events.
     *
     * @param reason    typed reason.
     * @param duplicate served from the idempotency window.
     */
    record Rejected(Rejection reason, boolean duplicate) implements CommandOutcome
    {
    }

    /**
     * The command's expected stream version did not match; no events.
     *
     * @param expected  version the command expected.
     * @param actual    version the stream had.
     * @param duplicate served from the idempotency window.
     */
    record VersionConflict(long expected, long actual, boolean duplicate) implements CommandOutcome
    {
    }

    /**
     * The command failed: its handler threw, or the engine could not make it durable. No events were applied.
     *
     * @param error     description of the error.
     * @param duplicate served from the idempotency window.
     */
    record Failed(String error, boolean duplicate) implements CommandOutcome
    {
    }
}
