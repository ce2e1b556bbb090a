package io.keel.journal;

import java.nio.file.Path;

/**
 * The journal holds damaged data before valid data (not a torn tail): it cannot be trusted, so it is not opened.
 * Names the file and the byte offset in it.
 */
public final class JournalCorruptedException extends JournalException
{
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long fileOffset;
    private final String reason;

    /**
     * @param file       segment file holding the damage.
     * @param fileOffset byte offset of the damaged frame in the file.
     * @param reason     what is wrong there.
     */
    public JournalCorruptedException(final Path file, final long fileOffset, final String reason)
    {
        super("journal corrupted in " + file + " at offset " + fileOffset + ": " + reason +
            " (valid data follows, so this is not a torn tail; run `./keel journal verify " +
            (file.getParent() == null ? "." : file.getParent()) + "` for a full report)");
        this.file = file;
        this.fileOffset = fileOffset;
        this.reason = reason;
    }

    /** @return what is wrong at {@link #fileOffset()}. */
    public String reason()
    {
        return reason;
    }

    /** @return the damaged segment file. */
    public Path file()
    {
        return file;
    }

    /** @return byte offset of the damage in {@link #file()}. */
    public long fileOffset()
    {
        return fileOffset;
    }
}
