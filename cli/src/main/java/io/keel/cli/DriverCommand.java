package io.keel.cli;

import io.aeron.CommonContext;
import io.aeron.driver.MediaDriver;
import io.keel.gateway.KeelNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code keel driver}: a standalone Aeron media driver for nodes and clients started with {@code --aeron-dir}.
 */
@Command(
    name = "driver",
    mixinStandardHelpOptions = true,
    description = "Run a standalone Aeron media driver (SHARED threading) until SIGTERM/SIGINT.")
public final class DriverCommand implements Callable<Integer>
{
    @Option(names = "--aeron-dir", paramLabel = "D", description = "driver directory (default: Aeron's default, " +
        "under /dev/shm)")
    String aeronDir;

    @Option(names = "--idle", defaultValue = "yield", paramLabel = "yield|backoff|spin",
        description = "idle strategy of the driver thread (default ${DEFAULT-VALUE})")
    String idle;

    @Override
    public Integer call() throws InterruptedException
    {
        final String dir = null != aeronDir ? aeronDir : CommonContext.getAeronDirectoryName();
        final MediaDriver driver;
        try
        {
            driver = MediaDriver.launch(KeelNode.driverContext(dir, idle));
        }
        catch (final RuntimeException ex)
        {
            System.err.println("keel driver: cannot start in " + dir + ": " + ex.getMessage());
            return 2;
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            driver.close();
            System.out.println("keel driver stopped");
            stopped.countDown();
        }, "keel-driver-shutdown"));
        System.out.println("keel driver ready: aeron dir " + driver.aeronDirectoryName() + " (idle " + idle + ")");
        System.out.flush();
        stopped.await();
        return 0;
    }
}
