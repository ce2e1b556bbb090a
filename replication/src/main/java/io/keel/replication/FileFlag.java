package io.keel.replication;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Test hook: true while a file exists, looked at no more than once every 2 ms (a duty cycle asks far more often).
 * Lets a process test cut a node's links (see {@link ReplicationContext#PEER_LINK_DOWN_FILE_PROP}) from outside.
 */
final class FileFlag implements BooleanSupplier
{
    private static final long CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(2);
    private final Path file;
    private long nextCheckNs;
    private boolean value;

    private FileFlag(final Path file)
    {
        this.file = file;
    }

    /** @param path file name, or null. @return a flag, or null when no file is named. */
    static BooleanSupplier of(final String path)
    {
        return null == path || path.isEmpty() ? null : new FileFlag(Path.of(path));
    }

    @Override
    public boolean getAsBoolean()
    {
        final long nowNs = System.nanoTime();
        if (nowNs - nextCheckNs >= 0)
        {
            nextCheckNs = nowNs + CHECK_INTERVAL_NS;
            value = Files.exists(file);
        }
        return value;
    }
}
