package io.keel.journal;

/**
 * A journal operation failed: bad configuration, a directory that is not a journal, an I/O error, no space.
 */
public class JournalException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong, naming the file where there is one.
     */
    public JournalException(final String message)
    {
        super(message);
    }

    /**
     * @param message what went wrong, naming the file where there is one.
     * @param cause   underlying error.
     */
    public JournalException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
