package io.keel.engine;

/**
 * Decides the events of a command from the current state. Runs on the business-logic thread only.
 * <p>
 * The handler reads state through the {@link Decision} and must not change it: events are applied only after the
 * decision is complete and journaled. It either emits events (possibly for several streams, all journaled and
 * applied atomically), rejects the command with a typed {@link Rejection}, or does neither (an accepted command
 * with no events). A handler that throws gets the command answered {@link CommandResult.Status#FAILED}; nothing
 * it emitted is kept and the engine carries on.
 */
@FunctionalInterface
public interface CommandHandler
{
    /**
     * @param command  decoded command, a reused instance: copy what you keep.
     * @param decision where to read state and put the outcome.
     */
    void handle(Command command, Decision decision);
}
