package io.keel.engine;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One preallocated ring-buffer entry. A command's bytes live in the engine's slot buffer at
 * {@code (sequence & mask) * maxCommandLength}; the rest of the envelope is here.
 */
final class CommandSlot
{
    static final int COMMAND = 0;
    static final int CONTROL = 1;

    int kind;
    long clientId;
    long commandId;
    int commandType;
    int length;
    long expectedStreamId;
    long expectedVersion;
    long submitNs;
    ResponseHandler handler;
    CompletableFuture<CommandOutcome> future;
    Consumer<BusinessLogic> control;

    void clearReferences()
    {
        handler = null;
        future = null;
        control = null;
    }
}
