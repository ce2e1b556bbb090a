package io.keel.cli.replication;

import io.keel.cli.KeelCli;
import io.keel.cli.gateway.NodeProcess;
import io.keel.gateway.LoopbackPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replicated pair of {@code keel node} JVMs seen from outside, the way an operator sees it: {@code keel stat} shows
 * each member's live role, epoch, positions and lag from its counters file (also after kill -9), {@code keel health}
 * names the primary with the live epoch, and the Prometheus endpoint exports the replication lag.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicatedPairObservabilityTest
{
    static final long AWAIT_MS = ReplicatedPairProcessTest.AWAIT_MS;
    private static final Pattern COUNTER_LINE = Pattern.compile("^  (.+?) +(-?[0-9,]+)(  .*)?$");

    @TempDir
    Path tmp;

    final String[] member = new String[2];
    String members;
    final List<NodeProcess> all = new ArrayList<>();

    record Run(int exitCode, String out)
    {
    }

    @BeforeEach
    void setUp()
    {
        for (int id = 0; id < 2; id++)
        {
            member[id] = id + "=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort();
        }
        members = member[0] + "," + member[1];
    }

    @AfterEach
    void tearDown() throws Exception
    {
        for (final NodeProcess node : all)
        {
            node.close();
        }
    }

    @Test
    void statAndHealthShowLiveRoleEpochAndLagOfAPairAndItsFailover() throws Exception
    {
        final int metricsPort = LoopbackPorts.freePort();
        final NodeProcess primary = start(0, "--metrics-port", Integer.toString(metricsPort));
        primary.awaitLine("keel node 0: primary in epoch", AWAIT_MS);
        final NodeProcess standby = start(1);
        standby.awaitLine("keel node 1: standby following member 0", AWAIT_MS);

        final Path history = tmp.resolve("history.txt");
        final CompletableFuture<Integer> bank = CompletableFuture.supplyAsync(() -> KeelCli.newCommandLine().execute(
            "bank", "--members", members, "--accounts", "10", "--rate", "300", "--duration", "2s", "--timeout", "30s",
            "--client-id", "1", "--history", history.toString()));
        ReplicatedPairProcessTest.awaitOkLines(history, 100);
        assertEquals(0, bank.get(60, TimeUnit.SECONDS), "keel bank checks");

        // both counters files: live role and epoch, positions that agree once the standby caught up, no lag left
        final Map<String, Long> p = awaitStat(0, s -> s.getOrDefault("replication/lag bytes", -1L) == 0 &&
            s.getOrDefault("replication/standby acked position", 0L) > 0);
        final long epoch = p.get("replication/epoch");
        assertTrue(epoch >= 1, "epoch " + epoch);
        assertEquals(1, p.get("replication/role"), "member 0 is primary");
        assertEquals(1, p.get("node/role"));
        assertEquals(epoch, p.get("node/epoch"), "the node gauge shows the live epoch");
        assertEquals(0, p.get("replication/lag ms"));
        assertTrue(p.get("replication/batches sent") > 0, p.toString());
        assertTrue(p.get("engine/commands in") >= 100, p.toString());
        final long committed = p.get("replication/replication position");
        assertEquals(committed, p.get("replication/standby acked position"));

        final Map<String, Long> s = awaitStat(1, m -> m.getOrDefault("replication/replication position", 0L) ==
            committed);
        assertEquals(2, s.get("replication/role"), "member 1 is standby");
        assertEquals(2, s.get("node/role"));
        assertEquals(epoch, s.get("replication/epoch"));
        assertEquals(epoch, s.get("node/epoch"));
        assertTrue(s.get("replication/frames appended") > 0, s.toString());
        assertTrue(s.containsKey("replication/lag bytes") && s.containsKey("replication/lag ms"), s.toString());

        final String metrics = scrape(metricsPort);
        assertTrue(metrics.contains("keel_replication_lag_bytes{node=\"0\"} 0"), metrics);
        assertTrue(metrics.contains("keel_replication_lag_ms{node=\"0\"}"), metrics);
        assertTrue(metrics.contains("keel_replication_role{node=\"0\"} 1"), metrics);
        final String dashboard = java.nio.file.Files.readString(Path.of("..", "docs", "grafana-keel.json"));
        final Matcher used = Pattern.compile("keel_replication_[a-z0-9_]+").matcher(dashboard);
        int checked = 0;
        while (used.find())
        {
            assertTrue(metrics.contains("\n" + used.group() + "{"), "the dashboard uses " + used.group() +
                " which the primary does not export");
            checked++;
        }
        assertTrue(checked >= 2, "replication metrics in the dashboard: " + checked);

        final Run healthy = keel("health", "--members", members);
        assertEquals(0, healthy.exitCode(), healthy.out());
        assertTrue(healthy.out().contains("healthy: primary 0, epoch " + epoch + ","), healthy.out());

        primary.kill(); // SIGKILL
        standby.awaitLine("keel node 1: primary in epoch", AWAIT_MS);
        final Run failedOver = awaitHealth(member[1], r -> 0 == r.exitCode());
        final Matcher newEpoch = Pattern.compile("healthy: primary 1, epoch (\\d+),").matcher(failedOver.out());
        assertTrue(newEpoch.find(), failedOver.out());
        assertTrue(Long.parseLong(newEpoch.group(1)) > epoch, "higher epoch after the failover:\n" + failedOver.out());
        final Run both = keel("health", "--members", members);
        assertEquals(1, both.exitCode(), "one member is dead: not healthy\n" + both.out());
        assertTrue(both.out().contains("member 0 did not answer"), both.out());

        final Map<String, Long> survivor = awaitStat(1, m -> m.getOrDefault("replication/role", 0L) == 1);
        assertEquals(Long.parseLong(newEpoch.group(1)), survivor.get("replication/epoch"));
        assertEquals(1, survivor.get("replication/promotions"));

        final Run dead = keel("stat", dir(0).toString(), "--once");
        assertEquals(0, dead.exitCode(), dead.out());
        assertTrue(dead.out().contains("not running (died"), dead.out());
        final Map<String, Long> last = parse(dead.out());
        assertEquals(1, last.get("replication/role"), "its last counters: it was primary\n" + dead.out());
        assertEquals(epoch, last.get("replication/epoch"), dead.out());
        assertTrue(last.get("replication/replication position") >= committed, dead.out());
    }

    // ------------------------------------------------------------------------------------------------ harness

    Path dir(final int id)
    {
        return tmp.resolve("node" + id);
    }

    NodeProcess start(final int id, final String... extra) throws IOException
    {
        final NodeProcess node = NodeProcess.startNode("node" + id, id, members, dir(id), List.of(), extra);
        all.add(node);
        return node;
    }

    /** {@code keel stat DIR --once} until the counters satisfy the condition, with a deadline. */
    Map<String, Long> awaitStat(final int id, final Predicate<Map<String, Long>> condition)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        Run run = keel("stat", dir(id).toString(), "--once");
        while (0 != run.exitCode() || !condition.test(parse(run.out())))
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("keel stat of member " + id + " did not show it within " + AWAIT_MS +
                    " ms:\n" + run.out());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            run = keel("stat", dir(id).toString(), "--once");
        }
        assertTrue(run.out().contains(": running, heartbeat"), run.out());
        return parse(run.out());
    }

    Run awaitHealth(final String memberList, final Predicate<Run> condition)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        Run run = keel("health", "--members", memberList, "--timeout-ms", "1000");
        while (!condition.test(run))
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("keel health did not get there within " + AWAIT_MS + " ms:\n" + run.out());
            }
            run = keel("health", "--members", memberList, "--timeout-ms", "1000");
        }
        return run;
    }

    /** @return part/label (label up to " (") to value, from {@code keel stat --once} output. */
    static Map<String, Long> parse(final String stat)
    {
        final Map<String, Long> values = new HashMap<>();
        String part = null;
        for (final String line : stat.split("\n"))
        {
            if (!line.startsWith(" ") && !line.startsWith("keel node"))
            {
                part = line.trim();
                continue;
            }
            final Matcher m = COUNTER_LINE.matcher(line);
            if (null != part && m.matches())
            {
                final String label = m.group(1).trim();
                final int paren = label.indexOf(" (");
                values.put(part + "/" + (paren > 0 ? label.substring(0, paren) : label),
                    Long.parseLong(m.group(2).replace(",", "")));
            }
        }
        return values;
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

    static String scrape(final int port) throws Exception
    {
        final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(java.time.Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertNotNull(response.body());
        return response.body();
    }
}
