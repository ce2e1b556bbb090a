package io.keel.journal;

import io.keel.journal.JournalTestSupport.Frame;
import io.keel.journal.JournalTestSupport.RandomWriter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A damaged frame with valid data after it is corruption, not a torn tail: the journal refuses to open, names the
 * damaged frame's file and offset, and changes nothing on disk.
 */
class CorruptionRefusedTest
{
    private static final long BASE_SEED = Long.getLong("keel.test.seed", 0xB17L);

    @TempDir
    Path root;

    @Test
    void bitFlipInAnyFrameFollowedByValidFramesIsRefusedNamingFileAndOffsetAndChangesNothing()
    {
        for (int i = 0; i < 150; i++)
        {
            final long seed = BASE_SEED + i;
            final Random random = new Random(seed);
            final Path dir = root.resolve("j" + seed);
            final long segmentSize = 4096L * (1 + random.nextInt(4));
            final JournalContext ctx = context(dir, segmentSize, 1500, DurabilityPolicy.NONE);
            final RandomWriter writer = new RandomWriter(random, 1400);
            try (Journal journal = Journal.open(ctx))
            {
                writer.appendRandom(journal.appender(), 5 + random.nextInt(80));
            }
            final List<Frame> frames = writer.written;
            final Frame victim = frames.get(random.nextInt(frames.size() - 1)); // never the very last frame
            final Path segment = segmentHolding(segmentFiles(dir), victim.position);
            final long frameOffset = fileOffsetOf(segment, victim.position);
            final int byteInFrame = random.nextInt(victim.frameLength());
            final byte[] bytes = readBytes(segment);
            bytes[(int)frameOffset + byteInFrame] ^= (byte)(1 << random.nextInt(8));
            writeBytes(segment, bytes);
            final String what = "seed " + seed + ": flipped byte " + byteInFrame + " of frame at " + victim.position +
                " (" + segment.getFileName() + " offset " + frameOffset + ")";

            final Map<String, byte[]> before = image(dir);
            for (final boolean readOnly : new boolean[]{ false, true })
            {
                final JournalCorruptedException ex = assertThrows(JournalCorruptedException.class,
                    () -> Journal.open(context(dir, segmentSize, 1500, DurabilityPolicy.NONE).readOnly(readOnly))
                        .close(), what);
                assertEquals(segment, ex.file(), what + ": " + ex.getMessage());
                assertEquals(frameOffset, ex.fileOffset(), what + ": " + ex.getMessage());
                assertTrue(ex.getMessage().contains(segment.toString()) &&
                    ex.getMessage().contains("offset " + frameOffset) && ex.getMessage().contains("journal verify"),
                    ex.getMessage());
                assertSameImage(before, image(dir), what + ": refused open changed the directory");
            }
        }
    }

    @Test
    void damagedLastFrameOfASegmentIsRefusedWhenTheNextSegmentHoldsExactlyOneValidFrame()
    {
        // 3 frames of 1072 bytes fill a 4096-byte segment; the 4th goes alone into the second segment
        final Path dir = root.resolve("one");
        final JournalContext ctx = context(dir, 4096, 1500, DurabilityPolicy.NONE);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[1000]);
        try (Journal journal = Journal.open(ctx))
        {
            for (int i = 0; i < 4; i++)
            {
                journal.appender().append(1, 10 + i, 1, i, 0, 0, 1, payload, 0, 1000, true);
            }
            assertEquals(2, journal.segmentCount());
        }
        final Path first = segmentFiles(dir).get(0);
        final long offset = SegmentHeader.LENGTH + 2 * 1072;
        final byte[] bytes = readBytes(first);
        bytes[(int)offset + 100] ^= 0x10;
        writeBytes(first, bytes);
        final Map<String, byte[]> before = image(dir);

        final JournalCorruptedException ex = assertThrows(JournalCorruptedException.class,
            () -> Journal.open(context(dir, 4096, 1500, DurabilityPolicy.NONE)).close());
        assertEquals(first, ex.file(), ex.getMessage());
        assertEquals(offset, ex.fileOffset(), ex.getMessage());
        assertSameImage(before, image(dir), "refused open changed the directory");
    }

    /**
     * A frame whose checksum is fine but which breaks an invariant (epoch going backwards, stream version not
     * previous + 1) was written by something other than this journal: refused, naming the frame.
     */
    @Test
    void frameWithAValidChecksumThatBreaksAnInvariantIsRefused()
    {
        for (final String broken : new String[]{ "epoch", "version" })
        {
            final Path dir = root.resolve(broken);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[100]);
            try (Journal journal = Journal.open(context(dir, 4096, 1500, DurabilityPolicy.NONE)))
            {
                for (int i = 0; i < 10; i++)
                {
                    journal.appender().append(3, 10 + i, 1, i, 42, i + 1, 1, payload, 0, 100, true);
                }
            }
            final Path segment = segmentFiles(dir).get(0);
            final int frame = 4; // rewrite the 5th frame with a consistent checksum
            final long position = frame * align8(FrameDescriptor.HEADER_LENGTH + 100);
            final byte[] rewritten = encode(position, "epoch".equals(broken) ? 2 : 3, 10 + frame, 1, frame, 42,
                "version".equals(broken) ? frame + 2 : frame + 1, 1, true, new byte[100]);
            final byte[] bytes = readBytes(segment);
            System.arraycopy(rewritten, 0, bytes, (int)fileOffsetOf(segment, position), rewritten.length);
            writeBytes(segment, bytes);
            final JournalCorruptedException ex = assertThrows(JournalCorruptedException.class,
                () -> Journal.open(context(dir, 4096, 1500, DurabilityPolicy.NONE)).close(), broken);
            assertEquals(segment, ex.file());
            assertEquals(fileOffsetOf(segment, position), ex.fileOffset(), ex.getMessage());
            assertTrue(ex.getMessage().contains(broken), ex.getMessage());
        }
    }

    @Test
    void damagedFrameInALaterSegmentIsRefusedToo()
    {
        final Path dir = root.resolve("later");
        final JournalContext ctx = context(dir, 4096, 1500, DurabilityPolicy.NONE);
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[500]);
        try (Journal journal = Journal.open(ctx))
        {
            for (int i = 0; i < 30; i++)
            {
                journal.appender().append(1, 10 + i, 1, i, 0, 0, 1, payload, 0, 500, true);
            }
            assertTrue(journal.segmentCount() >= 4);
        }
        final Path third = segmentFiles(dir).get(2);
        final byte[] bytes = readBytes(third);
        bytes[SegmentHeader.LENGTH] ^= 0x01; // the length field of its first frame
        writeBytes(third, bytes);
        final JournalCorruptedException ex = assertThrows(JournalCorruptedException.class,
            () -> Journal.open(context(dir, 4096, 1500, DurabilityPolicy.NONE)).close());
        assertEquals(third, ex.file());
        assertEquals(SegmentHeader.LENGTH, ex.fileOffset());
    }
}
