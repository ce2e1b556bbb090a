package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A reader on another thread tails the live end while the writer appends groups, flushes and rolls segments: it
 * sees every frame exactly once, in order, intact, and never part of a group. With a tail cache too (reads from
 * memory): a 4 KiB one is overwritten every few groups, so the reader often copies bytes the writer is replacing and
 * must notice it and read the file instead.
 */
class ReaderTailsWriterTest
{
    private static final long SEED = Long.getLong("keel.test.seed", 0x7A11L);
    private static final int FRAMES = 20_000;
    private static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(60);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "tail cache {0} bytes")
    @ValueSource(ints = { 0, 4096, 1 << 20 })
    void tailingReaderSeesEveryFrameOnceInOrderAndOnlyWholeGroupsAcrossRolls(final int tailCacheBytes) throws Exception
    {
        final JournalContext ctx = JournalTestSupport.context(dir, 16384, 700, DurabilityPolicy.NONE)
            .stagingBufferBytes(3000).tailCacheBytes(tailCacheBytes);
        try (Journal journal = Journal.open(ctx))
        {
            final AtomicReference<Throwable> writerError = new AtomicReference<>();
            final AtomicLong writtenFrames = new AtomicLong(-1);
            final Thread writer = new Thread(() ->
            {
                try
                {
                    writerError.set(null);
                    final Random random = new Random(SEED);
                    final JournalAppender appender = journal.appender();
                    final UnsafeBuffer payload = new UnsafeBuffer(new byte[600]);
                    int seq = 0;
                    long command = 0;
                    while (seq < FRAMES)
                    {
                        final int groupSize = 1 + random.nextInt(random.nextInt(8) == 0 ? 12 : 3);
                        command++;
                        for (int i = 0; i < groupSize; i++, seq++)
                        {
                            final int length = 8 + random.nextInt(592);
                            for (int b = 0; b < length; b += 4)
                            {
                                payload.putInt(b, seq * 31 + b, ByteOrder.LITTLE_ENDIAN);
                            }
                            payload.putInt(0, seq, ByteOrder.LITTLE_ENDIAN);
                            payload.putInt(4, groupSize - 1 - i, ByteOrder.LITTLE_ENDIAN); // frames left in group
                            appender.append(1, seq, 1, command, 0, 0, 1, payload, 0, length, i == groupSize - 1);
                        }
                        if (random.nextInt(3) == 0)
                        {
                            appender.flush();
                        }
                    }
                    appender.flush();
                    writtenFrames.set(seq);
                }
                catch (final Throwable t)
                {
                    writerError.set(t);
                    writtenFrames.set(-2);
                }
            }, "writer");

            final long[] state = new long[4]; // next seq, next position, last frame was end of group, polls
            final long start = journal.startPosition();
            state[1] = start;
            final long deadline = System.nanoTime() + DEADLINE_NS;
            try (JournalReader reader = journal.reader(start))
            {
                writer.start();
                while (true)
                {
                    final int count = reader.poll(frame ->
                    {
                        final int seq = frame.buffer().getInt(frame.payloadOffset(), ByteOrder.LITTLE_ENDIAN);
                        assertEquals(state[0], seq, "frames in order, exactly once");
                        assertEquals(state[1], frame.position(), "positions contiguous");
                        final int left = frame.buffer().getInt(frame.payloadOffset() + 4, ByteOrder.LITTLE_ENDIAN);
                        assertEquals(left == 0, frame.isEndOfGroup(), "group end flag at seq " + seq);
                        for (int b = 8; b + 4 <= frame.payloadLength(); b += 4)
                        {
                            assertEquals(seq * 31 + b, frame.buffer().getInt(frame.payloadOffset() + b,
                                ByteOrder.LITTLE_ENDIAN), "payload of seq " + seq);
                        }
                        state[0]++;
                        state[1] = frame.nextPosition();
                        state[2] = frame.isEndOfGroup() ? 1 : 0;
                    }, Integer.MAX_VALUE);
                    if (count > 0)
                    {
                        state[3]++;
                        assertEquals(1, state[2], "a poll that drained to the committed position ended mid-group " +
                            "at seq " + state[0]);
                    }
                    final long written = writtenFrames.get();
                    if (written == -2)
                    {
                        fail("writer failed", writerError.get());
                    }
                    if (written >= 0 && state[0] == written && count == 0)
                    {
                        break;
                    }
                    assertTrue(System.nanoTime() < deadline, "reader did not catch up within the deadline: seq " +
                        state[0] + ", written " + written);
                    if (count == 0)
                    {
                        Thread.onSpinWait();
                    }
                }
            }
            writer.join(TimeUnit.NANOSECONDS.toMillis(Math.max(1, deadline - System.nanoTime())));
            assertFalse(writer.isAlive());
            assertEquals(writtenFrames.get(), state[0]);
            assertTrue(state[0] >= FRAMES);
            assertEquals(journal.committedPosition(), state[1]);
            assertTrue(journal.segmentCount() > 20, "rolled: " + journal.segmentCount());
            assertTrue(state[3] > 10, "reader overlapped the writer: " + state[3] + " polls with frames");
        }
    }
}
