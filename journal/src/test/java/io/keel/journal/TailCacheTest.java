package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The journal's tail cache: readers at the live end copy what was just written from memory, never bytes that were
 * cut or that the writer has overwritten since; anything the cache no longer holds comes from the file.
 */
class TailCacheTest
{
    private static final int PAYLOAD_LENGTH = 120;

    @TempDir
    Path dir;

    @Test
    void readerAtTheLiveEndCopiesFromMemoryNotFromTheFile() throws Exception
    {
        try (Journal journal = Journal.open(context(1 << 16)))
        {
            final long from = journal.committedPosition();
            append(journal, 0, 10);
            // damage the bytes on disk: a reader that went to the file would fail its checksum check
            scribbleOverSegment(journal, from);
            final List<Integer> seen = readSequence(journal, from);
            assertEquals(range(0, 10), seen, "served from memory, intact");
        }
    }

    @Test
    void withoutTheCacheTheSameReaderReadsTheFile() throws Exception
    {
        try (Journal journal = Journal.open(context(0)))
        {
            final long from = journal.committedPosition();
            append(journal, 0, 10);
            scribbleOverSegment(journal, from);
            assertThrows(JournalCorruptedException.class, () -> readSequence(journal, from),
                "the control case: the damaged file is what a reader without the cache sees");
        }
    }

    @Test
    void readerFurtherBehindThanTheCacheReadsTheFile() throws Exception
    {
        try (Journal journal = Journal.open(context(4096)))
        {
            final long from = journal.committedPosition();
            append(journal, 0, 200); // about 40 KiB: the cache holds the last 4 KiB only
            assertEquals(range(0, 200), readSequence(journal, from));
        }
    }

    @Test
    void truncationForgetsTheCutBytes() throws Exception
    {
        try (Journal journal = Journal.open(context(1 << 16)))
        {
            final long from = journal.committedPosition();
            append(journal, 0, 10);
            final long cut = positionAfter(journal, from, 4);
            journal.truncate(cut);
            append(journal, 1000, 6); // same positions, other bytes
            final List<Integer> expected = range(0, 4);
            expected.addAll(range(1000, 6));
            assertEquals(expected, readSequence(journal, from), "the rewritten bytes, never the cut ones");
        }
    }

    @Test
    void cacheSaysNoForBytesTheWriterLappedOrAReset() throws Exception
    {
        final TailCache cache = new TailCache(4096, 0);
        final UnsafeBuffer src = new UnsafeBuffer(new byte[8192]);
        for (int i = 0; i < 8192; i++)
        {
            src.putByte(i, (byte)i);
        }
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[4096]);
        cache.write(0, src, 0, 8192);
        assertFalse(cache.read(0, dst, 0, 100), "overwritten by positions 4096 on");
        assertFalse(cache.read(4000, dst, 0, 100), "partly overwritten");
        assertTrue(cache.read(4096, dst, 0, 4096), "the last capacity bytes are held");
        assertEquals((byte)4096, dst.getByte(0));
        assertTrue(cache.read(8000, dst, 0, 192), "a range that wraps around the end of the ring");
        for (int i = 0; i < 192; i++)
        {
            assertEquals((byte)(8000 + i), dst.getByte(i));
        }
        cache.reset(6000);
        assertFalse(cache.read(6000, dst, 0, 100), "nothing is held from before a reset");
        assertFalse(cache.read(5000, dst, 0, 100));
        cache.write(6000, src, 6000, 100);
        assertTrue(cache.read(6000, dst, 0, 100));
        assertFalse(cache.read(6000, dst, 0, 4097), "more than the capacity");
    }

    @Test
    void capacityMustBeZeroOrAPowerOfTwo()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> context(5000).conclude());
        assertTrue(ex.getMessage().contains(JournalContext.TAIL_CACHE_PROP), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> context(-1).conclude());
    }

    private JournalContext context(final int tailCacheBytes)
    {
        return JournalTestSupport.context(dir, 1 << 20, 1024, DurabilityPolicy.NONE).tailCacheBytes(tailCacheBytes);
    }

    /** Append count one-frame groups whose payload starts with seq, seq + 1, ...; flush after each. */
    private static void append(final Journal journal, final int firstSeq, final int count)
    {
        final JournalAppender appender = journal.appender();
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_LENGTH]);
        for (int i = 0; i < count; i++)
        {
            final int seq = firstSeq + i;
            for (int b = 0; b < PAYLOAD_LENGTH; b += 4)
            {
                payload.putInt(b, seq * 31 + b, ByteOrder.LITTLE_ENDIAN);
            }
            payload.putInt(0, seq, ByteOrder.LITTLE_ENDIAN);
            appender.append(1, seq, 7, seq, 0, 0, 1, payload, 0, PAYLOAD_LENGTH, true);
            appender.flush();
        }
    }

    private static List<Integer> readSequence(final Journal journal, final long from)
    {
        final List<Integer> seqs = new ArrayList<>();
        try (JournalReader reader = journal.reader(from))
        {
            while (reader.poll(frame -> seqs.add(frame.buffer().getInt(frame.payloadOffset(), ByteOrder.LITTLE_ENDIAN)),
                100) > 0)
            {
                // drain
            }
        }
        return seqs;
    }

    private static long positionAfter(final Journal journal, final long from, final int frames)
    {
        final long[] position = { from };
        try (JournalReader reader = journal.reader(from))
        {
            reader.poll(frame -> position[0] = frame.nextPosition(), frames);
        }
        return position[0];
    }

    private static void scribbleOverSegment(final Journal journal, final long from) throws Exception
    {
        final List<Path> segments = JournalTestSupport.segmentFiles(journal.dir());
        final Path segment = JournalTestSupport.segmentHolding(segments, from);
        final long offset = JournalTestSupport.fileOffsetOf(segment, from);
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE))
        {
            final ByteBuffer junk = ByteBuffer.allocate(64);
            for (int i = 0; i < 64; i++)
            {
                junk.put(i, (byte)0x5A);
            }
            channel.write(junk, offset + 80); // inside the first frame's payload
        }
    }

    private static List<Integer> range(final int first, final int count)
    {
        final List<Integer> list = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            list.add(first + i);
        }
        return list;
    }
}
