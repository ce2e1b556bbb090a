package io.keel.replication;

import io.keel.gateway.DriverDirectories;
import io.keel.gateway.LoopbackPorts;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.Journal;
import io.keel.journal.JournalAppender;
import io.keel.journal.JournalContext;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Test support: one member in this JVM (journal + replication node with its own embedded media driver) and a
 * little writer that appends command-like groups while the member is primary.
 */
final class TestNode implements AutoCloseable
{
    static final long SEGMENT_BYTES = 256 * 1024;

    final Path dir;
    final int id;
    final List<Member> members;
    final Consumer<ReplicationContext> customizer;
    final String aeronDir;
    Journal journal;
    ReplicationNode node;
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[2048]);
    private long commands;

    private TestNode(final Path dir, final int id, final List<Member> members,
        final Consumer<ReplicationContext> customizer)
    {
        this.dir = dir;
        this.id = id;
        this.members = members;
        this.customizer = customizer;
        this.aeronDir = DriverDirectories.fresh("test-" + id);
    }

    /**
     * Two members on fresh loopback ports, checked free and outside the ephemeral range ({@link LoopbackPorts}): ports
     * counted up from a number derived from the pid were never checked and overlapped the range other tests and a
     * second test run on the same machine pick from.
     */
    static List<Member> members()
    {
        final int[] ports = LoopbackPorts.freePorts(4);
        return Member.parse("0=127.0.0.1:" + ports[0] + ":" + ports[1] + ",1=127.0.0.1:" + ports[2] + ":" + ports[3]);
    }

    static TestNode start(final Path root, final int id, final List<Member> members,
        final Consumer<ReplicationContext> customizer)
    {
        final TestNode node = new TestNode(root.resolve("node-" + id), id, members, customizer);
        node.start();
        return node;
    }

    static JournalContext journalContext(final Path dir)
    {
        return new JournalContext().dir(dir).segmentSizeBytes(SEGMENT_BYTES).maxFrameLengthBytes(4096)
            .stagingBufferBytes(64 * 1024).readBufferBytes(64 * 1024).durability(DurabilityPolicy.BATCH);
    }

    void start()
    {
        journal = Journal.open(journalContext(dir.resolve("journal")));
        final ReplicationContext ctx = new ReplicationContext()
            .nodeId(id)
            .members(members)
            .journal(journal)
            .stateDir(dir)
            .aeronDirectoryName(aeronDir)
            .idle("backoff")
            .termLengthBytes(1024 * 1024)
            // two members, two drivers and a writer share 2 cores here: tests that are not about failure
            // detection must not see a stalled JVM as a dead peer (the kill -9 test uses the default)
            .failureTimeoutMs(250);
        customizer.accept(ctx);
        node = ReplicationNode.launch(ctx);
    }

    /** Stop the node and close the journal (a clean stop; crashes are tested with child processes). */
    void stop()
    {
        if (null != node)
        {
            node.close();
            node = null;
        }
        if (null != journal)
        {
            journal.close();
            journal = null;
        }
    }

    void restart()
    {
        stop();
        start();
    }

    @Override
    public void close()
    {
        stop();
    }

    /**
     * Append command-like groups (1..3 frames, a few streams, varied payloads) as primary, flushing every few.
     *
     * @return the committed position after the last group.
     */
    long appendGroups(final int count)
    {
        assertEquals(Role.PRIMARY, node.role(), "member " + id + " must be primary to append");
        final JournalAppender appender = journal.appender();
        final long epoch = node.epoch();
        for (int i = 0; i < count; i++)
        {
            final long command = ++commands;
            final int frames = 1 + (int)(command % 3);
            for (int f = 0; f < frames; f++)
            {
                final int length = 8 + (int)((command * 31 + f * 7) % 600);
                payload.putLong(0, command);
                appender.append(epoch, System.currentTimeMillis() * 1_000_000L, 100 + id, command,
                    0, 0, 1 + f, payload, 0, length, f == frames - 1);
            }
            if (i % 4 == 3)
            {
                appender.flush();
            }
        }
        return appender.flush();
    }

    /** A stopped member's directory, for comparing its files. */
    static TestNode view(final Path dir)
    {
        return new TestNode(dir, -1, List.of(), ctx -> {});
    }

    /** Files of the journal, sorted. */
    List<Path> segmentFiles() throws IOException
    {
        try (Stream<Path> files = Files.list(dir.resolve("journal")))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(".keel")).sorted()
                .collect(Collectors.toList());
        }
    }

    static void await(final String what, final long timeoutMs, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                fail("timed out after " + timeoutMs + " ms waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /**
     * Both journals hold byte-identical segment files up to the shorter one's end: same names, and every file
     * identical except the last of the shorter journal, which is a prefix of its counterpart.
     *
     * @return bytes compared.
     */
    static long assertJournalsIdentical(final TestNode a, final TestNode b, final boolean sameLength)
        throws IOException
    {
        final List<Path> as = a.segmentFiles();
        final List<Path> bs = b.segmentFiles();
        final int n = Math.min(as.size(), bs.size());
        long compared = 0;
        for (int i = 0; i < n; i++)
        {
            assertEquals(as.get(i).getFileName(), bs.get(i).getFileName());
            final byte[] x = Files.readAllBytes(as.get(i));
            final byte[] y = Files.readAllBytes(bs.get(i));
            final int common = Math.min(x.length, y.length);
            if (sameLength || i < n - 1)
            {
                assertEquals(x.length, y.length, "length of " + as.get(i).getFileName());
            }
            for (int k = 0; k < common; k++)
            {
                if (x[k] != y[k])
                {
                    fail(as.get(i).getFileName() + " differs at file offset " + k);
                }
            }
            compared += common;
        }
        if (sameLength)
        {
            assertEquals(as.size(), bs.size(), "segment count");
        }
        assertTrue(compared > 0);
        return compared;
    }

    static List<String> names(final List<Path> files)
    {
        final List<String> names = new ArrayList<>();
        files.forEach(f -> names.add(f.getFileName().toString()));
        return names;
    }
}
