package io.keel.journal;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A snapshot loaded from a {@link SnapshotStore}: state as of a log position.
 */
public final class Snapshot
{
    private final Path file;
    private final long logPosition;
    private final long createdMs;
    private final ByteBuffer payload;

    Snapshot(final Path file, final long logPosition, final long createdMs, final ByteBuffer payload)
    {
        this.file = file;
        this.logPosition = logPosition;
        this.createdMs = createdMs;
        this.payload = payload;
    }

    /** @return file it was read from. */
    public Path file()
    {
        return file;
    }

    /** @return log position the snapshot covers: replay continues from here. */
    public long logPosition()
    {
        return logPosition;
    }

    /** @return when it was written, ms since the epoch. */
    public long createdMs()
    {
        return createdMs;
    }

    /** @return the state bytes (read-only view, position 0). */
    public ByteBuffer payload()
    {
        return payload.asReadOnlyBuffer();
    }
}
