package io.keel.cli.gateway;

import io.keel.gateway.LoopbackPorts;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A {@code keel node} in a separate JVM (test class path, the project's JVM flags), with its output captured so a
 * test can await lines with a deadline.
 */
public final class NodeProcess implements AutoCloseable
{
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final String name;

    private NodeProcess(final String name, final List<String> command) throws IOException
    {
        this.name = name;
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    synchronized (lines)
                    {
                        lines.add(line);
                    }
                }
            }
            catch (final IOException ignore)
            {
                // the process ended
            }
        }, "node-output-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Start {@code keel <args>} in a new JVM.
     */
    public static NodeProcess start(final String name, final List<String> jvmArgs, final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("keel.jvm.flags", "").trim().split("\\s+")));
        command.add("-Xmx256m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.keel.cli.KeelCli");
        command.addAll(Arrays.asList(args));
        return new NodeProcess(name, command);
    }

    public static NodeProcess startNode(final String name, final int id, final String members, final Path dir,
        final List<String> jvmArgs, final String... extra) throws IOException
    {
        final List<String> args = new ArrayList<>(List.of("node", "--members", members, "--id", Integer.toString(id),
            "--dir", dir.toString(), "--fsync", "none"));
        args.addAll(Arrays.asList(extra));
        return start(name, jvmArgs, args.toArray(new String[0]));
    }

    /** @return the first output line containing the text, waiting up to the timeout. */
    public String awaitLine(final String text, final long timeoutMs)
    {
        return await("'" + text + "'", timeoutMs, lines ->
        {
            for (final String line : lines)
            {
                if (line.contains(text))
                {
                    return line;
                }
            }
            return null;
        });
    }

    /** @return the first output line in which the pattern is found, waiting up to the timeout. */
    public String awaitLine(final Pattern pattern, final long timeoutMs)
    {
        return await("a line matching '" + pattern + "'", timeoutMs, lines ->
        {
            for (final String line : lines)
            {
                if (pattern.matcher(line).find())
                {
                    return line;
                }
            }
            return null;
        });
    }

    /**
     * The latest role line, not the first: a node that lived through failovers printed 'following' lines of earlier
     * epochs, and a caught-up line of an earlier epoch says nothing about the handshake it is in now.
     *
     * @param id          this node's member id.
     * @param primary     the member it should follow.
     * @param primaryNode that member's process: a standby that never follows says little about why, so a failure
     *                    carries the primary's output too.
     * @param timeoutMs   how long to wait.
     * @return the epoch in which node {@code id} follows member {@code primary} as its latest role line says, waiting
     * up to the timeout for that line to be the latest.
     */
    public long awaitFollowing(final int id, final int primary, final NodeProcess primaryNode, final long timeoutMs)
    {
        try
        {
            return awaitRole(id, "standby following member " + primary + " in epoch ", timeoutMs);
        }
        catch (final AssertionError ex)
        {
            final AssertionError more = new AssertionError(ex.getMessage() + "\n--- " + primaryNode.name +
                (primaryNode.process.isAlive() ? " (running)" : " (exited " + primaryNode.process.exitValue() + ")") +
                ":\n" + primaryNode.output());
            more.setStackTrace(ex.getStackTrace());
            throw more;
        }
    }

    /**
     * The latest role line, as {@link #awaitFollowing}: a node that was primary, stepped down and follows now printed
     * a 'primary' line of an earlier epoch.
     *
     * @return the epoch in which node {@code id} is the primary as its latest role line says, waiting up to the
     * timeout for that line to be the latest.
     */
    public long awaitPrimary(final int id, final long timeoutMs)
    {
        return awaitRole(id, "primary in epoch ", timeoutMs);
    }

    private long awaitRole(final int id, final String role, final long timeoutMs)
    {
        final String prefix = "keel node " + id + ": ";
        final String primaryLine = prefix + "primary in epoch ";
        final String standbyLine = prefix + "standby following member ";
        final String wanted = prefix + role;
        final String line = await("'" + wanted + "' as its latest role line", timeoutMs, lines ->
        {
            for (int i = lines.size() - 1; i >= 0; i--)
            {
                final String candidate = lines.get(i);
                if (candidate.contains(primaryLine) || candidate.contains(standbyLine))
                {
                    return candidate.contains(wanted) ? candidate : null;
                }
            }
            return null;
        });
        final int start = line.indexOf(wanted) + wanted.length();
        int end = start;
        while (end < line.length() && Character.isDigit(line.charAt(end)))
        {
            end++;
        }
        return Long.parseLong(line.substring(start, end));
    }

    /**
     * Poll the output every 20 ms until {@code find} returns a line, up to the timeout; a process that exited gets
     * 100 ms for the reader to take its last lines before it fails.
     */
    private String await(final String what, final long timeoutMs, final Function<List<String>, String> find)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadlineNs)
        {
            final boolean alive = process.isAlive();
            if (!alive)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // let the reader take the last lines
            }
            synchronized (lines)
            {
                final String line = find.apply(lines);
                if (null != line)
                {
                    return line;
                }
            }
            if (!alive)
            {
                throw new AssertionError(name + " exited (" + process.exitValue() + ") before printing " + what +
                    ":\n" + output());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError(name + " did not print " + what + " within " + timeoutMs + " ms:\n" + output());
    }

    /** @return how many lines printed so far contain {@code text}. */
    public int countLines(final String text)
    {
        synchronized (lines)
        {
            int count = 0;
            for (final String line : lines)
            {
                count += line.contains(text) ? 1 : 0;
            }
            return count;
        }
    }

    /** @return the aeron dir from the ready line. */
    public String awaitReady()
    {
        final String line = awaitLine(" ready: ", 30_000);
        final int start = line.indexOf("aeron dir ") + "aeron dir ".length();
        return line.substring(start, line.indexOf(' ', start));
    }

    public int awaitExit(final long timeoutMs) throws InterruptedException
    {
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS))
        {
            throw new AssertionError(name + " did not exit within " + timeoutMs + " ms:\n" + output());
        }
        return process.exitValue();
    }

    public boolean isAlive()
    {
        return process.isAlive();
    }

    /** @return the name it was started with. */
    public String name()
    {
        return name;
    }

    public String output()
    {
        synchronized (lines)
        {
            return String.join("\n", lines);
        }
    }

    /** SIGTERM, and wait for a clean exit. */
    public int stop() throws InterruptedException
    {
        process.toHandle().destroy(); // SIGTERM without closing our end of its output (Process.destroy would)
        return awaitExit(30_000);
    }

    /** SIGKILL. */
    public void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException
    {
        if (process.isAlive())
        {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** @return a free port on 127.0.0.1 that nothing else will take while a node is down ({@link LoopbackPorts}). */
    public static int freePort()
    {
        return LoopbackPorts.freePort();
    }
}
