package io.keel.cli.ops;

import io.keel.cli.KeelCli;
import io.keel.gateway.LoopbackPorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code keel stat} and {@code keel errors} read a node's files from outside the process, also after kill -9.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OpsProcessTest
{
    @TempDir
    Path tmp;

    record Run(int exitCode, String out)
    {
    }

    static synchronized Run keel(final String... args)
    {
        final PrintStream original = System.out;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try
        {
            final int code = KeelCli.newCommandLine().execute(args);
            return new Run(code, bytes.toString(StandardCharsets.UTF_8));
        }
        finally
        {
            System.setOut(original);
        }
    }

    @Test
    void statAndErrorsReadANodeKilledWithSigkill() throws Exception
    {
        final Path dir = tmp.resolve("node");
        final String members = "0=127.0.0.1:" + freePort() + ":" + freePort();
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("keel.jvm.flags", "").trim().split("\\s+")));
        command.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
            ErrorsThenHangMain.class.getName(), members, dir.toString()));
        final Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        try
        {
            final BufferedReader reader = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
            final StringBuilder output = new StringBuilder();
            String line;
            while (null != (line = reader.readLine()) && !line.equals("recorded"))
            {
                output.append(line).append('\n');
            }
            assertEquals("recorded", line, "child output:\n" + output);

            final Run running = keel("stat", dir.toString(), "--once");
            assertEquals(0, running.exitCode(), running.out());
            assertTrue(running.out().contains("pid " + child.pid()) && running.out().contains("running, heartbeat"),
                running.out());

            child.destroyForcibly(); // SIGKILL: no shutdown hook, no clean close
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            Run dead = keel("stat", dir.toString(), "--once");
            while (!dead.out().contains("not running") && System.nanoTime() < deadlineNs)
            {
                Thread.sleep(50); // polling the OS for the pid to disappear, bounded by the deadline
                dead = keel("stat", dir.toString(), "--once");
            }
            assertTrue(dead.out().contains("node pid " + child.pid() + " not running (died"), dead.out());
            assertTrue(dead.out().matches("(?s).*\\n  commands in +54\\n.*"), dead.out());
            assertTrue(dead.out().matches("(?s).*\\n  failed +3\\n.*"), dead.out());
            assertTrue(dead.out().matches("(?s).*\\n  errors +3\\n.*"), dead.out());

            final Run errors = keel("errors", dir.toString());
            assertEquals(1, errors.exitCode(), "errors listed: exit 1\n" + errors.out());
            assertTrue(errors.out().contains("1 distinct error(s)"), errors.out());
            assertTrue(errors.out().contains("3 observation(s) from "), errors.out());
            assertTrue(errors.out().contains("java.lang.IllegalStateException: unlucky deposit of 13"), errors.out());
            assertTrue(errors.out().contains("not running (died"), errors.out());
        }
        finally
        {
            child.destroyForcibly();
        }
    }

    @Test
    void statAndErrorsSayWhenADirectoryHasNoNode()
    {
        assertEquals(2, keel("stat", tmp.toString(), "--once").exitCode());
        assertEquals(2, keel("errors", tmp.toString()).exitCode());
    }

    static int freePort()
    {
        return LoopbackPorts.freePort();
    }
}
