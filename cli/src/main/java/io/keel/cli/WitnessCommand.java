package io.keel.cli;

import io.keel.replication.Witness;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code keel witness}: the third process of replicated pairs started with {@code --witness host:port}.
 */
@Command(
    name = "witness",
    mixinStandardHelpOptions = true,
    description = {
        "Run a witness for replicated pairs (keel node --witness HOST:PORT): it grants the primary a lease and votes " +
            "for a standby's promotion only once that lease has lapsed and the standby holds everything acknowledged.",
        "Prints one line 'keel witness ready: udp://host:port ...'. Its state (epoch, primary, in-sync set per pair) " +
            "lives in DIR/witness.state: keep it; a witness that lost it may promote a stale member.",
        "SIGTERM/SIGINT: stop answering, exit 0. Exit code 2: bad configuration, port in use or state unreadable."
    })
public final class WitnessCommand implements Callable<Integer>
{
    @Option(names = "--port", required = true, paramLabel = "P", description = "UDP port to listen on")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
        description = "address to bind (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--lease-ms", defaultValue = "40", paramLabel = "L",
        description = "lease granted to a primary, ms (default ${DEFAULT-VALUE}); a standby is promoted no sooner " +
            "than L + L/10 after the primary's last renewal (the default fits the nodes' 50 ms failure timeout)")
    int leaseMs;

    @Option(names = "--dir", paramLabel = "DIR", description = "state directory (default: ./witness-<port>)")
    Path dir;

    @Override
    public Integer call() throws InterruptedException
    {
        final Path stateDir = null != dir ? dir : Path.of("witness-" + port);
        final Witness witness;
        try
        {
            witness = Witness.launch(new Witness.Context().host(host).port(port).leaseMs(leaseMs).dir(stateDir));
        }
        catch (final IllegalArgumentException | IllegalStateException ex)
        {
            System.err.println("keel witness: refusing to start: " + ex.getMessage());
            return 2;
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            witness.close();
            System.out.println("keel witness stopped");
            System.out.flush();
            stopped.countDown();
        }, "keel-witness-shutdown"));
        System.out.println("keel witness ready: udp://" + witness.address().getHostString() + ":" +
            witness.address().getPort() + " (lease " + leaseMs + " ms, state " + stateDir.resolve("witness.state") +
            ")");
        System.out.flush();
        while (!stopped.await(100, java.util.concurrent.TimeUnit.MILLISECONDS))
        {
            if (null != witness.failure())
            {
                // a witness that cannot persist its state must not go on answering: exit, so a supervisor sees it
                System.err.println("keel witness: stopped by " + witness.failure());
                return 1;
            }
        }
        return null == witness.failure() ? 0 : 1;
    }
}
