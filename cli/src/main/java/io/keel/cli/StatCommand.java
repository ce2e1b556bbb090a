package io.keel.cli;

import io.keel.gateway.ops.CountersFile;
import io.keel.gateway.ops.NodeFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code keel stat DIR}: a node's counters from its memory-mapped counters file, like Aeron's AeronStat.
 */
@Command(
    name = "stat",
    mixinStandardHelpOptions = true,
    description = {
        "Print a node's counters (DIR/keel-counters.dat) and refresh them like top; works while the node runs and " +
            "after it died (the file keeps the last values).",
        "Exit codes: 0 ok, 2 no counters file in DIR."
    })
public final class StatCommand implements Callable<Integer>
{
    /** A running node's sampler beats 10 times a second; older than this and something is wrong. */
    static final long STALE_HEARTBEAT_MS = 2_000;

    @Parameters(index = "0", paramLabel = "DIR", description = "node directory (--dir of keel node)")
    Path dir;

    @Option(names = "--interval", paramLabel = "MS", defaultValue = "1000",
        description = "refresh period (default ${DEFAULT-VALUE})")
    long intervalMs;

    @Option(names = "--once", description = "print once and exit (for scripts)")
    boolean once;

    @Override
    public Integer call()
    {
        final CountersFile file;
        try
        {
            file = CountersFile.openReadOnly(dir);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("keel stat: " + ex.getMessage());
            return 2;
        }
        try (file)
        {
            final PrintStream out = System.out;
            Map<String, Long> previous = null;
            long previousMs = 0;
            while (true)
            {
                final long nowMs = System.currentTimeMillis();
                final List<CountersFile.Value> values = CountersFile.values(file.reader());
                final StringBuilder text = new StringBuilder();
                if (!once)
                {
                    text.append("\033[H\033[2J"); // home + clear, like top
                }
                text.append(status(file.file(), nowMs)).append('\n');
                String part = "";
                final Map<String, Long> current = new HashMap<>();
                for (final CountersFile.Value value : values)
                {
                    if (!value.part().equals(part))
                    {
                        part = value.part();
                        text.append(part.equals("rejection") ? "rejections by reason" : part).append('\n');
                    }
                    final String key = value.part() + "/" + value.name();
                    current.put(key, value.value());
                    text.append(String.format("  %-40s %,20d", value.name(), value.value()));
                    if (null != previous && !value.gauge() && previous.containsKey(key) && nowMs > previousMs)
                    {
                        final double perSecond = (value.value() - previous.get(key)) * 1000.0 / (nowMs - previousMs);
                        if (perSecond != 0)
                        {
                            text.append(String.format("  %,12.0f/s", perSecond));
                        }
                    }
                    text.append('\n');
                }
                out.print(text);
                out.flush();
                if (once)
                {
                    return 0;
                }
                previous = current;
                previousMs = nowMs;
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.max(50, intervalMs)));
                if (Thread.currentThread().isInterrupted())
                {
                    return 0;
                }
            }
        }
    }

    static String status(final NodeFile file, final long nowMs)
    {
        final String state;
        if (file.writerAlive())
        {
            final long ageMs = nowMs - file.heartbeatMs();
            state = (0 != file.closedMs() ? "stopped, process still exiting" :
                ageMs > STALE_HEARTBEAT_MS ? "running but not sampling (stuck?)" : "running") + ", heartbeat " + ageMs +
                " ms ago";
        }
        else if (0 != file.closedMs())
        {
            state = "node pid " + file.pid() + " not running (stopped cleanly at " +
                Instant.ofEpochMilli(file.closedMs()) + ")";
        }
        else
        {
            state = "node pid " + file.pid() + " not running (died; last heartbeat " +
                Instant.ofEpochMilli(file.heartbeatMs()) + ")";
        }
        return "keel node " + file.nodeId() + " pid " + file.pid() + " started " + Instant.ofEpochMilli(file.startMs()) +
            ": " + state + "  [" + file.path() + "]";
    }
}
