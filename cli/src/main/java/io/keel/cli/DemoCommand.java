package io.keel.cli;

import io.keel.cli.demo.ReplicatedDemo;
import io.keel.examples.EngineDemo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code keel demo}: the whole story on one machine with no set-up.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "The whole story on one machine, no set-up (about 45 s): starts a replicated pair of `keel node` JVMs",
        "(primary + standby, embedded media drivers, loopback UDP) and their witness (`keel witness`, which votes on",
        "every takeover), sends ledger transfers from a client in this JVM",
        "at a fixed rate with a live progress line, kills the primary with SIGKILL mid-load, shows the standby taking",
        "over and the old primary rejoining as standby, then checks: every acknowledged command is in the journal",
        "exactly once, balances conserved, journals byte-identical; prints the latency histogram summary and the",
        "failover gap. Exit 0 when every check passed.",
        "--in-process: the single-process engine demo instead (ledger + order book, throughput, recovery checks)."
    })
public final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--dir", paramLabel = "DIR",
        description = "keep the journals in DIR: DIR/node-0/journal and DIR/node-1/journal (--in-process: " +
            "DIR/ledger, DIR/orderbook) for `keel journal ...`; default: a temp dir, deleted at the end")
    Path dir;

    @Option(names = "--in-process", description = "run the single-process engine demo (no replication, no kill)")
    boolean inProcess;

    @Option(names = "--seconds", paramLabel = "S",
        description = "seconds of load (default 30; --in-process: 3 per domain)")
    Integer seconds;

    @Option(names = "--rate", paramLabel = "R", description = "commands per second offered (default 2000; " +
        "--in-process: 100000)")
    Integer rate;

    @Option(names = "--accounts", paramLabel = "N", description = "ledger accounts (default 1000; --in-process: 10000)")
    Integer accounts;

    @Option(names = "--ack", defaultValue = "sync", paramLabel = "sync|async",
        description = "replication ack mode of the nodes (default ${DEFAULT-VALUE})")
    String ack;

    @Option(names = "--fsync", description = "none, batch or always (default ${DEFAULT-VALUE})", defaultValue = "batch")
    String fsync;

    @Option(names = "--idle", description = "idle strategy of the busy threads (nodes' engine and gateway threads, " +
        "client): backoff, yield, spin; spin only with a core per thread (default ${DEFAULT-VALUE})",
        defaultValue = "backoff")
    String idle;

    @Option(names = "--failure-timeout", paramLabel = "MS", defaultValue = "250", description = "the nodes' " +
        "failure timeout: a primary silent this long is replaced (default ${DEFAULT-VALUE}; `keel node` defaults to " +
        "50, which JIT and GC stalls of three JVMs on two cores can exceed, promoting a standby whose primary lives)")
    long failureTimeoutMs;

    @Option(names = "--no-witness", description = "run the pair without its witness: in sync mode the new primary " +
        "then answers NO_STANDBY until the old primary is back as standby: a gap of seconds instead of about the " +
        "failure timeout")
    boolean noWitness;

    @Override
    public Integer call()
    {
        // the demo prints its own story; engine and journal log lines would interleave with the progress line
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.io.keel", "warn");
        if (!inProcess)
        {
            return new ReplicatedDemo(System.out, null == seconds ? 30 : seconds, null == rate ? 2000 : rate,
                null == accounts ? 1000 : accounts, dir, ack, fsync, idle).failureTimeoutMs(failureTimeoutMs).witness(!noWitness).run();
        }
        final List<String> args = new ArrayList<>();
        if (null != dir)
        {
            args.add("--dir");
            args.add(dir.toString());
        }
        args.add("--seconds");
        args.add(Integer.toString(null == seconds ? 3 : seconds));
        args.add("--rate");
        args.add(Integer.toString(null == rate ? 100_000 : rate));
        args.add("--accounts");
        args.add(Integer.toString(null == accounts ? 10_000 : accounts));
        args.add("--fsync");
        args.add(fsync);
        args.add("--idle");
        args.add(idle);
        return EngineDemo.run(System.out, args.toArray(new String[0]));
    }
}
