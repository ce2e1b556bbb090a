package io.keel.gateway.client;

import io.keel.gateway.protocol.ErrorCode;

/**
 * Receives the answers to commands sent with {@link KeelClient#trySubmit}: the allocation-free path. Called on
 * the thread running the client's duty cycle ({@link KeelClient#poll()}), exactly once per command.
 */
public interface ResponseListener
{
    /**
     * The engine decided the command: accepted, rejected or failed (see {@link Response#status()}).
     *
     * @param response a reused view, valid only during the call.
     */
    void onResponse(Response response);

    /**
     * The client gave up on the command.
     *
     * @param commandId      the command.
     * @param code           why: {@link ErrorCode#TIMED_OUT} (no answer within the timeout, after retries),
     *                       or a refusal by the gateway (UNAUTHORIZED, UNKNOWN_COMMAND_TYPE, TOO_LARGE...).
     * @param outcomeUnknown true when the command may or may not have been applied (timeouts, lost connections);
     *                       false when the gateway refused it before the engine saw it.
     */
    void onFailure(long commandId, ErrorCode code, boolean outcomeUnknown);
}
