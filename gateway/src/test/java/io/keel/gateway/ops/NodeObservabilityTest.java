package io.keel.gateway.ops;

import io.keel.engine.CommandHandler;
import io.keel.engine.CommandOutcome;
import io.keel.engine.Domain;
import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.ClientTestSupport;
import io.keel.gateway.KeelNode;
import io.keel.gateway.LoopbackPorts;
import io.keel.gateway.Member;
import io.keel.gateway.client.KeelClient;
import io.keel.journal.DurabilityPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node's counters file, error file and Prometheus endpoint show what it did, while it runs and after it stopped.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeObservabilityTest
{
    static final long UNLUCKY = 13;

    @TempDir
    Path tmp;

    /** Ledger whose handler throws for a deposit of 13: an engine error on demand. */
    static Domain unluckyLedger()
    {
        final Domain domain = Ledger.domain();
        final CommandHandler ledger = domain.handler();
        return domain.handler((command, decision) ->
        {
            if (command instanceof Deposit && ((Deposit)command).amount == UNLUCKY)
            {
                throw new IllegalStateException("unlucky deposit of 13");
            }
            ledger.handle(command, decision);
        });
    }

    @Test
    void countersErrorsAndPrometheusShowTheNodeUnderLoadAndAfterItStopped() throws Exception
    {
        final List<Member> members = Member.parseList("0=127.0.0.1:" + LoopbackPorts.freePort() + ":" + LoopbackPorts.freePort());
        final int metricsPort = LoopbackPorts.freePort();
        final Path dir = tmp.resolve("node");
        final Map<String, Double> before;
        final KeelNode node = KeelNode.launch(new KeelNode.Context().members(members).memberId(0).dir(dir)
            .domain(unluckyLedger()).fsync(DurabilityPolicy.BATCH).metricsPort(metricsPort));
        try (node; KeelClient client = KeelClient.connect(new KeelClient.Context().members(members).clientId(3)
            .commandCodecs(Ledger.domain().commands()).ownThread(false).invokeDriver(true)))
        {
            assertEquals(metricsPort, node.observability().metricsPort());
            before = PrometheusText.parse(scrape(metricsPort));
            assertEquals(0.0, before.get("keel_engine_commands_in_total{node=\"0\"}"));
            assertEquals(1.0, before.get("keel_node_role{node=\"0\"}"), "a single node is primary");

            assertInstanceOf(CommandOutcome.Accepted.class, ClientTestSupport.await(client, client.submit(new OpenAccount().set(1, 10))));
            for (int i = 0; i < 200; i++)
            {
                assertInstanceOf(CommandOutcome.Accepted.class, ClientTestSupport.await(client, client.submit(new Deposit().set(1, 1))));
            }
            for (int i = 0; i < 3; i++)
            {
                assertInstanceOf(CommandOutcome.Failed.class,
                    ClientTestSupport.await(client, client.submit(new Deposit().set(1, UNLUCKY))));
            }
            assertInstanceOf(CommandOutcome.Rejected.class, ClientTestSupport.await(client, client.submit(new Deposit().set(99, 1))));

            try (CountersFile file = CountersFile.openReadOnly(dir))
            {
                final Map<String, Long> values = byName(file);
                assertEquals(205, values.get("engine/commands in"));
                assertEquals(201, values.get("engine/accepted"));
                assertEquals(3, values.get("engine/failed"));
                assertEquals(1, values.get("engine/rejected"));
                assertEquals(1, values.get("rejection/UNKNOWN_ACCOUNT"));
                assertEquals(3, values.get("engine/errors"));
                assertTrue(values.get("engine/events") >= 201, values.toString());
                assertEquals(1, values.get("gateway/sessions active"));
                assertEquals(205, values.get("gateway/commands submitted"));
                awaitTrue(() -> byName(file).get("gateway/responses sent") == 205, "responses counted");
                awaitTrue(() -> byName(file).get("node/latency samples") == 205 &&
                    byName(file).get("node/latency p99 ns (30 s)") > 0, "latency sampled");
                awaitTrue(() -> byName(file).get("engine/journal committed position") ==
                    node.engine().journal().committedPosition() && byName(file).get("engine/fsyncs") > 0,
                    "journal gauges sampled");
                assertEquals(node.engine().context().ringSize(), byName(file).get("engine/ring remaining"));
                assertEquals(ProcessHandle.current().pid(), file.file().pid());
                assertTrue(file.file().writerAlive());
            }

            final Map<String, Double> after = PrometheusText.parse(scrape(metricsPort));
            assertEquals(205.0, after.get("keel_engine_commands_in_total{node=\"0\"}"));
            assertEquals(1.0, after.get("keel_engine_rejections_total{node=\"0\",reason=\"UNKNOWN_ACCOUNT\"}"));
            assertEquals(205.0, after.get("keel_command_latency_seconds_count{node=\"0\"}"));
            final double p99 = after.get("keel_command_latency_seconds{node=\"0\",quantile=\"0.99\"}");
            final double p50 = after.get("keel_command_latency_seconds{node=\"0\",quantile=\"0.5\"}");
            assertTrue(p99 > 0 && p99 < 60 && p50 <= p99, "p50 " + p50 + " p99 " + p99);
            assertTrue(after.get("keel_gateway_responses_sent_total{node=\"0\"}") >= 205.0, after.toString());

            // every metric the Grafana dashboard draws exists (replication's: ReplicatedPairObservabilityTest)
            final String dashboard = java.nio.file.Files.readString(Path.of("..", "docs", "grafana-keel.json"));
            final java.util.regex.Matcher metric = java.util.regex.Pattern.compile("keel_[a-z0-9_]+").matcher(dashboard);
            final java.util.Set<String> exported = after.keySet().stream().map(k -> k.replaceAll("\\{.*", ""))
                .collect(Collectors.toSet());
            int checked = 0;
            while (metric.find())
            {
                final String name = metric.group();
                if (!name.startsWith("keel_replication_") && !"keel_node".equals(name))
                {
                    assertTrue(exported.contains(name), "dashboard uses " + name + " which the node does not export");
                    checked++;
                }
            }
            assertTrue(checked > 20, "dashboard metrics checked: " + checked);

            try (ErrorFile errors = ErrorFile.openReadOnly(dir))
            {
                final List<ErrorFile.Entry> entries = errors.entries();
                assertEquals(1, entries.size(), ErrorFile.format(entries));
                assertEquals(3, entries.get(0).count());
                assertTrue(entries.get(0).text().contains("unlucky deposit of 13"), entries.get(0).text());
                assertTrue(entries.get(0).firstMs() <= entries.get(0).lastMs());
            }
        }

        try (CountersFile file = CountersFile.openReadOnly(dir))
        {
            final Map<String, Long> values = byName(file);
            assertEquals(205, values.get("engine/commands in"), "still readable after the node stopped");
            assertEquals(205, values.get("gateway/responses sent"));
            assertTrue(file.file().closedMs() > 0, "a clean stop is marked");
        }
    }

    @Test
    void restartKeepsThePreviousRunsErrorsAsText() throws Exception
    {
        final Path dir = tmp.resolve("restart");
        try (NodeObservability first = NodeObservability.open(dir, 4))
        {
            first.errorHandler("test").onError(new IllegalArgumentException("first run broke"));
        }
        try (NodeObservability second = NodeObservability.open(dir, 4))
        {
            try (ErrorFile errors = ErrorFile.openReadOnly(dir))
            {
                assertEquals(0, errors.entries().size(), "a new run starts with an empty log");
            }
            final List<Path> saved;
            try (var files = java.nio.file.Files.list(dir))
            {
                saved = files.filter(p -> p.getFileName().toString().startsWith("keel-errors-")).collect(
                    Collectors.toList());
            }
            assertEquals(1, saved.size(), saved.toString());
            assertTrue(java.nio.file.Files.readString(saved.get(0)).contains("first run broke"));
        }
    }

    @Test
    void metricsPortWithoutCountersFileIsRefusedNamingTheSetting()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new KeelNode.Context()
            .members(Member.parseList("0=127.0.0.1:9999:9998")).memberId(0).dir(tmp).domain(Ledger.domain())
            .countersFile(false).metricsPort(9000).conclude());
        assertTrue(ex.getMessage().contains("--metrics-port"), ex.getMessage());
    }

    @Test
    void parserRefusesWhatIsNotPrometheusText()
    {
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("keel_x 1\n"), "sample before TYPE");
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("# TYPE keel_x gauge\nkeel_x{a=b} 1\n"));
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("# TYPE keel_x gauge\nkeel_x one\n"));
        assertThrows(IllegalArgumentException.class,
            () -> PrometheusText.parse("# TYPE keel_x gauge\n# TYPE keel_x gauge\nkeel_x 1\n"));
        assertEquals(2.5, PrometheusText.parse("# TYPE keel_x gauge\nkeel_x{a=\"b\\\"c\"} 2.5\n")
            .get("keel_x{a=\"b\\\"c\"}"));
    }

    static Map<String, Long> byName(final CountersFile file)
    {
        return CountersFile.values(file.reader()).stream().collect(Collectors.toMap(
            v -> v.part() + "/" + v.name(), CountersFile.Value::value, (a, b) -> a));
    }

    static String scrape(final int port) throws Exception
    {
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        final HttpResponse<String> response = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
            response.headers().toString());
        return response.body();
    }

    static void awaitTrue(final BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.yield();
        }
    }
}
