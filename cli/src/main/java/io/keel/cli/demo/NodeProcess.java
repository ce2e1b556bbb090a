package io.keel.cli.demo;

import io.keel.cli.KeelCli;
import io.keel.gateway.LoopbackPorts;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * A {@code keel node} child JVM started with the running CLI's java, class path and JVM flags; its output lines are
 * kept with the time each was read, so the demo can await them and time what they announce.
 */
final class NodeProcess
{
    /** Heap of a demo node: the ledger and a small journal window fit easily. */
    static final String NODE_HEAP = "-Xmx256m";

    private final String name;
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final List<Long> lineTimesNs = new ArrayList<>();
    private volatile boolean killed;
    private final long startNs;

    private NodeProcess(final String name, final List<String> command, final BiConsumer<String, Long> onLine)
        throws IOException
    {
        this.name = name;
        startNs = System.nanoTime();
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    final long nowNs = System.nanoTime();
                    synchronized (lines)
                    {
                        lines.add(line);
                        lineTimesNs.add(nowNs);
                    }
                    onLine.accept(line, nowNs);
                }
            }
            catch (final IOException ignore)
            {
                // the process ended
            }
        }, "keel-demo-" + name + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Start {@code keel <args>} in a new JVM.
     *
     * @param name   for messages.
     * @param args   keel arguments.
     * @param onLine told each output line and when it was read (on the reader thread).
     * @return the running process.
     * @throws IOException when the JVM cannot be started.
     */
    static NodeProcess start(final String name, final List<String> args, final BiConsumer<String, Long> onLine)
        throws IOException
    {
        return new NodeProcess(name, command(args), onLine);
    }

    /**
     * Start {@code keel <args>} in a new JVM in place of a node that was killed, once that one has exited: its files
     * and ports are free only once it is gone.
     *
     * @param previous the process this one replaces, or null for the first start.
     * @param name     for messages.
     * @param args     keel arguments.
     * @param onLine   told each output line and when it was read (on the reader thread).
     * @return the running process.
     * @throws IOException          when the JVM cannot be started.
     * @throws InterruptedException when interrupted while waiting for the previous process.
     */
    static NodeProcess startAfter(final NodeProcess previous, final String name, final List<String> args,
        final BiConsumer<String, Long> onLine) throws IOException, InterruptedException
    {
        if (null != previous)
        {
            previous.awaitExit();
        }
        return start(name, args, onLine);
    }

    /**
     * The command line of a child {@code keel} JVM: this JVM's java, the class path it runs with (the jar, whose
     * manifest Class-Path names the libraries, or the test class path), and the module flags Agrona, Aeron and
     * Chronicle need, from {@code keel.jvm.flags} (tests), the jar manifest ({@code ./keel}) and this JVM's own
     * arguments.
     */
    static List<String> command(final List<String> args)
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.add(NODE_HEAP);
        command.add("-XX:+UseSerialGC"); // no GC worker threads competing for the 2 cores
        command.add("-cp");
        command.add(absoluteClassPath());
        command.add(KeelCli.class.getName());
        command.addAll(args);
        return command;
    }

    /**
     * The module flags and Chronicle switches a child JVM of this one needs (see {@link #command(List)}).
     *
     * @return the flags, one token per element.
     */
    static List<String> jvmFlags()
    {
        final Set<String> flags = new LinkedHashSet<>(); // "--add-opens java.base/java.lang=ALL-UNNAMED" as one entry
        final String property = System.getProperty("keel.jvm.flags", "").trim();
        if (!property.isEmpty())
        {
            addFlags(flags, List.of(property.split("\\s+")));
        }
        final Manifest manifest = cliJarManifest();
        if (null != manifest)
        {
            final String exports = manifest.getMainAttributes().getValue("Add-Exports");
            final String opens = manifest.getMainAttributes().getValue("Add-Opens");
            for (final String module : null == exports ? new String[0] : exports.trim().split("\\s+"))
            {
                flags.add("--add-exports " + module + "=ALL-UNNAMED");
            }
            for (final String module : null == opens ? new String[0] : opens.trim().split("\\s+"))
            {
                flags.add("--add-opens " + module + "=ALL-UNNAMED");
            }
        }
        addFlags(flags, ManagementFactory.getRuntimeMXBean().getInputArguments());
        flags.add("-Dchronicle.analytics.disable=true");
        flags.add("-Dchronicle.disk.monitor.disable=true");
        final List<String> result = new ArrayList<>();
        for (final String flag : flags)
        {
            result.addAll(List.of(flag.split(" ")));
        }
        return result;
    }

    private static void addFlags(final Set<String> flags, final List<String> tokens)
    {
        for (int i = 0; i < tokens.size(); i++)
        {
            final String token = tokens.get(i);
            if ((token.equals("--add-exports") || token.equals("--add-opens")) && i + 1 < tokens.size())
            {
                flags.add(token + " " + tokens.get(++i));
            }
            else if (token.startsWith("--add-exports=") || token.startsWith("--add-opens="))
            {
                flags.add(token.replaceFirst("=", " "));
            }
            else if (token.startsWith("-Dchronicle."))
            {
                flags.add(token);
            }
        }
    }

    private static Manifest cliJarManifest()
    {
        try
        {
            final File location = new File(KeelCli.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!location.isFile())
            {
                return null;
            }
            try (JarFile jar = new JarFile(location))
            {
                return jar.getManifest();
            }
        }
        catch (final IOException | URISyntaxException | SecurityException | NullPointerException ex)
        {
            return null;
        }
    }

    private static String absoluteClassPath()
    {
        final List<String> entries = new ArrayList<>();
        for (final String entry : System.getProperty("java.class.path").split(File.pathSeparator))
        {
            if (!entry.isEmpty())
            {
                entries.add(new File(entry).getAbsolutePath());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /**
     * @param text    what the line contains.
     * @param afterNs only lines read at or after this time.
     * @return the time the first such line was read, or -1.
     */
    long lineTimeNs(final String text, final long afterNs)
    {
        synchronized (lines)
        {
            final int i = lineIndex(text, afterNs);
            return i < 0 ? -1 : lineTimesNs.get(i);
        }
    }

    /**
     * @param text    what the line contains.
     * @param afterNs only lines read at or after this time.
     * @return the first such line, or null.
     */
    String line(final String text, final long afterNs)
    {
        synchronized (lines)
        {
            final int i = lineIndex(text, afterNs);
            return i < 0 ? null : lines.get(i);
        }
    }

    private int lineIndex(final String text, final long afterNs)
    {
        for (int i = 0; i < lines.size(); i++)
        {
            if (lineTimesNs.get(i) >= afterNs && lines.get(i).contains(text))
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * Wait for a line, failing when the process exits first or the deadline passes.
     *
     * @return when the line was read.
     */
    long awaitLine(final String text, final long timeoutMs) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true)
        {
            final long timeNs = lineTimeNs(text, 0);
            if (timeNs > 0)
            {
                return timeNs;
            }
            if (!process.isAlive())
            {
                process.waitFor();
                Thread.sleep(100); // the reader takes the last lines
                final long lastNs = lineTimeNs(text, 0);
                if (lastNs > 0)
                {
                    return lastNs;
                }
                throw new IllegalStateException(name + " exited (" + process.exitValue() + ") before printing '" +
                    text + "':\n" + tail(20));
            }
            if (System.nanoTime() > deadlineNs)
            {
                throw new IllegalStateException(name + " did not print '" + text + "' within " + timeoutMs +
                    " ms:\n" + tail(20));
            }
            Thread.sleep(5);
        }
    }

    long startNs()
    {
        return startNs;
    }

    boolean isAlive()
    {
        return process.isAlive();
    }

    String name()
    {
        return name;
    }

    /** kill -9. */
    void kill() throws InterruptedException
    {
        signalKill();
        awaitExit();
    }

    /** SIGKILL, without waiting for the process to be gone (its teardown can take tens of ms). */
    void signalKill()
    {
        killed = true;
        process.destroyForcibly();
    }

    /** @return true once {@link #signalKill} was called. */
    boolean killed()
    {
        return killed;
    }

    /** Wait (at most 30 s) until the process has exited. */
    void awaitExit() throws InterruptedException
    {
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /**
     * SIGTERM (the node drains, answers and flushes), then wait.
     *
     * @return the exit code: 0 or 143 is a clean stop.
     */
    int stop(final long timeoutMs) throws InterruptedException
    {
        process.toHandle().destroy(); // SIGTERM without closing our end of its output (Process.destroy would)
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS))
        {
            kill();
            return -1;
        }
        return process.exitValue();
    }

    /** Kill when still running (clean-up on failure). */
    void destroy()
    {
        if (process.isAlive())
        {
            process.destroyForcibly();
        }
    }

    String tail(final int count)
    {
        synchronized (lines)
        {
            return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
        }
    }

    void writeLog(final Path file) throws IOException
    {
        synchronized (lines)
        {
            Files.write(file, lines, StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
    }

    /** @return a free port on 127.0.0.1 that nothing else will take while a node is down ({@link LoopbackPorts}). */
    static int freePort()
    {
        return LoopbackPorts.freePort();
    }
}
