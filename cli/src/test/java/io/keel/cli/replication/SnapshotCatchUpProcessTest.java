package io.keel.cli.replication;

import io.keel.cli.KeelCli;
import io.keel.cli.gateway.NodeProcess;
import io.keel.journal.Journal;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Journal retention on a replicated pair of {@code keel node} JVMs: the primary deletes segments its snapshots
 * cover, so a standby that was down while that happened, and later one that starts empty, cannot be streamed to from
 * its own position (the primary degrades to ASYNC while the standby is away: {@code --degrade-after}). Each gets the primary's snapshot, installs it, restarts its journal there and follows; then the
 * primary is killed and the caught-up standby serves the bank, whose balance checks (conservation, history against
 * balances) pass only if the installed state was right. The journals agree frame for frame where both hold them.
 */
class SnapshotCatchUpProcessTest
{
    static final long AWAIT_MS = 60_000;
    static final long SEGMENT_BYTES = 256 * 1024;

    @TempDir
    Path tmp;

    final List<NodeProcess> all = new ArrayList<>();
    String members;

    @AfterEach
    void tearDown() throws Exception
    {
        for (final NodeProcess node : all)
        {
            node.close();
        }
    }

    @Test
    void aStandbyBehindTheRetainedJournalOrEmptyCatchesUpFromTheSnapshotAndCanTakeOver() throws Exception
    {
        members = "0=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort() +
            ",1=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort();
        final NodeProcess primary = start(0);
        primary.awaitLine("keel node 0: primary in epoch", AWAIT_MS);
        NodeProcess standby = start(1);
        standby.awaitLine("keel node 1: standby following member 0", AWAIT_MS);

        final Path history = tmp.resolve("history.txt");
        final CompletableFuture<Integer> bank = CompletableFuture.supplyAsync(() -> KeelCli.newCommandLine().execute(
            "bank", "--members", members, "--accounts", "30", "--rate", "600", "--duration", "40s",
            "--timeout", "30s", "--client-id", "1", "--history", history.toString()));
        ReplicatedPairProcessTest.awaitOkLines(history, 300);

        // 1. the standby goes down; the primary's retention passes the standby's whole log
        standby.kill();
        final long standbyEnd = lastSegmentBase(dir(1)) + SEGMENT_BYTES;
        await("the primary's retention deletes everything the standby holds",
            () -> firstSegmentBase(dir(0)) > standbyEnd);
        standby = start(1);
        standby.awaitLine("installed member 0's snapshot at", AWAIT_MS);
        standby.awaitLine("keel node 1: standby following member 0", AWAIT_MS);

        // 2. an empty standby (a new machine, or a lost disk) joins the same way. It keeps its journal (no retention
        // of its own): as the primary it serves the rest of the load alone and would otherwise delete everything
        // the old primary holds, leaving nothing to compare at the end
        standby.kill();
        deleteRecursively(dir(1));
        standby = start(1, "all");
        standby.awaitLine("installed member 0's snapshot at", AWAIT_MS);
        standby.awaitLine("keel node 1: standby following member 0", AWAIT_MS);
        final int beforeKill = ReplicatedPairProcessTest.okLines(history);
        ReplicatedPairProcessTest.awaitOkLines(history, beforeKill + 300);
        // the primary degraded to ASYNC while the standby was away: until the standby has caught up and the primary
        // is SYNC again, a kill may lose what it acknowledged (the documented async window), which is not tested here
        await("the primary is SYNC again once the standby has caught up",
            () -> primary.countLines("SYNC again") >= primary.countLines("SYNC degrades to ASYNC"));

        // 3. the standby, built from the snapshot, takes over and serves the rest of the load
        primary.kill();
        standby.awaitLine("keel node 1: primary in epoch", AWAIT_MS);
        final NodeProcess newPrimary = standby;
        assertEquals(0, bank.get(120, TimeUnit.SECONDS), () -> "keel bank checks (conservation, history vs " +
            "balances) against the member that caught up from a snapshot\n--- old primary:\n" + tail(primary, 80) +
            "\n--- new primary:\n" + tail(newPrimary, 80));
        assertEquals(0, RetentionCatchUpTest.unknownLines(history), "every outcome known, so the bank checked " +
            "balances against history (the new primary served the load)");
        assertEquals(0, standby.stop() & ~143, "the new primary exits cleanly");

        assertTrue(firstSegmentBase(dir(1)) > 0, "the standby's journal starts at the installed snapshot");
        assertFramesAgree(dir(0), dir(1));
    }

    NodeProcess start(final int id) throws IOException
    {
        return start(id, "snapshots");
    }

    NodeProcess start(final int id, final String retention) throws IOException
    {
        final NodeProcess node = NodeProcess.startNode("node" + id + "-" + all.size(), id, members, dir(id),
            List.of("-Dkeel.journal.segment.size=" + SEGMENT_BYTES, "-Dkeel.journal.max.frame.length=65536"), "--ack", "sync", "--degrade-after", "300", "--journal-retention",
            retention, "--snapshot-every", "500", "--failure-timeout", "500");
        all.add(node);
        return node;
    }

    static String tail(final NodeProcess node, final int lines)
    {
        final String[] all = node.output().split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(all, Math.max(0, all.length - lines), all.length));
    }

    Path dir(final int id)
    {
        return tmp.resolve("node" + id);
    }

    static long firstSegmentBase(final Path nodeDir)
    {
        final long[] bases = segmentBases(nodeDir);
        return bases.length == 0 ? -1 : bases[0];
    }

    static long lastSegmentBase(final Path nodeDir)
    {
        final long[] bases = segmentBases(nodeDir);
        return bases.length == 0 ? -1 : bases[bases.length - 1];
    }

    /** Base positions of a journal's segments, from their file names (segment-<base>...). */
    static long[] segmentBases(final Path nodeDir)
    {
        try (Stream<Path> files = Files.list(nodeDir.resolve("journal")))
        {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("segment-"))
                .mapToLong(n -> Long.parseLong(n.replaceAll("[^0-9]", ""))).sorted().toArray();
        }
        catch (final IOException | java.io.UncheckedIOException ex)
        {
            return new long[0];
        }
    }

    /**
     * Where both journals hold frames, they are the same frames (position, epoch, CRC, bytes), up to where the new
     * primary {@code b} began its own epoch. The killed primary {@code a} may hold a tail beyond that which never
     * reached {@code b}: never acknowledged in SYNC mode, cut off when {@code a} rejoins (it does not here).
     */
    static void assertFramesAgree(final Path a, final Path b)
    {
        try (Journal ja = Journal.open(new JournalContext().dir(a.resolve("journal")).readOnly(true));
            Journal jb = Journal.open(new JournalContext().dir(b.resolve("journal")).readOnly(true)))
        {
            final long from = Math.max(ja.startPosition(), jb.startPosition());
            final long takeover = firstPositionAfterEpoch(jb, from, ja.lastEpoch());
            assertTrue(takeover <= ja.committedPosition(), "the new primary's epoch begins at " + takeover +
                ", within the old primary's log (ends at " + ja.committedPosition() + ")");
            final long to = Math.min(takeover, Math.min(ja.committedPosition(), jb.committedPosition()));
            assertTrue(to > from, "the journals overlap: [" + from + ", " + to + ")");
            final List<String> fa = frames(ja, from, to);
            final List<String> fb = frames(jb, from, to);
            assertEquals(fa.size(), fb.size(), "frames in [" + from + ", " + to + ")");
            for (int i = 0; i < fa.size(); i++)
            {
                assertEquals(fa.get(i), fb.get(i), "frame " + i + " after " + from);
            }
        }
    }

    /** The position of the journal's first frame at or after {@code from} whose epoch is above {@code epoch}. */
    static long firstPositionAfterEpoch(final Journal journal, final long from, final long epoch)
    {
        final long[] found = {journal.committedPosition()};
        try (JournalReader reader = journal.reader(from))
        {
            while (found[0] == journal.committedPosition() && reader.poll(frame ->
            {
                if (frame.epoch() > epoch && frame.position() < found[0])
                {
                    found[0] = frame.position();
                }
            }, 1024) > 0)
            {
                // until the first frame of a later epoch
            }
        }
        return found[0];
    }

    static List<String> frames(final Journal journal, final long from, final long to)
    {
        final List<String> frames = new ArrayList<>();
        try (JournalReader reader = journal.reader(from))
        {
            while (reader.position() < to && reader.poll(frame ->
            {
                if (frame.position() < to)
                {
                    frames.add(frame.position() + "/" + frame.epoch() + "/" + frame.crc());
                }
            }, 1024) > 0)
            {
                // every frame
            }
        }
        return frames;
    }

    static void await(final String what, final BooleanSupplier condition)
    {
        ReplicatedPairProcessTest.await(what, AWAIT_MS, condition);
    }

    static void deleteRecursively(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.walk(dir))
        {
            for (final Path path : (Iterable<Path>)files.sorted((x, y) -> y.compareTo(x))::iterator)
            {
                Files.delete(path);
            }
        }
        assertTrue(!Files.exists(dir), "deleted: " + dir);
    }
}
