package io.keel.cli;

import io.keel.examples.ledger.Ledger;
import io.keel.gateway.KeelNode;
import io.keel.gateway.Member;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalCorruptedException;
import io.keel.journal.JournalException;
import io.keel.replication.AckMode;
import io.keel.replication.ReplicatedNode;
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
            "sync: an answer is released once the standby holds the command (no standby: clients get NO_STANDBY); " +
            "async: once the local journal policy is met (the standby follows behind).")
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

    @Option(names = "--defer-watch-publications",
        description = "a standby adds its response publication to a watching client only once its primary falls " +
            "silent, and keeps it 5 s after (default: as the watch arrives; deferring saves a socket per client on " +
            "the standby, but a takeover may then wait for the publication to connect)")
    boolean deferWatchPublications;

    @Option(names = "--engine-threading", defaultValue = "dedicated", paramLabel = "dedicated|gateway",
        description = "dedicated gives the business logic a thread of its own (default); gateway runs it inside the " +
            "gateway's duty cycle (with the driver invoked, one hot thread per node: no hand-off per command)")
    String engineThreading;

    @Option(names = "--credentials", paramLabel = "FILE",
        description = "credentials file (lines: clientId secret types); without it every client may send anything")
    Path credentials;

    @Option(names = "--aeron-dir", paramLabel = "D", description = "use the external media driver in D " +
        "(./keel driver) instead of an embedded one")
    String aeronDir;

    @Option(names = "--primary", paramLabel = "ID", defaultValue = "-1",
        description = "a static primary: run unreplicated and redirect clients to member ID (default: with two " +
            "members the pair replicates and elects its primary)")
    int primary;

    @Option(names = "--failure-timeout", paramLabel = "MS", defaultValue = "-1",
        description = "replication: a peer silent this long is lost (default keel.replication.failureTimeoutMs, 50)")
    long failureTimeoutMs;

    @Option(names = "--heartbeat", paramLabel = "MS", defaultValue = "-1",
        description = "replication heartbeat interval (default keel.replication.heartbeatIntervalMs, 5)")
    long heartbeatMs;

    @Option(names = "--degrade-after", paramLabel = "MS", defaultValue = "-1",
        description = "sync only: after MS without a standby release like async (default -1: never; opt-in, " +
            "see the replication README for what it costs)")
    long degradeAfterMs;

    @Option(names = "--promote-behind-after", paramLabel = "MS", defaultValue = "-1",
        description = "async (or degraded sync), no witness: a standby still catching up takes over after MS of " +
            "silence from its primary, losing what that primary acknowledged beyond it (default -1: never; opt-in, " +
            "see the replication README)")
    long promoteBehindAfterMs;

    @Option(names = "--witness", paramLabel = "HOST:PORT",
        description = "the pair's witness (./keel witness): a standby promotes itself only with its vote, and a " +
            "primary whose standby is gone acknowledges alone once the witness took the standby out of the in-sync " +
            "set (default: none, and sync answers NO_STANDBY without a standby)")
    String witness;

    @Option(names = "--snapshot-every", paramLabel = "EVENTS", defaultValue = "0",
        description = "engine snapshot after this many events (default 0: by the engine's settings)")
    long snapshotEveryEvents;

    @Option(names = "--journal-retention", paramLabel = "all|snapshots", defaultValue = "all",
        description = "all keeps the whole journal (default); snapshots deletes segments the oldest kept snapshot " +
            "covers (a standby behind the primary's first segment then catches up from its snapshot)")
    String journalRetention;

    @Override
    public Integer call()
    {
        final List<Member> memberList;
        try
        {
            memberList = Member.parseList(members);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("keel node " + id + ": refusing to start: " + ex.getMessage());
            return 2;
        }
        if (!"all".equals(journalRetention) && !"snapshots".equals(journalRetention))
        {
            System.err.println("keel node " + id + ": refusing to start: --journal-retention '" + journalRetention +
                "': expected all or snapshots");
            return 2;
        }
        if (memberList.size() == 2 && primary < 0)
        {
            return replicated(memberList);
        }
        final KeelNode node;
        try
        {
            final KeelNode.Context context = new KeelNode.Context()
                .members(memberList)
                .memberId(id)
                .dir(dir)
                .domain(Ledger.domain())
                .ack(ack)
                .fsync(DurabilityPolicy.parse(fsync))
                .idle(idle)
                .engineIdle(engineIdle)
                .driverThreading(driverThreading)
                .engineThreading(engineThreading)
                .journalRetention("snapshots".equals(journalRetention))
                .beforeServing(NodeCommand::collectStartupGarbage)
                .credentialsFile(credentials)
                .aeronDir(aeronDir)
                .primaryMemberId(primary)
                .metricsPort(metricsPort)
                .metricsHost(metricsHost);
            if (snapshotEveryEvents > 0)
            {
                context.engineContext().snapshotEveryEvents(snapshotEveryEvents);
            }
            node = KeelNode.launch(context);
            if (memberList.size() > 1)
            {
                System.out.println("keel node " + id + ": static primary " + primary + ": running unreplicated " +
                    "(--ack " + ack + " has no standby to wait for)");
            }
        }
        catch (final JournalException | IllegalArgumentException | IllegalStateException ex)
        {
            return refuseToStart(ex);
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
        return exitCode(node.awaitShutdown());
    }

    private Integer replicated(final List<Member> memberList)
    {
        final ReplicatedNode node;
        try
        {
            final ReplicatedNode.Context context = new ReplicatedNode.Context()
                .members(memberList)
                .memberId(id)
                .dir(dir)
                .domain(Ledger.domain())
                .ack(AckMode.parse(ack))
                .fsync(DurabilityPolicy.parse(fsync))
                .idle(idle)
                .engineIdle(engineIdle)
                .engineThreading(engineThreading)
                .beforeServing(NodeCommand::collectStartupGarbage)
                .credentialsFile(credentials)
                .metricsPort(metricsPort)
                .metricsHost(metricsHost)
                .roleListener(state ->
                {
                    System.out.println("keel node " + id + ": " + state);
                    System.out.flush();
                });
            if (failureTimeoutMs > 0)
            {
                context.replicationContext().failureTimeoutMs(failureTimeoutMs);
            }
            if (heartbeatMs > 0)
            {
                context.replicationContext().heartbeatIntervalMs(heartbeatMs);
            }
            context.replicationContext().degradeToAsyncAfterMs(degradeAfterMs);
            context.replicationContext().promoteBehindAfterMs(promoteBehindAfterMs);
            if (deferWatchPublications)
            {
                context.gatewayContext().deferWatchPublications(true);
            }
            if (null != witness)
            {
                context.replicationContext().witness(witness);
            }
            context.engineContext().journalRetention("snapshots".equals(journalRetention));
            if (snapshotEveryEvents > 0)
            {
                context.engineContext().snapshotEveryEvents(snapshotEveryEvents);
            }
            node = ReplicatedNode.launch(context);
        }
        catch (final JournalException | IllegalArgumentException | IllegalStateException ex)
        {
            return refuseToStart(ex);
        }
        final Member self = node.gateway().context().member(id);
        final Thread hook = new Thread(() ->
        {
            final String counters = node.gateway().counters().toString() + " " + node.replication().counters();
            node.close();
            System.out.println("keel node " + id + " stopped: " + counters);
            System.out.flush();
        }, "keel-node-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("keel node " + id + " ready: clients udp://" + self.clientEndpoint() +
            " replication udp://" + self.host() + ":" + self.replicationPort() + " (journal " + dir.resolve("journal") +
            ", aeron dir " + node.aeronDirectoryName() + " embedded, auth " + (node.authenticating() ? "on" : "off") +
            ", ack " + ack + ", fsync " + fsync + ", idle " + idle + ", replicated pair" +
            (null == witness ? "" : ", witness " + witness) + ")");
        System.out.flush();
        return exitCode(node.awaitShutdown());
    }

    /**
     * One collection now, while the node has just started, so the garbage of start-up (Aeron, Chronicle, class
     * loading, recovery) does not wait for the first young collection: in steady state the node allocates next to
     * nothing, so that collection would come at a random later moment, and the failover bench caught it (a 22–34 ms
     * SerialGC pause) inside a promotion. It runs before the gateway thread starts (nothing served yet, no peer
     * counting on this node's heartbeats). Disabled by {@code -XX:+DisableExplicitGC}.
     */
    private static void collectStartupGarbage()
    {
        final long startNs = System.nanoTime();
        System.gc();
        final long tookMs = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        if (tookMs >= 20)
        {
            System.out.println("keel node: start-up collection took " + tookMs + " ms (-XX:+DisableExplicitGC skips it)");
        }
    }

    /** A refusal to start, with the exit code the help text promises: 3 for a journal, 2 for configuration. */
    private int refuseToStart(final RuntimeException ex)
    {
        if (ex instanceof JournalCorruptedException)
        {
            System.err.println("keel node " + id + ": refusing to start: journal cannot be trusted: " +
                ex.getMessage());
            return 3;
        }
        if (ex instanceof JournalException)
        {
            System.err.println("keel node " + id + ": refusing to start: journal: " + ex.getMessage());
            return 3;
        }
        System.err.println("keel node " + id + ": refusing to start: " + ex.getMessage());
        return 2;
    }

    /** Exit code once the node stopped: 1 when its engine failed, else 0. */
    private int exitCode(final String engineFailure)
    {
        if (null != engineFailure)
        {
            System.err.println("keel node " + id + ": engine failed: " + engineFailure);
            return 1;
        }
        return 0;
    }
}
