package io.keel.journal;

import io.keel.journal.JournalTestSupport.Frame;
import io.keel.journal.JournalTestSupport.RandomWriter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.keel.journal.JournalTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Property: after any crash (a file cut at any byte, later segments lost, a garbage tail, or the files as a
 * kill -9 leaves them while a group is half written), recovery keeps every whole group that lies before the
 * damage byte for byte, exposes nothing after it, keeps the cut bytes in a side file, and the journal accepts
 * appends that survive the next reopen.
 * <p>
 * Rerun one case with {@code -Dkeel.test.seed=N -Dkeel.test.iterations=1}.
 */
class CrashRecoveryPropertyTest
{
    private static final long BASE_SEED = Long.getLong("keel.test.seed", 0x5EEDL);
    private static final int ITERATIONS = Integer.getInteger("keel.test.iterations", 200);

    @TempDir
    Path root;

    @Test
    void everyWholeGroupBeforeACrashPointSurvivesByteForByteAndNothingAfterIt()
    {
        for (int i = 0; i < ITERATIONS; i++)
        {
            final long seed = BASE_SEED + i;
            try
            {
                runOne(seed);
            }
            catch (final AssertionError | RuntimeException ex)
            {
                throw new AssertionError("crash case failed for seed " + seed + " (rerun with -Dkeel.test.seed=" +
                    seed + " -Dkeel.test.iterations=1): " + ex, ex);
            }
        }
    }

    private void runOne(final long seed)
    {
        final Random random = new Random(seed);
        final Path live = root.resolve("live-" + seed);
        final Path crashed = root.resolve("crashed-" + seed);
        final long segmentSize = 4096L * (1 + random.nextInt(4));
        final int maxFrame = 200 + random.nextInt(1800);
        final int r = random.nextInt(8);
        final DurabilityPolicy durability = r == 0 ? DurabilityPolicy.ALWAYS : r < 5 ? DurabilityPolicy.NONE :
            DurabilityPolicy.BATCH;
        final int staging = (int)align8(maxFrame) + random.nextInt(6000);
        final JournalContext ctx = context(live, segmentSize, maxFrame, durability).stagingBufferBytes(staging);
        final RandomWriter writer = new RandomWriter(random, maxFrame - FrameDescriptor.HEADER_LENGTH);
        final boolean liveCrash = random.nextInt(3) == 0;

        try (Journal journal = Journal.open(ctx))
        {
            writer.appendRandom(journal.appender(), 10 + random.nextInt(100));
            assertEquals(writer.written, readAll(journal), "frames read back equal the documented encoding");
            if (liveCrash)
            {
                // kill -9 while groups are staged and one group is half written (overflowing the staging buffer)
                final JournalAppender appender = journal.appender();
                for (int g = random.nextInt(4); g > 0; g--)
                {
                    writer.appendGroup(appender, writer.randomGroupSize());
                }
                final byte[] payload = new byte[maxFrame - FrameDescriptor.HEADER_LENGTH];
                for (int f = random.nextInt(3 * staging / maxFrame + 2); f > 0; f--)
                {
                    random.nextBytes(payload);
                    appender.append(writer.epoch, writer.timestampNs, 9, 999, 0, 0, 7, new UnsafeBuffer(payload), 0,
                        random.nextInt(payload.length + 1), false);
                }
                copyDir(live, crashed);
                appender.abortGroup();
            }
        }
        if (!liveCrash)
        {
            copyDir(live, crashed);
        }

        final String damage = damage(random, crashed, segmentSize, writer.written);
        final List<Frame> expected = wholeGroups(intactPrefix(crashed, writer.written));
        final Map<String, byte[]> before = image(crashed);
        final JournalContext crashedCtx = context(crashed, segmentSize, maxFrame, durability);

        // a read-only open (the journal tools) shows the same survivors and changes nothing on disk
        try (Journal journal = Journal.open(context(crashed, segmentSize, maxFrame, durability).readOnly(true)))
        {
            assertEquals(expected, readAll(journal), "read-only survivors after " + damage);
            assertEquals(endOf(expected, 0), journal.recoveryReport().endPosition(), damage);
        }
        catch (final JournalException ex)
        {
            // only when not one segment is readable (the first one cut inside its header)
            assertTrue(ex.getMessage().contains("holds no readable segment"), damage + ": " + ex);
            assertEquals(List.of(), expected, damage);
        }
        assertSameImage(before, image(crashed), "read-only open changed the directory after " + damage);

        final List<Frame> afterAppend = new ArrayList<>(expected);
        try (Journal journal = Journal.open(crashedCtx))
        {
            final String where = damage + ", " + journal.recoveryReport();
            assertEquals(expected, readAll(journal), "survivors after " + where);
            assertEquals(endOf(expected, 0), journal.recoveryReport().endPosition(), where);
            assertEquals(endOf(expected, 0), journal.appender().position(), where);
            assertEquals(expected.size(), journal.recoveryReport().frameCount(), where);
            assertCutBytesKept(before, image(crashed), journal.recoveryReport(), where);
            IndexAgreesWithScanTest.assertIndexMatches(journal, expected);

            writer.syncWith(journal);
            writer.written.clear();
            writer.appendRandom(journal.appender(), 1 + random.nextInt(30));
            afterAppend.addAll(writer.written);
            assertEquals(afterAppend, readAll(journal), where);
        }
        try (Journal journal = Journal.open(crashedCtx))
        {
            assertFalse(journal.recoveryReport().hadTornTail(), journal.recoveryReport().toString());
            assertEquals(afterAppend, readAll(journal), "after append and reopen, " + damage);
            IndexAgreesWithScanTest.assertIndexMatches(journal, afterAppend);
        }
        deleteDir(live);
        deleteDir(crashed);
    }

    /** Damage the crashed image and describe what was done. */
    private static String damage(final Random random, final Path dir, final long segmentSize, final List<Frame> frames)
    {
        final List<Path> segments = segmentFiles(dir);
        final int mode = random.nextInt(4); // 0 cut, 1 garbage, 2 cut + garbage, 3 nothing more
        final StringBuilder what = new StringBuilder("segments=" + segments.size());
        Path last = segments.get(segments.size() - 1);
        if (mode == 0 || mode == 2)
        {
            final int index = random.nextInt(4) == 0 ? random.nextInt(segments.size()) : segments.size() - 1;
            for (int i = index + 1; i < segments.size(); i++)
            {
                deleteDir(segments.get(i));
            }
            last = segments.get(index);
            final byte[] bytes = readBytes(last);
            final int cut = random.nextInt(bytes.length + 1);
            writeBytes(last, Arrays.copyOf(bytes, cut));
            what.append(", cut ").append(last.getFileName()).append(" at ").append(cut).append(" of ")
                .append(bytes.length).append(" (later segments deleted: ").append(segments.size() - 1 - index)
                .append(')');
        }
        if (mode == 1 || mode == 2)
        {
            final byte[] bytes = readBytes(last);
            final int room = (int)(segmentSize - bytes.length);
            if (room > 0)
            {
                final int kind = random.nextInt(3);
                byte[] garbage = new byte[1 + random.nextInt(Math.min(room, 3000))];
                if (kind == 0)
                {
                    random.nextBytes(garbage);
                }
                else if (kind == 2)
                {
                    // a torn write: a prefix of the frame that belongs here (or of any frame)
                    final long position = baseOf(last) + bytes.length - SegmentHeader.LENGTH;
                    Frame source = frames.get(random.nextInt(frames.size()));
                    for (final Frame f : frames)
                    {
                        if (f.position == position)
                        {
                            source = f;
                        }
                    }
                    garbage = Arrays.copyOf(source.bytes, Math.min(garbage.length, source.bytes.length - 1));
                }
                final byte[] damaged = Arrays.copyOf(bytes, bytes.length + garbage.length);
                System.arraycopy(garbage, 0, damaged, bytes.length, garbage.length);
                writeBytes(last, damaged);
                what.append(", garbage tail of ").append(garbage.length).append(" bytes (")
                    .append(kind == 0 ? "random" : kind == 1 ? "zeros" : "partial frame").append(") on ")
                    .append(last.getFileName());
            }
        }
        return what.toString();
    }

    /** Frames, in log order, whose bytes are all present where the log says they are, up to the first that is not. */
    private static List<Frame> intactPrefix(final Path dir, final List<Frame> frames)
    {
        final List<Path> segments = segmentFiles(dir);
        final List<Frame> intact = new ArrayList<>();
        for (final Frame frame : frames)
        {
            final Path segment = segmentHolding(segments, frame.position);
            if (null == segment)
            {
                break;
            }
            final byte[] bytes = readBytes(segment);
            final long offset = fileOffsetOf(segment, frame.position);
            if (offset + frame.bytes.length > bytes.length ||
                !Arrays.equals(frame.bytes, Arrays.copyOfRange(bytes, (int)offset, (int)offset + frame.bytes.length)))
            {
                break;
            }
            intact.add(frame);
        }
        return intact;
    }

    /**
     * Every segment file is either unchanged, cut with the removed bytes in torn/NAME.OFFSET, or moved whole to
     * torn/NAME.
     */
    static void assertCutBytesKept(final Map<String, byte[]> before, final Map<String, byte[]> after,
        final RecoveryReport report, final String where)
    {
        long removedFrameBytes = 0;
        for (final Map.Entry<String, byte[]> e : before.entrySet())
        {
            final String name = e.getKey();
            if (!SegmentHeader.isSegmentFileName(name))
            {
                continue;
            }
            final byte[] original = e.getValue();
            final byte[] whole = after.get(Journal.TORN_DIR + "/" + name);
            if (null != whole && Arrays.equals(original, whole))
            {
                removedFrameBytes += Math.max(0, original.length - SegmentHeader.LENGTH);
                continue;
            }
            final byte[] kept = after.get(name);
            assertNotNull(kept, name + " vanished without a copy under torn/; " + where);
            assertTrue(kept.length <= original.length, name + " grew on recovery; " + where);
            assertArrayEquals(Arrays.copyOf(original, kept.length), kept, name + " is not a prefix; " + where);
            if (kept.length < original.length)
            {
                final byte[] side = after.get(Journal.TORN_DIR + "/" + name + "." + kept.length);
                assertNotNull(side, "no side file for the bytes cut from " + name + " at " + kept.length + "; " +
                    where + "; files: " + after.keySet());
                assertArrayEquals(Arrays.copyOfRange(original, kept.length, original.length), side,
                    "side file content of " + name + "; " + where);
                removedFrameBytes += original.length - Math.max(kept.length, SegmentHeader.LENGTH);
            }
        }
        if (removedFrameBytes > 0)
        {
            assertTrue(report.hadTornTail(), "torn tail reported; " + where);
            assertNotNull(report.tornFile(), where);
            assertTrue(Files.exists(report.sideFiles().get(0)), where);
        }
    }
}
