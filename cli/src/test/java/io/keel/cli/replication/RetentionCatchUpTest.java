package io.keel.cli.replication;

import io.keel.cli.KeelCli;
import io.keel.examples.ledger.Ledger;
import io.keel.gateway.LoopbackPorts;
import io.keel.gateway.Member;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.Journal;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalReader;
import io.keel.journal.SnapshotStore;
import io.keel.replication.AckMode;
import io.keel.replication.ReplicatedNode;
import io.keel.replication.ReplicationContext;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Journal retention against the replication catch-up paths, with in-process {@link ReplicatedNode} pairs (engine,
 * gateway, replication, real Aeron on loopback) under {@code keel bank} load, small journal segments and frequent
 * snapshots so retention deletes segments within a second or two.
 * <ul>
 * <li>A standby that stays matched while the primary's retention deletes the segment it is being streamed from
 * (it was paused: silent past the failure timeout, then back as it was) is told to handshake again, gets the
 * primary's newest snapshot, installs it and follows; then it takes over and the bank's balance checks pass
 * against it. Two variants: the primary finds out when its reader hits the deleted segment ({@code sendFrames}),
 * or when the standby asks for a resend from before the primary's start.</li>
 * <li>A former primary whose journal has retention holds a divergent (never acknowledged) tail with every kept
 * snapshot inside it: the truncation point cannot be rebuilt from what it retains, so it restarts its log and
 * catches up; nothing acknowledged is lost and the cut tail is kept under {@code truncated/}.</li>
 * </ul>
 */
class RetentionCatchUpTest
{
    static final long AWAIT_MS = 20_000;
    static final long FAILURE_TIMEOUT_MS = 250;
    static final long SEGMENT_BYTES = 64 * 1024;
    static final int MAX_FRAME_BYTES = 24 * 1024;
    static final int MAX_BATCH_BYTES = 4 * 1024;
    static final int MAX_IN_FLIGHT_BYTES = 32 * 1024;

    @TempDir
    Path tmp;

    final ReplicatedNode[] nodes = new ReplicatedNode[2];
    List<Member> members;
    String memberList;

    CompletableFuture<Integer> bank;
    final PrintStream err = System.err;
    final ByteArrayOutputStream log = new ByteArrayOutputStream();

    /** The nodes log to stderr (slf4j-simple): keep a copy to check which path the primary took. */
    @BeforeEach
    void captureLog()
    {
        final OutputStream tee = new OutputStream()
        {
            @Override
            public void write(final int b)
            {
                err.write(b);
                synchronized (log)
                {
                    log.write(b);
                }
            }

            @Override
            public void write(final byte[] bytes, final int offset, final int length)
            {
                err.write(bytes, offset, length);
                synchronized (log)
                {
                    log.write(bytes, offset, length);
                }
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        CloseHelper.quietCloseAll(nodes);
        System.setErr(err);
        if (null != bank)
        {
            try
            {
                bank.get(30, TimeUnit.SECONDS); // a failed test's load ends (its timeout) before the next test starts
            }
            catch (final Exception ignore)
            {
                // already reported, or the failure under test
            }
        }
    }

    @Test
    void aStandbyWhoseStreamingSegmentIsDeletedByRetentionReHandshakesForTheSnapshot() throws Exception
    {
        standbyOverrunByRetention(false);
    }

    @Test
    void aStandbyAskingForAResendBeforeTheRetainedJournalReHandshakesForTheSnapshot() throws Exception
    {
        standbyOverrunByRetention(true);
    }

    /**
     * @param dropUntilInstalled after the pause the standby drops every batch until it has installed a snapshot, so
     *                           its first word to the primary is a resend request from its end (before the primary's
     *                           start) and the primary's reader never reaches the deleted segment; otherwise the
     *                           standby takes the batches in flight and the primary's reader moves on into the gap.
     */
    void standbyOverrunByRetention(final boolean dropUntilInstalled) throws Exception
    {
        members();
        final Pause pause = new Pause();
        final long[] pausedAt = { -1 };
        // the primary: SYNC, degrading to ASYNC while the standby is away (so the load and the snapshots go on)
        start(0, c -> c.engineContext().journalRetention(true).snapshotEveryEvents(50).snapshotRetainCount(3));
        await("member 0 primary", () -> nodes[0].replication().isPrimary());
        // the standby keeps its whole journal: it shows where its log restarted, and it leads afterwards
        start(1, c -> c.replicationContext().receiveFilter((position, length) ->
        {
            pause.parkWhilePaused();
            return dropUntilInstalled && nodes[1].engine().journal().startPosition() <= pausedAt[0];
        }));
        await("member 1 following", () -> nodes[1].replication().leaderId() == 0 &&
            !nodes[1].replication().isPrimary());

        final Path history = tmp.resolve("history.txt");
        bank = bank(history, 16);
        ReplicatedPairProcessTest.awaitOkLines(history, 200);

        // 1. pause the standby's duty cycle (agent, driver and gateway share its thread) inside a batch it receives
        pause.pause();
        await("the standby is paused", pause::isParked);
        final long standbyEnd = nodes[1].engine().journal().committedPosition();
        pausedAt[0] = standbyEnd;
        await("the primary's retention deletes the segments the standby is streamed from (standby end " +
            standbyEnd + ")", () -> nodes[0].engine().journal().startPosition() >
            standbyEnd + 2L * MAX_IN_FLIGHT_BYTES + SEGMENT_BYTES);
        assertTrue(nodes[0].replication().counters().standbyLosses() > 0, "the primary lost the standby");
        final long truncationsBefore = nodes[1].replication().counters().truncations();
        pause.resume();

        // 2. still matched, it is told to handshake again, installs the snapshot and follows
        await("the standby's journal restarts at an installed snapshot",
            () -> nodes[1].engine().journal().startPosition() > standbyEnd);
        final long snapshotPosition = nodes[1].engine().journal().startPosition();
        final long primaryEnd = nodes[0].engine().journal().committedPosition();
        await("the standby acks the primary's end " + primaryEnd + " again",
            () -> nodes[0].replication().ackGate().standbyAckedPosition() >= primaryEnd);
        assertEquals(truncationsBefore + 1, nodes[1].replication().counters().truncations(),
            "one install, no other truncation");
        // which path told the standby: its resend request from its own end (before the primary's start), or the
        // primary's reader running into the deleted segment after the standby took the batches in flight
        final List<Long> toldFrom = logLines().stream()
            .filter(l -> l.contains("member 0: standby 1 needs the log from "))
            .map(l -> Long.parseLong(l.replaceAll(".* needs the log from (\\d+) but .*", "$1")))
            .collect(Collectors.toList());
        assertEquals(1, toldFrom.size(), "the primary told the standby once to handshake again: " + toldFrom);
        if (dropUntilInstalled)
        {
            assertEquals(standbyEnd, toldFrom.get(0), "told at the standby's resend request from its end");
        }
        else
        {
            assertTrue(toldFrom.get(0) > standbyEnd, "told when the primary's reader passed the standby's end " +
                standbyEnd + " and reached the deleted segment: " + toldFrom.get(0));
        }
        final long bothHold = nodes[0].replication().ackGate().standbyAckedPosition();

        // 3. the caught-up standby takes over and serves the rest of the load
        nodes[0].close();
        await("member 1 promoted", () -> nodes[1].replication().isPrimary());
        final long promotedAt = nodes[1].engine().journal().committedPosition();
        // SYNC without a standby: NO_STANDBY for the degrade delay (100 ms), then it acknowledges alone
        await("member 1, promoted at " + promotedAt + " with no standby, acknowledges new commands after the " +
            "degrade delay", () -> nodes[1].replication().ackGate().releasedPosition() > promotedAt + 4096);
        assertEquals(0, bank.get(60, TimeUnit.SECONDS), "keel bank checks (conservation, history vs balances) " +
            "against the member that caught up from a snapshot");
        assertEquals(0, unknownLines(history), "every outcome known, so the bank checked balances against history");
        nodes[1].close();

        try (Journal j0 = readOnly(0); Journal j1 = readOnly(1))
        {
            assertEquals(snapshotPosition, j1.startPosition(), "the standby's journal starts at the snapshot");
            assertTrue(j0.startPosition() <= snapshotPosition, "the old primary still holds the snapshot position " +
                snapshotPosition + " (its journal starts at " + j0.startPosition() + ")");
            assertTrue(bothHold > snapshotPosition, "the standby acked past the snapshot: " + bothHold);
            assertEquals(SnapshotCatchUpProcessTest.frames(j0, snapshotPosition, bothHold),
                SnapshotCatchUpProcessTest.frames(j1, snapshotPosition, bothHold),
                "both journals hold the same frames from the snapshot position on");
        }
        assertEachCommandOnce(tmp.resolve("node-1"));
        assertNoDutyCycleErrors();
    }

    @Test
    void aFormerPrimaryWithRetentionAndADivergentTailItCannotRebuildRestartsItsLogAndKeepsTheTail() throws Exception
    {
        members();
        final boolean[] dropAll = { false };
        // member 0 keeps at most two snapshots: a tail of a few hundred commands leaves none at the common point
        final Consumer<ReplicatedNode.Context> retention = c -> c.engineContext().journalRetention(true)
            .snapshotEveryEvents(40).snapshotRetainCount(2);
        start(0, retention);
        await("member 0 primary", () -> nodes[0].replication().isPrimary());
        // member 1 keeps its whole journal, so log matching (not the snapshot) decides on member 0's tail
        start(1, c -> c.replicationContext().receiveFilter((position, length) -> dropAll[0]));
        await("member 1 following", () -> nodes[1].replication().leaderId() == 0 &&
            !nodes[1].replication().isPrimary());

        final Path history = tmp.resolve("history.txt");
        bank = bank(history, 14);
        await("member 0's retention deletes segments the standby acked",
            () -> nodes[0].engine().journal().startPosition() > 0);
        ReplicatedPairProcessTest.awaitOkLines(history, 200);

        // 1. the standby stops taking frames (it stays connected, so SYNC acknowledges nothing it lacks): member 0
        // journals a tail of unacknowledged commands, snapshotting inside it, until the bank's window is full
        dropAll[0] = true;
        final long standbyEnd = nodes[1].engine().journal().committedPosition();
        await("member 0's kept snapshots are all inside its tail after " + standbyEnd,
            () -> snapshotPositions(0).length > 0 && snapshotPositions(0)[0] > standbyEnd &&
            nodes[0].engine().journal().committedPosition() > standbyEnd + 16 * 1024);
        final int okBeforeKill = ReplicatedPairProcessTest.okLines(history);

        // 2. member 0 dies with its tail; member 1 takes over and the bank retries the unanswered commands there
        nodes[0].close();
        final long tailEnd;
        final long start0;
        final Set<String> tail = new HashSet<>();
        try (Journal j0 = readOnly(0))
        {
            tailEnd = j0.committedPosition();
            start0 = j0.startPosition();
            tail.addAll(commands(j0, standbyEnd, tailEnd));
        }
        assertTrue(start0 > 0 && start0 <= standbyEnd, "member 0's journal starts at " + start0 +
            ", after 0 and at or before the common point " + standbyEnd);
        assertTrue(snapshotPositions(0)[0] > standbyEnd, "no snapshot kept by member 0 at or before " + standbyEnd);
        assertTrue(tail.size() > 40, "member 0 holds a tail of unacknowledged commands: " + tail.size());
        dropAll[0] = false;
        await("member 1 promoted", () -> nodes[1].replication().isPrimary());

        // 3. member 0 rejoins: log matching truncates to the common point, which it cannot rebuild from: it restarts
        // its log and catches up from member 1, which then acknowledges in SYNC again
        start(0, retention);
        await("member 0 follows member 1", () -> !nodes[0].replication().isPrimary() &&
            nodes[0].replication().leaderId() == 1);
        await("member 0 cut its log", () -> nodes[0].replication().counters().truncations() > 0);
        assertTrue(logLines().stream().anyMatch(l -> l.contains("member 0: log diverges from member 1 after " +
            standbyEnd + ", which this node cannot rebuild from")), "member 0 restarted its log (not rebuildable)");
        ReplicatedPairProcessTest.awaitOkLines(history, okBeforeKill + 300);
        assertEquals(0, bank.get(60, TimeUnit.SECONDS), "keel bank checks (conservation, history vs balances)");
        assertEquals(0, unknownLines(history), "every outcome known, so the bank checked balances against history");
        final long end = nodes[1].engine().journal().committedPosition();
        await("member 0 acks member 1's end " + end,
            () -> nodes[1].replication().ackGate().standbyAckedPosition() >= end);
        nodes[1].close();
        nodes[0].close();

        ReplicatedPairProcessTest.assertAcknowledgedExactlyOnce(history, tmp.resolve("node-1"));
        try (Journal j0 = readOnly(0); Journal j1 = readOnly(1))
        {
            assertEquals(j1.committedPosition(), j0.committedPosition(), "both journals end at the same position");
            assertTrue(j0.startPosition() >= j1.startPosition(), "member 0's journal lies within member 1's");
            assertEquals(SnapshotCatchUpProcessTest.frames(j1, j0.startPosition(), j0.committedPosition()),
                SnapshotCatchUpProcessTest.frames(j0, j0.startPosition(), j0.committedPosition()),
                "member 0's journal agrees with member 1's from its start");
        }
        assertNoDutyCycleErrors();
        final Path truncated = tmp.resolve("node-0").resolve("journal").resolve("truncated");
        final long kept = sizeOf(truncated);
        assertTrue(kept >= tailEnd - standbyEnd, "the cut tail [" + standbyEnd + ", " + tailEnd + ") (" +
            (tailEnd - standbyEnd) + " bytes, " + tail.size() + " unacknowledged commands) is kept under " +
            truncated + ": " + kept + " bytes there");
    }

    // ---------------------------------------------------------------------------------------------------------

    void members()
    {
        memberList = "0=127.0.0.1:" + LoopbackPorts.freePort() + ":" + LoopbackPorts.freePort() +
            ",1=127.0.0.1:" + LoopbackPorts.freePort() + ":" + LoopbackPorts.freePort();
        members = Member.parseList(memberList);
    }

    void start(final int id, final Consumer<ReplicatedNode.Context> settings)
    {
        final ReplicatedNode.Context context = new ReplicatedNode.Context()
            .members(members)
            .memberId(id)
            .dir(tmp.resolve("node-" + id))
            .domain(Ledger.domain())
            .ack(AckMode.SYNC)
            .fsync(DurabilityPolicy.NONE)
            .idle("backoff")
            .countersFile(false);
        final ReplicationContext replication = context.replicationContext()
            .failureTimeoutMs(FAILURE_TIMEOUT_MS)
            .heartbeatIntervalMs(10)
            .degradeToAsyncAfterMs(100)
            .maxBatchBytes(MAX_BATCH_BYTES)
            .maxInFlightBytes(MAX_IN_FLIGHT_BYTES);
        settings.accept(context);
        nodes[id] = launchWithSmallSegments(context);
    }

    /** The node's journal context is built inside the node, from system properties: set them only meanwhile. */
    static synchronized ReplicatedNode launchWithSmallSegments(final ReplicatedNode.Context context)
    {
        System.setProperty(JournalContext.SEGMENT_SIZE_PROP, Long.toString(SEGMENT_BYTES));
        System.setProperty(JournalContext.MAX_FRAME_LENGTH_PROP, Integer.toString(MAX_FRAME_BYTES));
        try
        {
            return ReplicatedNode.launch(context);
        }
        finally
        {
            System.clearProperty(JournalContext.SEGMENT_SIZE_PROP);
            System.clearProperty(JournalContext.MAX_FRAME_LENGTH_PROP);
        }
    }

    CompletableFuture<Integer> bank(final Path history, final int seconds)
    {
        return CompletableFuture.supplyAsync(() -> KeelCli.newCommandLine().execute(
            "bank", "--members", memberList, "--accounts", "20", "--rate", "400", "--duration", seconds + "s",
            "--timeout", "10s", "--client-id", "1", "--history", history.toString()));
    }

    Journal readOnly(final int id)
    {
        return Journal.open(new JournalContext().dir(tmp.resolve("node-" + id).resolve("journal")).readOnly(true));
    }

    long[] snapshotPositions(final int id)
    {
        return SnapshotStore.openForReading(tmp.resolve("node-" + id).resolve("journal").resolve("snapshots"))
            .positions();
    }

    /** clientId:commandId of the commands (whole groups) in [from, to). */
    static List<String> commands(final Journal journal, final long from, final long to)
    {
        final List<String> keys = new ArrayList<>();
        try (JournalReader reader = journal.reader(from))
        {
            while (reader.position() < to && reader.poll(frame ->
            {
                if (frame.isEndOfGroup() && frame.position() < to)
                {
                    keys.add(ReplicatedPairProcessTest.key(frame.clientId(), frame.commandId()));
                }
            }, 1024) > 0)
            {
                // every frame
            }
        }
        return keys;
    }

    static void assertEachCommandOnce(final Path nodeDir)
    {
        final Map<String, Integer> groups = ReplicatedPairProcessTest.groupsPerCommand(nodeDir);
        assertTrue(groups.size() > 100, "commands in " + nodeDir + ": " + groups.size());
        assertEquals(List.of(), groups.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::getKey)
            .collect(Collectors.toList()), "commands journaled more than once in " + nodeDir);
    }

    List<String> logLines()
    {
        synchronized (log)
        {
            return List.of(log.toString(StandardCharsets.UTF_8).split("\n"));
        }
    }

    /** An exception out of a duty cycle (e.g. reading a deleted segment) is logged, not thrown: look for it. */
    void assertNoDutyCycleErrors()
    {
        assertEquals(List.of(), logLines().stream().filter(l -> l.contains("duty cycle error") ||
            l.contains("Exception")).collect(Collectors.toList()), "errors logged by the nodes");
    }

    static long unknownLines(final Path history) throws IOException
    {
        try (Stream<String> lines = Files.lines(history))
        {
            return lines.filter(l -> l.contains(" UNKNOWN")).count();
        }
    }

    static long sizeOf(final Path dir) throws IOException
    {
        if (!Files.isDirectory(dir))
        {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir))
        {
            long size = 0;
            for (final Path file : (Iterable<Path>)files.filter(Files::isRegularFile)::iterator)
            {
                size += Files.size(file);
            }
            return size;
        }
    }

    static void await(final String what, final BooleanSupplier condition)
    {
        ReplicatedPairProcessTest.await(what, AWAIT_MS, condition);
    }

    /** Holds the standby's duty cycle inside its receive filter while paused (a stalled JVM, as the node sees it). */
    static final class Pause
    {
        private volatile boolean paused;
        private volatile boolean parked;

        void pause()
        {
            paused = true;
        }

        void resume()
        {
            paused = false;
        }

        boolean isParked()
        {
            return parked;
        }

        void parkWhilePaused()
        {
            if (!paused)
            {
                return;
            }
            parked = true;
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(8); // under Aeron's 10 s timeouts
            while (paused && System.nanoTime() - deadlineNs < 0)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
            parked = false;
        }
    }
}
