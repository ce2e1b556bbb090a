package io.keel.gateway;

import io.aeron.CommonContext;
import org.agrona.IoUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;

/**
 * Where embedded media drivers keep their files, and the clean-up of the ones whose process is gone.
 * <p>
 * An embedded driver lives in {@code /dev/shm/keel-<kind>-<pid>-<nonce>} (tmpfs: its term buffers are memory). A
 * process that exits cleanly deletes its directory, but one killed with SIGKILL cannot, and tmpfs keeps the files
 * until someone deletes them: a host that kills nodes in a loop (a failover drill, a test suite) runs out of memory
 * tens of megabytes at a time. So every Keel process that starts an embedded driver first reaps the Keel driver
 * directories of dead processes. A directory is reaped only when both hold: its name carries a process id that is
 * no longer alive (an embedded driver dies with its process, and a driver that is still starting belongs to a live
 * one), and its driver has not heart-beaten for {@link #DRIVER_TIMEOUT_MS}. Directories that do not follow the
 * {@code keel-} naming (an operator's {@code --aeron-dir}) are never touched.
 */
public final class DriverDirectories
{
    /** A driver whose process is gone and that has been silent this long is reaped. */
    public static final long DRIVER_TIMEOUT_MS = 2_000;
    private static final String PREFIX = "keel-";
    private static final Logger LOG = LoggerFactory.getLogger(DriverDirectories.class);

    private DriverDirectories()
    {
    }

    /**
     * @return /dev/shm when this host has it, else the temp directory.
     */
    public static File base()
    {
        final File shm = new File("/dev/shm");
        return shm.isDirectory() ? shm : new File(System.getProperty("java.io.tmpdir"));
    }

    /**
     * A fresh directory name for this process's embedded driver; reaps dead processes' directories first.
     *
     * @param kind what the process is, e.g. {@code node-0} or {@code client}.
     * @return the directory path (not yet created).
     */
    public static String fresh(final String kind)
    {
        return fresh(base(), kind);
    }

    /**
     * A fresh directory name under {@code base}; reaps dead processes' directories there first.
     *
     * @param base parent directory.
     * @param kind what the process is.
     * @return the directory path (not yet created).
     */
    public static String fresh(final File base, final String kind)
    {
        reapStale(base);
        return new File(base, PREFIX + kind + "-" + ProcessHandle.current().pid() + "-" +
            Long.toHexString(System.nanoTime())).getPath();
    }

    /**
     * Deletes the Keel driver directories under {@code base} whose process is dead (see the class comment).
     *
     * @param base directory to scan.
     * @return the number of directories deleted.
     */
    public static int reapStale(final File base)
    {
        final File[] candidates = base.listFiles((dir, name) -> name.startsWith(PREFIX));
        if (null == candidates)
        {
            return 0;
        }
        int reaped = 0;
        for (final File dir : candidates)
        {
            final long pid = ownerPid(dir.getName());
            if (pid <= 0 || !dir.isDirectory() || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) ||
                driverActive(dir))
            {
                continue;
            }
            IoUtil.delete(dir, true);
            if (!dir.exists())
            {
                reaped++;
            }
        }
        if (reaped > 0)
        {
            LOG.info("reaped {} driver directories of dead Keel processes under {}", reaped, base);
        }
        return reaped;
    }

    /**
     * @param name a directory name such as {@code keel-node-0-1234-1a2b3c}.
     * @return the process id it carries (the second-to-last dash-separated field), or -1 when there is none.
     */
    static long ownerPid(final String name)
    {
        final int last = name.lastIndexOf('-');
        final int previous = last > 0 ? name.lastIndexOf('-', last - 1) : -1;
        if (previous < 0)
        {
            return -1;
        }
        try
        {
            return Long.parseLong(name.substring(previous + 1, last));
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }

    private static boolean driverActive(final File dir)
    {
        try
        {
            return CommonContext.isDriverActive(dir, DRIVER_TIMEOUT_MS, message -> { });
        }
        catch (final RuntimeException ex)
        {
            return false; // a half-written or truncated cnc.dat: no live driver behind it
        }
    }
}
