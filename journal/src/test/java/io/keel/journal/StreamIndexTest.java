package io.keel.journal;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The off-heap stream index answers exactly what a plain on-heap list of entries per stream answers, across chunk
 * and block boundaries (tiny chunks), truncation and re-append, and refuses broken invariants without changing.
 */
class StreamIndexTest
{
    private static final long BASE_SEED = Long.getLong("keel.test.seed", 0x5EEDL);
    private static final int[] CHUNK_SIZES = { 64, 128, 256, 1024, 4096, StreamIndex.DEFAULT_CHUNK_SIZE_BYTES };
    private static final long MISSING_STREAM = 424242;

    /** The reference: per stream, its entries {position, timestampNs} in version order. */
    private static final class Model
    {
        final Map<Long, List<long[]>> streams = new LinkedHashMap<>();

        long version(final long streamId)
        {
            final List<long[]> entries = streams.get(streamId);
            return null == entries ? 0 : entries.size();
        }

        void add(final long streamId, final long position, final long timestampNs)
        {
            streams.computeIfAbsent(streamId, k -> new ArrayList<>()).add(new long[]{ position, timestampNs });
        }

        void truncate(final long position)
        {
            for (final List<long[]> entries : streams.values())
            {
                entries.removeIf(e -> e[0] >= position);
            }
            streams.values().removeIf(List::isEmpty);
        }
    }

    static void assertMatches(final StreamIndex index, final Model model)
    {
        assertEquals(model.streams.size(), index.streamCount(), "stream count");
        assertEquals(model.streams.values().stream().mapToLong(List::size).sum(), index.eventCount(), "event count");
        final Map<Long, Long> visited = new HashMap<>();
        index.forEachStream((id, version) -> assertNull(visited.put(id, version), "stream " + id + " visited twice"));
        final Map<Long, Long> expectedVersions = new HashMap<>();
        model.streams.forEach((id, entries) -> expectedVersions.put(id, (long)entries.size()));
        assertEquals(expectedVersions, visited, "forEachStream");

        for (final Map.Entry<Long, List<long[]>> e : model.streams.entrySet())
        {
            final long stream = e.getKey();
            final List<long[]> entries = e.getValue();
            final int size = entries.size();
            assertEquals(size, index.version(stream), "version of " + stream);
            assertEquals(-1, index.positionOf(stream, 0));
            assertEquals(-1, index.positionOf(stream, -1));
            assertEquals(-1, index.positionOf(stream, size + 1));
            assertEquals(entries.get(size - 1)[1], index.lastTimestampNs(stream), "last timestamp of " + stream);
            for (int v = 1; v <= size; v++)
            {
                assertEquals(entries.get(v - 1)[0], index.positionOf(stream, v), "position of " + stream + "@" + v);
            }
            for (final long[] entry : entries)
            {
                for (long t = entry[1] - 1; t <= entry[1] + 1; t++)
                {
                    assertEquals(expectedVersionAt(entries, t), index.versionAt(stream, t),
                        "version of " + stream + " at " + t);
                }
            }
            assertEquals(0, index.versionAt(stream, Long.MIN_VALUE));
            assertEquals(size, index.versionAt(stream, Long.MAX_VALUE));
        }
        assertEquals(0, index.version(MISSING_STREAM));
        assertEquals(-1, index.positionOf(MISSING_STREAM, 1));
        assertEquals(Long.MIN_VALUE, index.lastTimestampNs(MISSING_STREAM));
        assertEquals(0, index.versionAt(MISSING_STREAM, Long.MAX_VALUE));
    }

    private static long expectedVersionAt(final List<long[]> entries, final long timestampNs)
    {
        long version = 0;
        for (int i = 0; i < entries.size(); i++)
        {
            if (entries.get(i)[1] <= timestampNs)
            {
                version = i + 1;
            }
        }
        return version;
    }

    @Test
    void blocksTileEveryStreamWithoutGapsAndFitAQuarterChunk()
    {
        for (final int chunkSizeBytes : CHUNK_SIZES)
        {
            final StreamIndex index = new StreamIndex(chunkSizeBytes);
            assertEquals(Math.min(StreamIndex.FIRST_BLOCK_ENTRIES, Math.max(1, chunkSizeBytes / 64)),
                index.blockEntries(0), "first block, chunk " + chunkSizeBytes);
            for (int block = 0; block < 40; block++)
            {
                final long start = index.blockStart(block);
                final int entries = index.blockEntries(block);
                assertTrue((long)entries * StreamIndex.ENTRY_BYTES <= Math.max(16, chunkSizeBytes / 4));
                assertEquals(start + entries, index.blockStart(block + 1), "chunk " + chunkSizeBytes);
                assertEquals(block, index.blockOf(start));
                assertEquals(block, index.blockOf(start + entries - 1));
                if (block > 0)
                {
                    assertTrue(entries == index.blockEntries(block - 1) ||
                        entries == 2 * index.blockEntries(block - 1), "capacities double, then stay");
                }
            }
        }
        final StreamIndex index = new StreamIndex();
        assertEquals(16, index.blockEntries(0));
        assertEquals(32, index.blockEntries(1));
        assertEquals(256 * 1024, index.blockEntries(14));
        assertEquals(256 * 1024, index.blockEntries(15));
    }

    @Test
    void randomStreamsAgreeWithModelAcrossChunksBlocksAndTruncation()
    {
        for (int i = 0; i < 60; i++)
        {
            final long seed = BASE_SEED + i;
            final int chunkSizeBytes = CHUNK_SIZES[i % CHUNK_SIZES.length];
            System.out.println("StreamIndexTest seed " + seed + " chunk " + chunkSizeBytes);
            try
            {
                runRandom(new Random(seed), chunkSizeBytes);
            }
            catch (final AssertionError | RuntimeException ex)
            {
                throw new AssertionError("seed " + seed + " (-Dkeel.test.seed=" + seed + "), chunk " +
                    chunkSizeBytes + ": " + ex, ex);
            }
        }
    }

    private static void runRandom(final Random random, final int chunkSizeBytes)
    {
        final StreamIndex index = new StreamIndex(chunkSizeBytes);
        final Model model = new Model();
        final int streams = 1 + random.nextInt(20);
        final Map<Long, Long> lastTimestamps = new HashMap<>();
        long position = random.nextInt(100);
        long clockNs = 1_000_000;

        for (int phase = 0; phase < 6; phase++)
        {
            final int events = random.nextInt(phase == 0 ? 2_000 : 400);
            for (int e = 0; e < events; e++)
            {
                // skewed: a few streams get most events, so some streams grow long
                final long stream = 10 * (long)Math.min(random.nextInt(streams), random.nextInt(streams)) - 50;
                clockNs += random.nextInt(4) == 0 ? random.nextInt(1_000) : 0; // many equal timestamps
                // a stream's timestamps never go back, even if the clock did (after a truncation)
                final long timestampNs = Math.max(clockNs, lastTimestamps.getOrDefault(stream, Long.MIN_VALUE));
                index.add(stream, model.version(stream) + 1, position, timestampNs);
                model.add(stream, position, timestampNs);
                lastTimestamps.put(stream, timestampNs);
                position += 1 + random.nextInt(200);
            }
            assertMatches(index, model);

            // cut the log somewhere (possibly at 0 or past the end) and carry on appending from there
            final long to = random.nextInt(8) == 0 ? 0 : (long)(random.nextDouble() * (position + 10));
            index.truncate(to);
            model.truncate(to);
            assertMatches(index, model);
            position = Math.min(position, to);
            lastTimestamps.clear();
            model.streams.forEach((id, entries) -> lastTimestamps.put(id, entries.get(entries.size() - 1)[1]));
            clockNs -= random.nextInt(2_000); // timestamps may repeat those of the truncated events
        }
    }

    @Test
    void versionAtFindsTheLastOfEqualTimestamps()
    {
        for (final int chunkSizeBytes : CHUNK_SIZES)
        {
            final StreamIndex index = new StreamIndex(chunkSizeBytes);
            final long[] timestamps = { 10, 10, 10, 20, 20, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 40 };
            for (int i = 0; i < timestamps.length; i++)
            {
                index.add(7, i + 1, 100L * i, timestamps[i]);
            }
            assertEquals(0, index.versionAt(7, 9));
            assertEquals(3, index.versionAt(7, 10));
            assertEquals(3, index.versionAt(7, 19));
            assertEquals(5, index.versionAt(7, 20));
            assertEquals(18, index.versionAt(7, 30));
            assertEquals(18, index.versionAt(7, 39));
            assertEquals(19, index.versionAt(7, 40));
            assertEquals(19, index.versionAt(7, Long.MAX_VALUE));
        }
    }

    @Test
    void truncatedStreamsReappendIntoTheBlocksTheyOwn()
    {
        final StreamIndex index = new StreamIndex(256);
        final Model model = new Model();
        long firstRoundOffHeapBytes = 0;
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 3_000; i++)
            {
                final long stream = i % 3;
                final long position = 10_000L * round + 3 * i + 1;
                index.add(stream, model.version(stream) + 1, position, position);
                model.add(stream, position, position);
            }
            assertMatches(index, model);
            final long offHeapBytes = index.offHeapBytes();

            index.truncate(0);
            model.truncate(0);
            assertMatches(index, model);
            assertEquals(0, index.streamCount());
            assertEquals(Long.MIN_VALUE, index.lastTimestampNs(1));
            index.forEachStream((id, version) -> fail("stream " + id + " has no events left"));
            assertEquals(offHeapBytes, index.offHeapBytes(), "truncation gives no memory back");
            if (0 == round)
            {
                firstRoundOffHeapBytes = offHeapBytes;
            }
            assertEquals(firstRoundOffHeapBytes, offHeapBytes, "re-appending as many events takes no more memory");
        }
    }

    @Test
    void brokenInvariantsAreRefusedAndChangeNothing()
    {
        final StreamIndex index = new StreamIndex(64);
        final Model model = new Model();
        for (int v = 1; v <= 5; v++)
        {
            index.add(1, v, 100L * v, 1_000L * v);
            model.add(1, 100L * v, 1_000L * v);
        }
        final long offHeapBytes = index.offHeapBytes();

        assertRefused(index, model, 2, 2, 900, 9_000, "stream 2 version 2 at position 900 does not follow version 0");
        assertRefused(index, model, 3, 0, 900, 9_000, "stream 3 version 0 at position 900 does not follow version 0");
        assertRefused(index, model, 1, 5, 900, 9_000, "stream 1 version 5 at position 900 does not follow version 5");
        assertRefused(index, model, 1, 7, 900, 9_000, "stream 1 version 7 at position 900 does not follow version 5");
        assertRefused(index, model, 1, 6, 500, 9_000, "stream 1 position 500 not after 500");
        assertRefused(index, model, 1, 6, 499, 9_000, "stream 1 position 499 not after 500");
        assertRefused(index, model, 1, 6, 900, 4_999,
            "stream 1 timestamp 4999 at position 900 is before the previous event's 5000");
        assertEquals(offHeapBytes, index.offHeapBytes(), "a refused new stream takes no memory");

        index.add(1, 6, 900, 5_000); // an equal timestamp is fine
        model.add(1, 900, 5_000);
        index.add(2, 1, 901, 0);      // another stream may be behind in time
        model.add(2, 901, 0);
        assertMatches(index, model);
    }

    private static void assertRefused(
        final StreamIndex index,
        final Model model,
        final long streamId,
        final long version,
        final long position,
        final long timestampNs,
        final String message)
    {
        final IllegalStateException ex = assertThrows(IllegalStateException.class,
            () -> index.add(streamId, version, position, timestampNs));
        assertEquals(message, ex.getMessage());
        assertMatches(index, model);
    }

    @Test
    void chunkSizeMustBeAPowerOfTwoInRange()
    {
        for (final int bad : new int[]{ 0, -64, 32, 100, 3 << 20, Integer.MIN_VALUE })
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new StreamIndex(bad));
            assertTrue(ex.getMessage().contains("chunkSizeBytes"), ex.getMessage());
        }
    }
}
