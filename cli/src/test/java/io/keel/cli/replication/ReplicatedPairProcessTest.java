package io.keel.cli.replication;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.keel.cli.KeelCli;
import io.keel.cli.gateway.NodeProcess;
import io.keel.engine.CommandOutcome;
import io.keel.engine.Engine;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replicated pair of {@code keel node} JVMs driven by {@code keel bank}, with members killed by SIGKILL: what is
 * acknowledged survives, commands apply once, the journals end byte-identical.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ReplicatedPairProcessTest
{
    static final long CLIENT_ID = 1;
    static final long AWAIT_MS = 30_000;

    @TempDir
    Path tmp;

    String members;
    final NodeProcess[] nodes = new NodeProcess[2];
    final List<NodeProcess> all = new ArrayList<>();
    int starts;
    String ack = "sync";
    MediaDriver driver;
    Aeron aeron;

    @BeforeEach
    void setUp()
    {
        members = "0=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort() +
            ",1=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort();
        driver = MediaDriver.launch(KeelNode.driverContext(tmp.resolve("client-driver").toString(), "yield"));
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        for (final NodeProcess node : all)
        {
            node.close();
        }
        CloseHelper.quietCloseAll(aeron, driver);
    }

    // -------------------------------------------------------------------------------------------------- tests

    @Test
    void acknowledgedTransfersSurvivePrimaryKillAndOldPrimaryRejoinsByteIdentical() throws Exception
    {
        start(0);
        awaitPrimary(0);
        start(1);
        awaitFollowing(1, 0);

        // a command acknowledged by the first primary, retried after the failover: answered from the replicated
        // idempotency window, applied once
        final OpenAccount retried = new OpenAccount().set(9_001, 77);
        final io.keel.examples.ledger.Transfer rejected = new io.keel.examples.ledger.Transfer().set(9_001, 9_003, 5);
        try (KeelClient client = client(9))
        {
            assertTrue(client.submit(42, retried, 0, Engine.ANY_VERSION).get(30, TimeUnit.SECONDS)
                instanceof CommandOutcome.Accepted);
            // and a rejected one: its rejection is replicated too (a journaled outcome frame)
            assertEquals(new CommandOutcome.Rejected(Ledger.UNKNOWN_ACCOUNT, false), client.submit(43, rejected, 0,
                Engine.ANY_VERSION).get(30, TimeUnit.SECONDS));
        }

        final Path history = tmp.resolve("history.txt");
        final CompletableFuture<Integer> bank = bank(history, 8);
        awaitOkLines(history, 500);
        nodes[0].kill();
        awaitPrimary(1);
        start(0);
        awaitFollowing(0, 1);

        try (KeelClient client = client(9))
        {
            final CommandOutcome again = client.submit(42, retried, 0, Engine.ANY_VERSION).get(30, TimeUnit.SECONDS);
            assertTrue(again instanceof CommandOutcome.Accepted && again.duplicate(),
                "the retry is answered from the replicated window: " + again);
            // the new primary's window came from its follower path: the rejection is remembered, although the
            // transfer would now be accepted
            assertTrue(client.submit(44, new OpenAccount().set(9_003, 0), 0, Engine.ANY_VERSION)
                .get(30, TimeUnit.SECONDS) instanceof CommandOutcome.Accepted);
            assertEquals(new CommandOutcome.Rejected(Ledger.UNKNOWN_ACCOUNT, true), client.submit(43, rejected, 0,
                Engine.ANY_VERSION).get(30, TimeUnit.SECONDS), "the retried rejection keeps its original answer");
        }
        assertEquals(0, bank.get(120, TimeUnit.SECONDS), "keel bank checks (conservation, history vs balances)");

        stopAll();
        assertAcknowledgedExactlyOnce(history, dir(1));
        assertJournalsIdentical();
        assertEquals(1, groupsPerCommand(dir(1)).get(key(9, 42)), "command 9:42 applied once");
    }

    @Test
    void standbyKilledAndRestartedCatchesUpWhileLoadContinues() throws Exception
    {
        start(0);
        awaitPrimary(0);
        start(1);
        awaitFollowing(1, 0);
        final Path history = tmp.resolve("history.txt");
        final CompletableFuture<Integer> bank = bank(history, 6);
        awaitOkLines(history, 300);
        nodes[1].kill(); // SYNC: the primary answers NO_STANDBY until the standby is back; the bank retries
        start(1);
        awaitFollowing(1, 0);
        assertEquals(0, bank.get(120, TimeUnit.SECONDS));
        stopAll();
        assertAcknowledgedExactlyOnce(history, dir(0));
        assertJournalsIdentical();
    }

    @Test
    void repeatedFailoversBackAndForth() throws Exception
    {
        start(0);
        awaitPrimary(0);
        start(1);
        awaitFollowing(1, 0);
        final Path history = tmp.resolve("history.txt");
        final CompletableFuture<Integer> bank = bank(history, 20);
        int primary = 0;
        int okBefore = 200;
        for (int round = 0; round < 3; round++)
        {
            awaitOkLines(history, okBefore);
            final int standby = 1 - primary;
            nodes[primary].kill();
            awaitPrimary(standby);
            start(primary);
            awaitFollowing(primary, standby);
            primary = standby;
            okBefore = okLines(history) + 200;
        }
        assertEquals(0, bank.get(120, TimeUnit.SECONDS));
        stopAll();
        assertAcknowledgedExactlyOnce(history, dir(primary));
        assertJournalsIdentical();
    }

    /**
     * ASYNC: a killed primary may take acknowledged commands the standby had not received with it (the documented
     * window). Measured, not asserted: the lost count and the client-seen failover gap (last answer before the kill
     * to the first answer from the new primary) per kill. Asserted: nothing applied twice, journals identical after
     * the old primary rejoins (its divergent tail truncated, its engine rebuilt).
     */
    @Test
    void asyncPrimaryKillsMeasureLostAcknowledgementsAndFailoverGap() throws Exception
    {
        ack = "async";
        start(0);
        awaitPrimary(0);
        start(1);
        awaitFollowing(1, 0);
        final Path history = tmp.resolve("history.txt");
        final CompletableFuture<Integer> bank = bank(history, 12);
        final AckGapProbe probe = new AckGapProbe(client(9, 300)); // notices a dead node after 300 ms of silence (keep-alives every 200 ms)
        probe.start();
        int primary = 0;
        final List<Long> gapsMs = new ArrayList<>();
        for (int round = 0; round < 3; round++)
        {
            awaitBank(history, okLines(history) + 200);
            final int standby = 1 - primary;
            final long killNs = System.nanoTime();
            nodes[primary].kill();
            awaitPrimary(standby);
            gapsMs.add(probe.awaitAckAfter(killNs, standby));
            start(primary);
            awaitFollowing(primary, standby);
            primary = standby;
        }
        probe.close();
        final int bankExit = bank.get(120, TimeUnit.SECONDS); // 1 when acknowledged transfers were lost
        stopAll();
        final Map<String, Integer> groups = groupsPerCommand(dir(primary));
        final long lost;
        try (Stream<String> lines = Files.lines(history))
        {
            lost = lines.filter(l -> l.endsWith(" OK")).map(l -> l.substring(0, l.indexOf(' ')))
                .filter(k -> !groups.containsKey(k)).count();
        }
        System.out.println("ASYNC kill -9 x3: lost acknowledged commands " + lost + " (of " + okLines(history) +
            "), bank exit " + bankExit + ", client-seen failover gaps ms " + gapsMs + ", probe lost " +
            probe.lostAcknowledged(groups));
        assertEquals(List.of(), groups.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::getKey)
            .collect(Collectors.toList()), "commands applied more than once");
        assertJournalsIdentical();
    }

    /** One client sending deposits one at a time, remembering when each was acknowledged and by whom. */
    final class AckGapProbe extends Thread implements AutoCloseable
    {
        final KeelClient client;
        final AckLog acks = new AckLog();
        volatile boolean running = true;

        AckGapProbe(final KeelClient client)
        {
            super("ack-gap-probe");
            setDaemon(true);
            this.client = client;
        }

        @Override
        public void run()
        {
            try
            {
                client.submit(1, new OpenAccount().set(9_002, 0), 0, Engine.ANY_VERSION).get(60, TimeUnit.SECONDS);
                long commandId = 2;
                while (running)
                {
                    try
                    {
                        // longer than the client's command timeout (30 s): the client fails the command first
                        final CommandOutcome outcome = client.submit(commandId, new io.keel.examples.ledger.Deposit()
                            .set(9_002, 1), 0, Engine.ANY_VERSION).get(60, TimeUnit.SECONDS);
                        if (outcome instanceof CommandOutcome.Accepted)
                        {
                            acks.add(commandId, client.member());
                        }
                    }
                    catch (final java.util.concurrent.ExecutionException ex)
                    {
                        // outcome unknown: a new id next (this one may or may not be in the log)
                    }
                    catch (final java.util.concurrent.TimeoutException ex)
                    {
                        // the client did not even fail it: say so, and go on probing with a new id
                        System.out.println("ack-gap probe: command " + commandId + " neither answered nor failed " +
                            "in 60 s (" + clientState() + ")");
                    }
                    commandId++;
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
            }
            catch (final Exception ex)
            {
                if (running) // else interrupted by close()
                {
                    ex.printStackTrace();
                }
            }
        }

        String clientState()
        {
            return "client connected " + client.isConnected() + " to member " + client.member();
        }

        /** @return ms from the last acknowledgement before killNs to the new primary's first after it. */
        long awaitAckAfter(final long killNs, final int newPrimary)
        {
            return acks.gapAfter(killNs, newPrimary, AWAIT_MS, this::clientState);
        }

        long lostAcknowledged(final Map<String, Integer> groups)
        {
            return acks.lostAcknowledged(groups, 9);
        }

        @Override
        public void close() throws InterruptedException
        {
            running = false;
            interrupt(); // it may be waiting up to a minute for an answer
            join(10_000);
            client.close();
        }
    }

    // ------------------------------------------------------------------------------------------------ harness

    Path dir(final int id)
    {
        return tmp.resolve("node" + id);
    }

    void start(final int id) throws IOException
    {
        final NodeProcess node = NodeProcess.startNode("node" + id + "-" + starts++, id, members, dir(id),
            List.of(), "--ack", ack);
        nodes[id] = node;
        all.add(node);
    }

    void awaitPrimary(final int id)
    {
        nodes[id].awaitPrimary(id, AWAIT_MS); // its latest role line: a stepped-down primary printed one before
    }

    /**
     * Until the standby follows the primary and has caught up with it: before that an ASYNC standby does not promote
     * itself (its promotion would cut everything since it last had the log), so a kill must wait for it. The
     * catch-up of the epoch it follows in now: a node that lived through an earlier failover has caught-up lines of
     * earlier epochs.
     */
    void awaitFollowing(final int id, final int primary)
    {
        final long epoch = nodes[id].awaitFollowing(id, primary, nodes[primary], AWAIT_MS);
        nodes[id].awaitLine(Pattern.compile("member " + id + " caught up with member " + primary +
            " at \\d+ in epoch " + epoch + "(?!\\d)"), AWAIT_MS); // epoch 1 is not 12
    }

    void stopAll() throws InterruptedException
    {
        // the standby first: a primary stopping first would let the standby promote itself
        final int standby = nodes[0].output().lastIndexOf("primary in epoch") >
            nodes[0].output().lastIndexOf("standby following member 1") ? 1 : 0;
        assertEquals(0, nodes[standby].stop() & ~143, "standby exits cleanly (0, or 143 after SIGTERM)");
        assertEquals(0, nodes[1 - standby].stop() & ~143, "primary exits cleanly");
    }

    KeelClient client(final long clientId)
    {
        return client(clientId, 600);
    }

    KeelClient client(final long clientId, final long livenessTimeoutMs)
    {
        return KeelClient.connect(new KeelClient.Context()
            .members(members)
            .clientId(clientId)
            .aeron(aeron)
            .commandCodecs(Ledger.domain().commands())
            .commandTimeoutNs(TimeUnit.SECONDS.toNanos(30))
            .attemptTimeoutNs(TimeUnit.MILLISECONDS.toNanos(500))
            .maxAttempts(1000)
            .livenessTimeoutNs(TimeUnit.MILLISECONDS.toNanos(livenessTimeoutMs))
            .connectTimeoutNs(TimeUnit.SECONDS.toNanos(30)));
    }

    CompletableFuture<Integer> bank(final Path history, final int seconds)
    {
        return CompletableFuture.supplyAsync(() -> KeelCli.newCommandLine().execute("bank", "--members", members,
            "--accounts", "20", "--rate", "400", "--duration", seconds + "s", "--timeout", "30s",
            "--client-id", Long.toString(CLIENT_ID), "--history", history.toString()));
    }

    static int okLines(final Path history)
    {
        try
        {
            if (!Files.exists(history))
            {
                return 0;
            }
            try (Stream<String> lines = Files.lines(history))
            {
                return (int)lines.filter(l -> l.endsWith(" OK")).count();
            }
        }
        catch (final IOException | java.io.UncheckedIOException ex)
        {
            return 0; // being written
        }
    }

    /** Wait for a condition, polling every 5 ms, failing with what was awaited after the timeout. */
    static void await(final String what, final long timeoutMs, final java.util.function.BooleanSupplier condition)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("not within " + timeoutMs + " ms: " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    static void awaitOkLines(final Path history, final int count)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        while (okLines(history) < count)
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("the bank did not get " + count + " acknowledgements within " + AWAIT_MS +
                    " ms (has " + okLines(history) + ")");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** {@link #awaitOkLines}, failing with the last lines of every node started (what the bank was stuck on). */
    void awaitBank(final Path history, final int count)
    {
        try
        {
            awaitOkLines(history, count);
        }
        catch (final AssertionError ex)
        {
            final StringBuilder tails = new StringBuilder(ex.getMessage());
            for (final NodeProcess node : all)
            {
                final String[] lines = node.output().split("\n");
                tails.append("\n--- ").append(node.name()).append(":\n").append(String.join("\n",
                    Arrays.copyOfRange(lines, Math.max(0, lines.length - 40), lines.length)));
            }
            throw new AssertionError(tails.toString(), ex);
        }
    }

    static String key(final long clientId, final long commandId)
    {
        return clientId + ":" + commandId;
    }

    /** Groups (committed commands) per clientId:commandId in a node's journal. */
    static Map<String, Integer> groupsPerCommand(final Path nodeDir)
    {
        final Map<String, Integer> counts = new HashMap<>();
        try (Journal journal = Journal.open(new JournalContext().dir(nodeDir.resolve("journal")).readOnly(true));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.poll(frame ->
            {
                if (frame.isEndOfGroup())
                {
                    counts.merge(key(frame.clientId(), frame.commandId()), 1, Integer::sum);
                }
            }, 4096) > 0)
            {
                // every frame
            }
        }
        return counts;
    }

    /** Every command the bank saw acknowledged is in the journal exactly once, and no command is in it twice. */
    static void assertAcknowledgedExactlyOnce(final Path history, final Path nodeDir) throws IOException
    {
        final Map<String, Integer> groups = groupsPerCommand(nodeDir);
        final List<String> acknowledged;
        try (Stream<String> lines = Files.lines(history))
        {
            acknowledged = lines.filter(l -> l.endsWith(" OK")).map(l -> l.substring(0, l.indexOf(' ')))
                .collect(Collectors.toList());
        }
        assertTrue(acknowledged.size() > 100, "the bank got acknowledgements: " + acknowledged.size());
        final List<String> lost = acknowledged.stream().filter(k -> !groups.containsKey(k)).collect(Collectors.toList());
        assertEquals(List.of(), lost, "acknowledged commands missing from the new primary's journal");
        final List<String> twice = groups.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::getKey)
            .collect(Collectors.toList());
        assertEquals(List.of(), twice, "commands applied more than once");
    }

    /** Both journals hold the same log: same committed position, segment files equal byte for byte. */
    void assertJournalsIdentical() throws IOException
    {
        assertJournalsIdentical(dir(0), dir(1));
    }

    /** Both journals hold the same log: same committed position, segment files equal byte for byte. */
    static void assertJournalsIdentical(final Path dir0, final Path dir1) throws IOException
    {
        final long end0;
        final long end1;
        try (Journal j0 = Journal.open(new JournalContext().dir(dir0.resolve("journal")).readOnly(true));
            Journal j1 = Journal.open(new JournalContext().dir(dir1.resolve("journal")).readOnly(true)))
        {
            end0 = j0.committedPosition();
            end1 = j1.committedPosition();
        }
        assertEquals(end0, end1, "both journals end at the same position");
        final List<Path> segments0 = segments(dir0);
        final List<Path> segments1 = segments(dir1);
        assertEquals(segments0.stream().map(p -> p.getFileName().toString()).collect(Collectors.toList()),
            segments1.stream().map(p -> p.getFileName().toString()).collect(Collectors.toList()));
        for (int i = 0; i < segments0.size(); i++)
        {
            final byte[] a = Files.readAllBytes(segments0.get(i));
            final byte[] b = Files.readAllBytes(segments1.get(i));
            assertTrue(Arrays.equals(a, b), "segment " + segments0.get(i).getFileName() + " differs (" + a.length +
                " vs " + b.length + " bytes, first difference at " + Arrays.mismatch(a, b) + ")");
        }
        assertArrayEquals(new long[]{end0}, new long[]{end1});
    }

    static List<Path> segments(final Path nodeDir) throws IOException
    {
        try (Stream<Path> files = Files.list(nodeDir.resolve("journal")))
        {
            return files.filter(p -> p.getFileName().toString().startsWith("segment-")).sorted()
                .collect(Collectors.toList());
        }
    }
}
