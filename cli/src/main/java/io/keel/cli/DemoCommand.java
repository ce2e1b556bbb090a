package io.keel.cli;

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
        "Runs the ledger and the order book under load in one process, with a live progress line, then prints a",
        "latency histogram summary and what it proves: balances conserved, events journaled, state recovered from",
        "the journal equals the live state. Exit 0 when every check passed."
    })
public final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--dir", paramLabel = "DIR",
        description = "keep the journals in DIR (DIR/ledger, DIR/orderbook) for `keel journal ...`; default: a temp dir")
    Path dir;

    @Option(names = "--seconds", description = "seconds of load per domain (default ${DEFAULT-VALUE})", defaultValue = "3")
    int seconds;

    @Option(names = "--rate", description = "commands per second offered (default ${DEFAULT-VALUE})",
        defaultValue = "100000")
    int rate;

    @Option(names = "--accounts", description = "ledger accounts (default ${DEFAULT-VALUE})", defaultValue = "10000")
    int accounts;

    @Option(names = "--fsync", description = "none, batch or always (default ${DEFAULT-VALUE})", defaultValue = "batch")
    String fsync;

    @Option(names = "--idle", description = "business thread idle strategy: yield, backoff, spin, sleep " +
        "(default ${DEFAULT-VALUE})", defaultValue = "backoff")
    String idle;

    @Override
    public Integer call()
    {
        // the demo prints its own story; engine and journal log lines would interleave with the progress line
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.io.keel", "warn");
        final List<String> args = new ArrayList<>();
        if (null != dir)
        {
            args.add("--dir");
            args.add(dir.toString());
        }
        args.add("--seconds");
        args.add(Integer.toString(seconds));
        args.add("--rate");
        args.add(Integer.toString(rate));
        args.add("--accounts");
        args.add(Integer.toString(accounts));
        args.add("--fsync");
        args.add(fsync);
        args.add("--idle");
        args.add(idle);
        return EngineDemo.run(System.out, args.toArray(new String[0]));
    }
}
