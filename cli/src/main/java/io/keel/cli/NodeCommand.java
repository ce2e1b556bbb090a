package io.keel.cli;

import io.keel.examples.ledger.Ledger;
import io.keel.gateway.KeelNode;
import io.keel.gateway.Member;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalCorruptedException;
import io.keel.journal.JournalException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code keel node}: one node (ledger domain) with its gateway on the member's client port.
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
        "Run one Keel node: engine (ledger domain) + journal in DIR/journal + gateway on the member's client port.",
        "Prints one line 'keel node <id> ready: clients udp://host:port ...' when it takes commands.",
        "SIGTERM/SIGINT: stop the ingress, drain the engine, answer and flush everything, exit.",
        "Exit codes: 0 stopped cleanly, 1 engine failure, 2 bad configuration or port in use, 3 journal not trusted."
    })
public final class NodeCommand implements Callable<Integer>
{
    @Option(names = "--members", required = true, paramLabel = "LIST",
        description = "id=host:clientPort:replicationPort,... (e.g. 0=127.0.0.1:9100:9200)")
    String members;

    @Option(names = "--id", required = true, description = "this member's id")
    int id;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "node directory (journal in DIR/journal)")
    Path dir;

    @Option(names = "--ack", defaultValue = "sync", paramLabel = "sync|async",
        description = "when answers are released relative to the standby's ack (default ${DEFAULT-VALUE}). " +
            "Needs a standby: replication is not in this build, so the node runs unreplicated and answers once " +
            "its journal policy is met.")
    String ack;

    @Option(names = "--fsync", defaultValue = "batch", paramLabel = "none|batch|always",
        description = "journal durability (default ${DEFAULT-VALUE})")
    String fsync;

    @Option(names = "--idle", defaultValue = "yield", paramLabel = "yield|backoff|spin",
        description = "idle strategy of the driver, gateway and engine threads (default ${DEFAULT-VALUE}; spin only " +
            "with a dedicated core per thread)")
    String idle;

    @Option(names = "--engine-idle", paramLabel = "yield|backoff|spin",
        description = "idle strategy of the engine's business-logic thread (default: as --idle)")
    String engineIdle;

    @Option(names = "--metrics-port", paramLabel = "P", defaultValue = "0",
        description = "serve Prometheus metrics on http://127.0.0.1:P/metrics (default: off)")
    int metricsPort;

    @Option(names = "--metrics-host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
        description = "address the metrics endpoint binds to (default ${DEFAULT-VALUE})")
    String metricsHost;

    @Option(names = "--driver-threading", defaultValue = "invoker", paramLabel = "invoker|shared",
        description = "embedded driver: invoker runs it in the gateway thread (fewest threads, lowest latency on " +
            "small machines; default), shared gives it a thread of its own (more throughput)")
    String driverThreading;

    @Option(names = "--credentials", paramLabel = "FILE",
        description = "credentials file (lines: clientId secret types); without it every client may send anything")
    Path credentials;

    @Option(names = "--aeron-dir", paramLabel = "D", description = "use the external media driver in D " +
        "(./keel driver) instead of an embedded one")
    String aeronDir;

    @Option(names = "--primary", paramLabel = "ID", defaultValue = "-1",
        description = "member to redirect clients to, until replication elects a primary (default: this node)")
    int primary;

    @Override
    public Integer call()
    {
        final KeelNode node;
        try
        {
            final List<Member> memberList = Member.parseList(members);
            node = KeelNode.launch(new KeelNode.Context()
                .members(memberList)
                .memberId(id)
                .dir(dir)
                .domain(Ledger.domain())
                .ack(ack)
                .fsync(DurabilityPolicy.parse(fsync))
                .idle(idle)
                .engineIdle(engineIdle)
                .driverThreading(driverThreading)
                .credentialsFile(credentials)
                .aeronDir(aeronDir)
                .primaryMemberId(primary)
                .metricsPort(metricsPort)
                .metricsHost(metricsHost));
            if (memberList.size() > 1)
            {
                System.out.println("keel node " + id + ": replication is not in this build: running unreplicated " +
                    "(--ack " + ack + " has no standby to wait for)");
            }
        }
        catch (final JournalCorruptedException ex)
        {
            System.err.println("keel node " + id + ": refusing to start: journal cannot be trusted: " +
                ex.getMessage());
            return 3;
        }
        catch (final JournalException ex)
        {
            System.err.println("keel node " + id + ": refusing to start: journal: " + ex.getMessage());
            return 3;
        }
        catch (final IllegalArgumentException | IllegalStateException ex)
        {
            System.err.println("keel node " + id + ": refusing to start: " + ex.getMessage());
            return 2;
        }
        final Member self = node.gateway().context().member(id);
        final Thread hook = new Thread(() ->
        {
            final String counters = node.gateway().counters().toString();
            node.close();
            System.out.println("keel node " + id + " stopped: " + counters);
            System.out.flush();
        }, "keel-node-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("keel node " + id + " ready: clients udp://" + self.clientEndpoint() +
            " (journal " + dir.resolve("journal") + ", aeron dir " + node.aeronDirectoryName() +
            (node.embeddedDriver() ? " embedded" : " external") + ", auth " + (node.authenticating() ? "on" : "off") +
            ", fsync " + fsync + ", idle " + idle + ", primary " + node.gateway().primaryMemberId() + ")");
        System.out.flush();
        final String failure = node.awaitShutdown();
        if (null != failure)
        {
            System.err.println("keel node " + id + ": engine failed: " + failure);
            return 1;
        }
        return 0;
    }
}
