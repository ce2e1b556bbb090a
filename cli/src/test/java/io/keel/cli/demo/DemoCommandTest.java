package io.keel.cli.demo;

import io.keel.cli.KeelCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code keel demo} with small settings: two node JVMs, a kill -9 of the primary mid-load, takeover, rejoin, and
 * every verification line [ok].
 */
class DemoCommandTest
{
    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void replicatedDemoSurvivesPrimaryKillAndEveryCheckPasses() throws Exception
    {
        final Path dir = tmp.resolve("demo");
        final Run run = run("demo", "--seconds", "6", "--rate", "500", "--accounts", "50", "--dir", dir.toString());

        assertEquals(0, run.exit, run.output);
        assertTrue(run.output.contains("== 3. Kill: SIGKILL (kill -9) to the primary"), run.output);
        assertTrue(run.output.contains("takeover: node "), run.output);
        assertTrue(run.output.contains("with the witness's vote"), run.output);
        assertTrue(run.output.contains("rejoined as standby"), run.output);
        assertTrue(run.output.contains("[ok] every acknowledged command is in the new primary's journal exactly once"),
            run.output);
        assertTrue(run.output.contains("[ok] total balance conserved"), run.output);
        assertTrue(run.output.contains("[ok] the two journals are byte-identical up to their common position"),
            run.output);
        assertTrue(run.output.contains("[ok] the load went on after the kill"), run.output);
        assertTrue(run.output.contains("latency, whole run"), run.output);
        assertTrue(run.output.contains("failover gap seen by the client"), run.output);
        assertFalse(run.output.contains("[FAIL]"), run.output);
        assertTrue(run.output.contains("All checks passed."), run.output);
        assertTrue(Files.isDirectory(dir.resolve("node-0").resolve("journal")), "--dir keeps node 0's journal");
        assertTrue(Files.isDirectory(dir.resolve("node-1").resolve("journal")), "--dir keeps node 1's journal");
    }

    /**
     * Without a witness a sync pair's new primary answers NO_STANDBY until the old primary is back as standby: the
     * client's gap then includes that restart, and every check still passes.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void replicatedDemoWithoutAWitnessStillPassesItsChecks() throws Exception
    {
        final Run run = run("demo", "--no-witness", "--seconds", "5", "--rate", "500", "--accounts", "50");

        assertEquals(0, run.exit, run.output);
        assertFalse(run.output.contains("witness ready"), run.output);
        assertTrue(run.output.contains("no witness: it acknowledges nothing until a standby is back"), run.output);
        assertTrue(run.output.contains("includes restarting the old primary as standby"), run.output);
        assertTrue(run.output.contains("All checks passed."), run.output);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void inProcessDemoStillRuns() throws Exception
    {
        final Run run = run("demo", "--in-process", "--seconds", "1", "--rate", "2000", "--accounts", "100",
            "--dir", tmp.resolve("in-process").toString());

        assertEquals(0, run.exit, run.output);
        assertTrue(run.output.contains("All checks passed."), run.output);
    }

    record Run(int exit, String output)
    {
    }

    static Run run(final String... args)
    {
        final PrintStream original = System.out;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream capture = new PrintStream(bytes, true, StandardCharsets.UTF_8))
        {
            System.setOut(capture);
            exit = KeelCli.newCommandLine().execute(args);
        }
        finally
        {
            System.setOut(original);
        }
        final String output = bytes.toString(StandardCharsets.UTF_8);
        original.println(output); // in the test's report
        return new Run(exit, output);
    }
}
