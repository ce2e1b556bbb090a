package io.keel.cli.gateway;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.keel.cli.KeelCli;
import io.keel.engine.CommandOutcome;
import io.keel.engine.CommandRejected;
import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.KeelNode;
import io.keel.gateway.client.KeelClient;
import io.keel.journal.Journal;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalReader;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nodes in their own JVMs: restart with retried commands applied once, redirect to the primary, refusal of a
 * corrupt journal, and {@code keel bank} against a node.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RestartRedirectBankTest
{
    @TempDir
    Path tmp;

    MediaDriver driver;
    Aeron aeron;
    final List<NodeProcess> nodes = new ArrayList<>();

    @BeforeEach
    void startDriver()
    {
        driver = MediaDriver.launch(KeelNode.driverContext(tmp.resolve("client-driver").toString(), "yield"));
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
    }

    @AfterEach
    void stopAll() throws Exception
    {
        for (final NodeProcess node : nodes)
        {
            node.close();
        }
        CloseHelper.quietCloseAll(aeron, driver);
    }

    NodeProcess node(final String name, final int id, final String members, final Path dir, final String... extra)
        throws Exception
    {
        final NodeProcess node = NodeProcess.startNode(name, id, members, dir, List.of(), extra);
        nodes.add(node);
        return node;
    }

    KeelClient client(final String members)
    {
        return KeelClient.connect(new KeelClient.Context()
            .members(members)
            .clientId(5)
            .aeron(aeron)
            .commandCodecs(Ledger.domain().commands())
            .maxInFlight(256)
            .commandTimeoutNs(TimeUnit.SECONDS.toNanos(40))
            .attemptTimeoutNs(TimeUnit.MILLISECONDS.toNanos(500))
            .maxAttempts(200)
            .livenessTimeoutNs(TimeUnit.MILLISECONDS.toNanos(600))
            .connectTimeoutNs(TimeUnit.SECONDS.toNanos(20)));
    }

    /** @return command id to its number of journaled outcome frames ({@link CommandRejected}). */
    static Map<Long, Integer> rejectionsPerCommand(final Path nodeDir)
    {
        final Map<Long, Integer> counts = new HashMap<>();
        try (Journal journal = Journal.open(new JournalContext().dir(nodeDir.resolve("journal")).readOnly(true));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.poll(frame ->
            {
                if (frame.type() == CommandRejected.TYPE_ID)
                {
                    counts.merge(frame.commandId(), 1, Integer::sum);
                }
            }, 4096) > 0)
            {
                // count every outcome frame
            }
        }
        return counts;
    }

    static Map<Long, Integer> eventsPerCommand(final Path nodeDir)
    {
        final Map<Long, Integer> counts = new HashMap<>();
        try (Journal journal = Journal.open(new JournalContext().dir(nodeDir.resolve("journal")).readOnly(true));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.poll(frame ->
            {
                if (frame.type() != CommandRejected.TYPE_ID)
                {
                    counts.merge(frame.commandId(), 1, Integer::sum);
                }
            }, 4096) > 0)
            {
                // count every event frame (not the outcome frames of rejected commands)
            }
        }
        return counts;
    }

    @Test
    void clientReconnectsAfterNodeRestartAndRetriedCommandsApplyOnce() throws Exception
    {
        final int port = NodeProcess.freePort();
        final String members = "0=127.0.0.1:" + port + ":" + NodeProcess.freePort();
        final Path dir = tmp.resolve("node0");
        NodeProcess node = node("node0", 0, members, dir);
        node.awaitReady();
        final List<CompletableFuture<CommandOutcome>> futures = new ArrayList<>();
        final List<Long> ids = new ArrayList<>();
        try (KeelClient client = client(members))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, client.submit(new OpenAccount().set(77, 0))
                .get(10, TimeUnit.SECONDS));
            final int connectsBefore = client.connects();
            for (int i = 0; i < 100; i++)
            {
                final long id = client.nextCommandId();
                ids.add(id);
                futures.add(client.submit(id, new Deposit().set(77, 1), 0, -1));
            }
            node.kill(); // SIGKILL with commands in flight: some applied and unanswered, some never seen
            for (int i = 0; i < 100; i++)
            {
                final long id = client.nextCommandId();
                ids.add(id);
                futures.add(client.submit(id, new Deposit().set(77, 1), 0, -1));
            }
            node = node("node0-restarted", 0, members, dir);
            node.awaitReady();
            for (final CompletableFuture<CommandOutcome> future : futures)
            {
                assertInstanceOf(CommandOutcome.Accepted.class, future.get(40, TimeUnit.SECONDS));
            }
            assertTrue(client.connects() > connectsBefore, "the client must have reconnected");
            assertEquals(200L, client.query(77, new io.keel.examples.ledger.Account()).get(10, TimeUnit.SECONDS)
                .balance());
        }
        assertEquals(0, node.stop() & ~143);
        final Map<Long, Integer> events = eventsPerCommand(dir);
        final Map<Long, Integer> rejections = rejectionsPerCommand(dir);
        for (final long id : ids)
        {
            assertEquals(1, events.getOrDefault(id, 0), "command " + id + " must be journaled exactly once");
        }
    }

    @Test
    void clientFollowsRedirectToThePrimary() throws Exception
    {
        final int port0 = NodeProcess.freePort();
        final int port1 = NodeProcess.freePort();
        final String members = "1=127.0.0.1:" + port1 + ":" + NodeProcess.freePort() + ",0=127.0.0.1:" + port0 + ":" +
            NodeProcess.freePort();
        // a static primary (--primary): both run unreplicated; replicated pairs are tested in io.keel.cli.replication
        final NodeProcess primary = node("node0", 0, members, tmp.resolve("node0"), "--primary", "0");
        final NodeProcess follower = node("node1", 1, members, tmp.resolve("node1"), "--primary", "0");
        primary.awaitReady();
        follower.awaitReady();
        try (KeelClient client = client(members)) // tries member 1 first
        {
            assertEquals(0, client.member().id());
            assertInstanceOf(CommandOutcome.Accepted.class, client.submit(new OpenAccount().set(1, 1))
                .get(10, TimeUnit.SECONDS));
        }
        assertEquals(1, eventsPerCommandCount(tmp.resolve("node0")));
    }

    private static int eventsPerCommandCount(final Path dir) throws Exception
    {
        return eventsPerCommand(dir).values().stream().mapToInt(Integer::intValue).sum();
    }

    @Test
    void nodeRefusesAJournalCorruptedInTheMiddleNamingFileAndOffset() throws Exception
    {
        final String members = "0=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort();
        final Path dir = tmp.resolve("node0");
        final NodeProcess node = node("node0", 0, members, dir);
        node.awaitReady();
        try (KeelClient client = client(members))
        {
            for (int i = 1; i <= 20; i++)
            {
                client.submit(new OpenAccount().set(i, i)).get(10, TimeUnit.SECONDS);
            }
        }
        node.stop();
        final Path segment;
        try (Stream<Path> files = Files.list(dir.resolve("journal")))
        {
            segment = files.filter(p -> p.getFileName().toString().endsWith(".keel")).findFirst().orElseThrow();
        }
        try (RandomAccessFile file = new RandomAccessFile(segment.toFile(), "rw"))
        {
            final long offset = 64 + 40; // after the 64-byte segment header, inside the first frame, far from the tail
            file.seek(offset);
            final int b = file.read();
            file.seek(offset);
            file.write(b ^ 0xFF);
        }
        final NodeProcess restarted = node("node0-corrupt", 0, members, dir);
        assertEquals(3, restarted.awaitExit(30_000), restarted.output());
        final String refusal = restarted.awaitLine("refusing to start", 1000);
        assertTrue(refusal.contains(segment.getFileName().toString()) && refusal.contains("offset"), refusal);
    }

    @Test
    void bankWritesAHistoryThatMatchesTheJournalAndConservesMoney() throws Exception
    {
        final String members = "0=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort();
        final Path dir = tmp.resolve("node0");
        final NodeProcess node = node("node0", 0, members, dir);
        node.awaitReady();
        final Path history = tmp.resolve("history.txt");
        final int exit = KeelCli.newCommandLine().execute("bank", "--members", members, "--accounts", "8",
            "--rate", "2000", "--duration", "2s", "--history", history.toString(), "--client-id", "9",
            "--aeron-dir", driver.aeronDirectoryName());
        assertEquals(0, exit);
        assertEquals(0, node.stop() & ~143);
        final Map<Long, Integer> events = eventsPerCommand(dir);
        final Map<Long, Integer> rejections = rejectionsPerCommand(dir);
        final List<String> lines = Files.readAllLines(history);
        assertTrue(lines.size() >= 3000, "history lines " + lines.size());
        for (final String line : lines)
        {
            final String[] parts = line.split(" ");
            final long commandId = Long.parseLong(parts[0].substring(parts[0].indexOf(':') + 1));
            assertTrue(parts[0].startsWith("9:"), line);
            if ("OK".equals(parts[1]))
            {
                assertTrue(events.getOrDefault(commandId, 0) >= 1, "OK but not journaled: " + line);
                assertEquals(0, rejections.getOrDefault(commandId, 0), "OK but journaled as rejected: " + line);
            }
            else
            {
                assertEquals("REJECTED", parts[1], line);
                assertEquals(0, events.getOrDefault(commandId, 0), "rejected but its events journaled: " + line);
                assertEquals(1, rejections.getOrDefault(commandId, 0), "rejection not journaled once: " + line);
            }
        }
    }
}
