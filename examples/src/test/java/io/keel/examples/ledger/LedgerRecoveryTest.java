package io.keel.examples.ledger;

import io.keel.engine.Command;
import io.keel.engine.Engine;
import io.keel.journal.SnapshotStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static io.keel.examples.ledger.LedgerTestSupport.await;
import static io.keel.examples.ledger.LedgerTestSupport.balances;
import static io.keel.examples.ledger.LedgerTestSupport.context;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LedgerRecoveryTest
{
    private static final int ACCOUNTS = 200;

    @TempDir
    Path dir;

    @Test
    void snapshotPlusReplayEqualsFullReplayEqualsLiveState() throws IOException
    {
        final Map<Long, Long> live;
        final Random random = new Random(42);
        try (Engine engine = Engine.launch(context(dir)))
        {
            openAccounts(engine);
            load(engine, random, 1_000, 2_000);
            await(engine.snapshot());
            load(engine, random, 3_000, 2_000);
            live = balances(engine);
        }
        final long fromSnapshotReplayed;
        try (Engine engine = Engine.launch(context(dir)))
        {
            fromSnapshotReplayed = engine.counters().replayedEvents();
            assertEquals(live, balances(engine), "snapshot + replay");
        }
        deleteSnapshots();
        try (Engine engine = Engine.launch(context(dir)))
        {
            assertTrue(engine.counters().replayedEvents() > fromSnapshotReplayed,
                "the full replay replays more than the one after the snapshot");
            assertEquals(live, balances(engine), "full replay");
        }
    }

    @Test
    void corruptNewestSnapshotFallsBackToAnOlderOne() throws IOException
    {
        final Map<Long, Long> live;
        final Random random = new Random(7);
        try (Engine engine = Engine.launch(context(dir)))
        {
            openAccounts(engine);
            load(engine, random, 1_000, 500);
            await(engine.snapshot());
            load(engine, random, 2_000, 500);
            await(engine.snapshot());
            load(engine, random, 3_000, 500);
            live = balances(engine);
        }
        final List<Path> snapshots = SnapshotStore.open(dir.resolve("journal").resolve("snapshots"), 3).list();
        assertEquals(2, snapshots.size());
        final Path newest = snapshots.get(1);
        try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final ByteBuffer b = ByteBuffer.allocate(1);
            final long offset = channel.size() - 10;
            channel.read(b, offset);
            b.put(0, (byte)(b.get(0) ^ 0x5A)).position(0);
            channel.write(b, offset);
        }
        final long replayedWithBoth;
        try (Engine engine = Engine.launch(context(dir)))
        {
            replayedWithBoth = engine.counters().replayedEvents();
            assertEquals(live, balances(engine), "older snapshot + longer replay");
            assertTrue(replayedWithBoth > 0);
        }
        Files.delete(snapshots.get(0));
        try (Engine engine = Engine.launch(context(dir)))
        {
            assertTrue(engine.counters().replayedEvents() > replayedWithBoth, "no usable snapshot: full replay");
            assertEquals(live, balances(engine));
        }
    }

    @Test
    void snapshotsAreTakenEveryNEventsAndByTimer()
    {
        try (Engine engine = Engine.launch(context(dir).snapshotEveryEvents(300)))
        {
            openAccounts(engine);
            final Random random = new Random(1);
            for (int round = 0; round < 4; round++)
            {
                load(engine, random, 1_000 + round * 1_000, 250);
            }
            LedgerTestSupport.awaitCondition("snapshots by count", () -> engine.counters().snapshots() >= 2);
            System.out.printf("snapshot of %d accounts: %d bytes, business-thread pause last %d us, max %d us%n",
                ACCOUNTS, engine.counters().snapshotBytesLast(), engine.counters().snapshotPauseNsLast() / 1000,
                engine.counters().snapshotPauseNsMax() / 1000);
        }
        try (Engine engine = Engine.launch(context(dir).snapshotIntervalNs(1_000_000)))
        {
            final long before = engine.counters().snapshots();
            LedgerTestSupport.run(engine, 1, 999_999, new Deposit().set(1, 1));
            LedgerTestSupport.awaitCondition("snapshot by timer", () -> engine.counters().snapshots() > before);
        }
    }

    private void deleteSnapshots() throws IOException
    {
        try (Stream<Path> files = Files.list(dir.resolve("journal").resolve("snapshots")))
        {
            for (final Path file : (Iterable<Path>)files::iterator)
            {
                Files.delete(file);
            }
        }
    }

    static void openAccounts(final Engine engine)
    {
        final CompletableFuture<?>[] answers = new CompletableFuture<?>[ACCOUNTS];
        for (int i = 0; i < ACCOUNTS; i++)
        {
            answers[i] = engine.submit(1, i + 1, new OpenAccount().set(i + 1, 1_000));
        }
        await(CompletableFuture.allOf(answers));
    }

    static void load(final Engine engine, final Random random, final long firstCommandId, final int count)
    {
        final CompletableFuture<?>[] answers = new CompletableFuture<?>[count];
        for (int i = 0; i < count; i++)
        {
            final Command command;
            final long a = 1 + random.nextInt(ACCOUNTS);
            switch (random.nextInt(4))
            {
                case 0:
                    command = new Deposit().set(a, random.nextInt(100) + 1);
                    break;
                case 1:
                    command = new Withdraw().set(a, random.nextInt(300) + 1);
                    break;
                default:
                    command = new Transfer().set(a, 1 + random.nextInt(ACCOUNTS), random.nextInt(500) + 1);
                    break;
            }
            final long deadlineNs = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
            CompletableFuture<?> answer;
            while ((answer = engine.submit(2, firstCommandId + i, command)).isCompletedExceptionally())
            {
                if (System.nanoTime() > deadlineNs)
                {
                    throw new AssertionError("ring stayed full for 20 s: " + engine.failure());
                }
                Thread.onSpinWait(); // ring full: retry the same command id
            }
            answers[i] = answer;
        }
        await(CompletableFuture.allOf(answers));
    }
}
