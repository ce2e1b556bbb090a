package io.keel.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Collectors;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Snapshots: a write interrupted at any step leaves the previous snapshot or the new one, never a corrupt one; a
 * corrupt newest snapshot is reported and skipped for an older one; the last K are kept.
 */
class SnapshotStoreTest
{
    private static final long SEED = Long.getLong("keel.test.seed", 0x5A9L);

    @TempDir
    Path root;

    private static final class Crash extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        Crash(final SnapshotStore.Step step)
        {
            super("simulated crash after " + step);
        }
    }

    private static byte[] state(final Random random)
    {
        final byte[] bytes = new byte[random.nextInt(5000)];
        random.nextBytes(bytes);
        return bytes;
    }

    private static byte[] bytesOf(final Snapshot snapshot)
    {
        final ByteBuffer payload = snapshot.payload();
        final byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        return bytes;
    }

    @Test
    void writeInterruptedAtEachStepLeavesThePreviousOrTheNewSnapshotNeverACorruptOne()
    {
        final Random random = new Random(SEED);
        for (final SnapshotStore.Step step : SnapshotStore.Step.values())
        {
            final Path dir = root.resolve(step.name());
            final byte[] previous = state(random);
            final byte[] next = state(random);
            SnapshotStore.open(dir, 2).write(100, ByteBuffer.wrap(previous));

            final SnapshotStore store = SnapshotStore.open(dir, 2).stepListener((s, file) ->
            {
                if (s == step)
                {
                    throw new Crash(s);
                }
            });
            assertThrows(Crash.class, () -> store.write(200, ByteBuffer.wrap(next)), step.name());

            final SnapshotStore reopened = SnapshotStore.open(dir, 2);
            final Snapshot latest = reopened.loadLatest().orElseThrow();
            assertEquals(List.of(), reopened.skipped(), step.name());
            final boolean renamed = step.ordinal() >= SnapshotStore.Step.RENAMED.ordinal();
            assertEquals(renamed ? 200 : 100, latest.logPosition(), step.name());
            assertArrayEquals(renamed ? next : previous, bytesOf(latest), step.name());
            assertEquals(renamed ? 2 : 1, reopened.list().size(), step.name());
            assertTrue(listNames(dir).stream().noneMatch(n -> n.endsWith(SnapshotStore.TEMP_SUFFIX)),
                "temp files removed on open: " + listNames(dir));
            if (!renamed)
            {
                // the same write, retried, succeeds
                reopened.write(200, ByteBuffer.wrap(next));
                assertArrayEquals(next, bytesOf(reopened.loadLatest().orElseThrow()));
            }
        }
    }

    @Test
    void corruptNewestSnapshotIsReportedAndSkippedForAnOlderOne()
    {
        final Random random = new Random(SEED + 1);
        for (int damage = 0; damage < 5; damage++)
        {
            final Path dir = root.resolve("damage" + damage);
            final SnapshotStore store = SnapshotStore.open(dir, 3);
            final byte[] older = state(random);
            final byte[] newer = state(random);
            newer[0] = 1; // at least some payload to damage
            store.write(10, ByteBuffer.wrap(older));
            final Path newest = store.write(20, ByteBuffer.wrap(newer));
            final byte[] bytes = readBytes(newest);
            switch (damage)
            {
                case 0: // bit flip in the payload
                    bytes[SnapshotStore.HEADER_LENGTH + random.nextInt(bytes.length - SnapshotStore.HEADER_LENGTH)] ^= 4;
                    writeBytes(newest, bytes);
                    break;
                case 1: // bit flip in the header
                    bytes[random.nextInt(SnapshotStore.HEADER_LENGTH)] ^= 1;
                    writeBytes(newest, bytes);
                    break;
                case 2: // truncated payload
                    writeBytes(newest, Arrays.copyOf(bytes, bytes.length - 1 - random.nextInt(bytes.length -
                        SnapshotStore.HEADER_LENGTH)));
                    break;
                case 3: // truncated inside the header
                    writeBytes(newest, Arrays.copyOf(bytes, random.nextInt(SnapshotStore.HEADER_LENGTH)));
                    break;
                default: // a valid snapshot under the wrong name
                    writeBytes(newest, readBytes(dir.resolve(SnapshotStore.fileName(10))));
                    break;
            }
            final Optional<Snapshot> loaded = store.loadLatest();
            assertTrue(loaded.isPresent(), "damage " + damage);
            assertEquals(10, loaded.get().logPosition(), "damage " + damage);
            assertArrayEquals(older, bytesOf(loaded.get()), "damage " + damage);
            assertEquals(1, store.skipped().size(), "damage " + damage + ": " + store.skipped());
            assertTrue(store.skipped().get(0).contains(newest.toString()), store.skipped().get(0));
            assertTrue(Files.exists(newest), "corrupt snapshot left in place for inspection");

            writeBytes(dir.resolve(SnapshotStore.fileName(10)), new byte[0]);
            assertEquals(Optional.empty(), store.loadLatest(), "no valid snapshot at all");
            assertEquals(2, store.skipped().size());
        }
    }

    @Test
    void retentionKeepsTheLastKSnapshots()
    {
        final Path dir = root.resolve("retain");
        final SnapshotStore store = SnapshotStore.open(dir, 3);
        for (int i = 1; i <= 7; i++)
        {
            store.write(i * 1000L, ByteBuffer.wrap(new byte[]{ (byte)i }));
            assertEquals(Math.min(i, 3), store.list().size());
        }
        assertEquals(List.of(5000L, 6000L, 7000L), store.list().stream()
            .map(p -> store.read(p).logPosition()).collect(Collectors.toList()));
        assertEquals(7000L, store.loadLatest().orElseThrow().logPosition());
        assertThrows(IllegalArgumentException.class, () -> SnapshotStore.open(dir, 0));
    }

    @Test
    void directPayloadBuffersAreWrittenWithoutBeingConsumed()
    {
        final SnapshotStore store = SnapshotStore.open(root.resolve("direct"), 1);
        final ByteBuffer direct = ByteBuffer.allocateDirect(64);
        for (int i = 0; i < 64; i++)
        {
            direct.put(i, (byte)i);
        }
        direct.position(8).limit(40);
        store.write(5, direct);
        assertEquals(8, direct.position());
        assertEquals(40, direct.limit());
        final byte[] loaded = bytesOf(store.loadLatest().orElseThrow());
        assertEquals(32, loaded.length);
        assertEquals(8, loaded[0]);
    }

    private static List<String> listNames(final Path dir)
    {
        try (var stream = Files.list(dir))
        {
            return stream.map(p -> p.getFileName().toString()).collect(Collectors.toList());
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
