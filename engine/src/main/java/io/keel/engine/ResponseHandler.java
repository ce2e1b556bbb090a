package io.keel.engine;

/**
 * Receives the answer to a command submitted with {@link Engine#trySubmit}: the allocation-free path.
 * Called on the business-logic thread once the answer may be released (its events are durable): keep it short
 * and never block.
 */
@FunctionalInterface
public interface ResponseHandler
{
    /**
     * @param result a reused flyweight, valid only during the call.
     */
    void onResponse(CommandResult result);
}
