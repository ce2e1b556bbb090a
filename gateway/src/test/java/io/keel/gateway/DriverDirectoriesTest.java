package io.keel.gateway;

import io.aeron.driver.MediaDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node killed with SIGKILL leaves its embedded driver's directory (memory, on tmpfs) behind; the next Keel process
 * reaps it, and never a directory whose process lives or that is not Keel's.
 */
class DriverDirectoriesTest
{
    @TempDir
    Path base;

    @Test
    void theDirectoryOfAKilledDriverIsReapedAndLiveOrForeignOnesAreKept() throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (final String flag : System.getProperty("keel.jvm.flags", "").split(" "))
        {
            if (!flag.isBlank())
            {
                command.add(flag);
            }
        }
        command.add("-Xmx64m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(DriverChild.class.getName());
        command.add(base.toString());
        final Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        final File killedDir;
        try (MediaDriver live = MediaDriver.launch(KeelNode.driverContext(
            DriverDirectories.fresh(base.toFile(), "live"), "backoff")))
        {
            final BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
            final String ready = out.readLine();
            assertNotNull(ready, "the child driver printed nothing");
            assertTrue(ready.startsWith("READY "), ready);
            killedDir = new File(ready.substring("READY ".length()));
            assertTrue(new File(killedDir, "cnc.dat").exists());
            final Path foreign = Files.createDirectories(base.resolve("aeron-someone-else"));
            final Path unnamed = Files.createDirectories(base.resolve("keel-without-a-pid"));

            assertEquals(0, DriverDirectories.reapStale(base.toFile()), "the live child's directory is kept");
            child.destroyForcibly();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));

            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            int reaped = 0;
            while (reaped == 0 && System.nanoTime() < deadline)
            {
                reaped = DriverDirectories.reapStale(base.toFile());
                Thread.sleep(100);
            }
            assertEquals(1, reaped, "the killed driver's directory is reaped once its heartbeat is stale");
            assertFalse(killedDir.exists());
            assertTrue(new File(live.aeronDirectoryName()).exists(), "this process's own driver is kept");
            assertTrue(Files.exists(foreign) && Files.exists(unnamed), "directories not named by Keel are kept");
        }
        finally
        {
            child.destroyForcibly();
        }
    }

    @Test
    void theOwnerPidIsTheSecondToLastField()
    {
        assertEquals(1234, DriverDirectories.ownerPid("keel-node-0-1234-1a2b3c"));
        assertEquals(99, DriverDirectories.ownerPid("keel-client-99-ff"));
        assertEquals(-1, DriverDirectories.ownerPid("keel-node-0-abc-1a2b3c"));
        assertEquals(-1, DriverDirectories.ownerPid("keel"));
    }

    /** A child process that runs an embedded driver until it is killed. */
    public static final class DriverChild
    {
        public static void main(final String[] args) throws Exception
        {
            final MediaDriver driver = MediaDriver.launch(KeelNode.driverContext(
                DriverDirectories.fresh(new File(args[0]), "child"), "backoff"));
            System.out.println("READY " + driver.aeronDirectoryName());
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(2));
            driver.close();
        }
    }
}
