package io.keel.gateway.client;

/**
 * The node refused the client's credentials (or it has none and the node asks for them).
 */
public final class AuthenticationException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what the node said.
     */
    public AuthenticationException(final String message)
    {
        super(message);
    }
}
