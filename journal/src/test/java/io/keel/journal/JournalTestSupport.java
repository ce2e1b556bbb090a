package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Test helpers: an independent frame encoder (so tests compare against the documented layout, not against the
 * code under test), a random group writer that remembers what it wrote, full scans and directory images.
 */
final class JournalTestSupport
{
    private JournalTestSupport()
    {
    }

    /** One frame as raw bytes (header + payload, unaligned) at a log position. */
    static final class Frame
    {
        final long position;
        final byte[] bytes;

        Frame(final long position, final byte[] bytes)
        {
            this.position = position;
            this.bytes = bytes;
        }

        private ByteBuffer le()
        {
            return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        int frameLength()
        {
            return bytes.length;
        }

        long nextPosition()
        {
            return position + align8(bytes.length);
        }

        long epoch()
        {
            return le().getLong(FrameDescriptor.EPOCH_OFFSET);
        }

        long timestampNs()
        {
            return le().getLong(FrameDescriptor.TIMESTAMP_OFFSET);
        }

        long streamId()
        {
            return le().getLong(FrameDescriptor.STREAM_ID_OFFSET);
        }

        long streamVersion()
        {
            return le().getLong(FrameDescriptor.STREAM_VERSION_OFFSET);
        }

        boolean endOfGroup()
        {
            return (le().getShort(FrameDescriptor.FLAGS_OFFSET) & FrameDescriptor.FLAG_END_OF_GROUP) != 0;
        }

        @Override
        public boolean equals(final Object o)
        {
            return o instanceof Frame && ((Frame)o).position == position && Arrays.equals(((Frame)o).bytes, bytes);
        }

        @Override
        public int hashCode()
        {
            return Long.hashCode(position) * 31 + Arrays.hashCode(bytes);
        }

        @Override
        public String toString()
        {
            return "Frame{pos=" + position + ", len=" + bytes.length + ", eog=" + endOfGroup() + "}";
        }
    }

    static long align8(final long length)
    {
        return (length + 7) & ~7L;
    }

    /** Encode a frame exactly as FrameDescriptor documents it, CRC32C over [8, length). */
    static byte[] encode(
        final long position, final long epoch, final long timestampNs, final long clientId, final long commandId,
        final long streamId, final long version, final int type, final boolean endOfGroup, final byte[] payload)
    {
        final int length = FrameDescriptor.HEADER_LENGTH + payload.length;
        final ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, length);
        b.putLong(8, position);
        b.putLong(16, epoch);
        b.putLong(24, timestampNs);
        b.putLong(32, clientId);
        b.putLong(40, commandId);
        b.putLong(48, streamId);
        b.putLong(56, version);
        b.putInt(64, type);
        b.putShort(68, endOfGroup ? (short)1 : 0);
        b.putShort(70, (short)0);
        b.position(72);
        b.put(payload);
        final CRC32C crc = new CRC32C();
        crc.update(b.array(), 8, length - 8);
        b.putInt(4, (int)crc.getValue());
        return b.array();
    }

    static JournalContext context(final Path dir, final long segmentSizeBytes, final int maxFrameLengthBytes,
        final DurabilityPolicy durability)
    {
        final int buffer = (int)align8(maxFrameLengthBytes) * 2;
        return new JournalContext().dir(dir).segmentSizeBytes(segmentSizeBytes).maxFrameLengthBytes(maxFrameLengthBytes)
            .stagingBufferBytes(buffer).readBufferBytes(buffer).durability(durability);
    }

    /** Every frame the journal exposes, from its start, as raw bytes. */
    static List<Frame> readAll(final Journal journal)
    {
        return readFrom(journal, journal.startPosition());
    }

    static List<Frame> readFrom(final Journal journal, final long position)
    {
        final List<Frame> frames = new ArrayList<>();
        try (JournalReader reader = journal.reader(position))
        {
            while (reader.poll(frame ->
            {
                final byte[] bytes = new byte[frame.frameLength()];
                frame.buffer().getBytes(frame.offset(), bytes);
                assertEquals(frame.position(), reader.position() - align8(bytes.length), "reader position");
                frames.add(new Frame(frame.position(), bytes));
            }, 1000) > 0)
            {
                // drain
            }
        }
        return frames;
    }

    /** The longest prefix of frames made of whole groups. */
    static List<Frame> wholeGroups(final List<Frame> frames)
    {
        int end = 0;
        for (int i = 0; i < frames.size(); i++)
        {
            if (frames.get(i).endOfGroup())
            {
                end = i + 1;
            }
        }
        return new ArrayList<>(frames.subList(0, end));
    }

    static long endOf(final List<Frame> frames, final long start)
    {
        return frames.isEmpty() ? start : frames.get(frames.size() - 1).nextPosition();
    }

    /** Writes random groups and remembers each frame as the documented encoding says it must look. */
    static final class RandomWriter
    {
        final Random random;
        final int maxPayload;
        final List<Frame> written = new ArrayList<>();
        final Map<Long, Long> versions = new HashMap<>();
        long epoch = 1;
        long timestampNs = 1_000_000;
        long commandId = 1;
        int streams = 6;

        RandomWriter(final Random random, final int maxPayload)
        {
            this.random = random;
            this.maxPayload = maxPayload;
        }

        /** Forget stream versions and take them from the journal's index (after a reopen or truncation). */
        void syncWith(final Journal journal)
        {
            versions.clear();
            journal.streamIndex().forEachStream(versions::put);
            epoch = Math.max(epoch, journal.lastEpoch());
        }

        int payloadLength()
        {
            final int r = random.nextInt(10);
            if (r < 4)
            {
                return random.nextInt(33);
            }
            if (r < 8)
            {
                return random.nextInt(Math.min(257, maxPayload + 1));
            }
            return random.nextInt(maxPayload + 1);
        }

        /** Append one group of the given size and return the frames written (not yet flushed). */
        List<Frame> appendGroup(final JournalAppender appender, final int frames)
        {
            if (random.nextInt(20) == 0)
            {
                epoch++;
            }
            final List<Frame> group = new ArrayList<>();
            final long clientId = 1 + random.nextInt(3);
            final long command = commandId++;
            for (int i = 0; i < frames; i++)
            {
                final long stream = random.nextInt(streams + 1); // 0 = NO_STREAM
                final long version = stream == 0 ? 0 : versions.getOrDefault(stream, 0L) + 1;
                final byte[] payload = new byte[payloadLength()];
                random.nextBytes(payload);
                final int type = 1 + random.nextInt(5);
                final boolean end = i == frames - 1;
                timestampNs += random.nextInt(1000);
                final long position = appender.append(epoch, timestampNs, clientId, command, stream, version, type,
                    new UnsafeBuffer(payload), 0, payload.length, end);
                if (stream != 0)
                {
                    versions.put(stream, version);
                }
                group.add(new Frame(position, encode(position, epoch, timestampNs, clientId, command, stream,
                    version, type, end, payload)));
            }
            written.addAll(group);
            return group;
        }

        int randomGroupSize()
        {
            final int r = random.nextInt(10);
            return r < 6 ? 1 : r < 9 ? 2 + random.nextInt(3) : 5 + random.nextInt(8);
        }

        /** Append random groups, flushing at random points, then flush. */
        void appendRandom(final JournalAppender appender, final int groups)
        {
            for (int g = 0; g < groups; g++)
            {
                appendGroup(appender, randomGroupSize());
                if (random.nextInt(4) == 0)
                {
                    appender.flush();
                }
            }
            appender.flush();
        }
    }

    /** Relative path to content of every regular file under dir. */
    static TreeMap<String, byte[]> image(final Path dir)
    {
        final TreeMap<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir))
        {
            for (final Path p : (Iterable<Path>)walk::iterator)
            {
                if (Files.isRegularFile(p))
                {
                    files.put(dir.relativize(p).toString(), Files.readAllBytes(p));
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return files;
    }

    static void assertSameImage(final Map<String, byte[]> expected, final Map<String, byte[]> actual, final String msg)
    {
        assertEquals(expected.keySet(), actual.keySet(), msg + ": files");
        for (final Map.Entry<String, byte[]> e : expected.entrySet())
        {
            assertArrayEquals(e.getValue(), actual.get(e.getKey()), msg + ": content of " + e.getKey());
        }
    }

    static void copyDir(final Path from, final Path to)
    {
        try (Stream<Path> walk = Files.walk(from))
        {
            for (final Path p : (Iterable<Path>)walk::iterator)
            {
                final Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p))
                {
                    Files.createDirectories(target);
                }
                else
                {
                    Files.copy(p, target);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    static void deleteDir(final Path dir)
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir))
        {
            final List<Path> paths = new ArrayList<>();
            walk.forEach(paths::add);
            for (int i = paths.size() - 1; i >= 0; i--)
            {
                Files.delete(paths.get(i));
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Segment files of a journal directory, by name (so by base position). */
    static List<Path> segmentFiles(final Path dir)
    {
        try (Stream<Path> list = Files.list(dir))
        {
            final List<Path> files = new ArrayList<>();
            list.filter(p -> SegmentHeader.isSegmentFileName(p.getFileName().toString())).sorted()
                .forEach(files::add);
            return files;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    static long baseOf(final Path segmentFile)
    {
        return SegmentHeader.basePositionFromFileName(segmentFile.getFileName().toString());
    }

    /** File and offset where a frame of the log lives, from the segment files present. */
    static Path segmentHolding(final List<Path> segments, final long position)
    {
        Path found = null;
        for (final Path s : segments)
        {
            if (baseOf(s) <= position)
            {
                found = s;
            }
        }
        return found;
    }

    static long fileOffsetOf(final Path segment, final long position)
    {
        return SegmentHeader.LENGTH + position - baseOf(segment);
    }

    static void writeBytes(final Path file, final byte[] bytes)
    {
        try
        {
            Files.write(file, bytes);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    static byte[] readBytes(final Path file)
    {
        try
        {
            return Files.readAllBytes(file);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** The intent's format: "RESETINT", position, epoch, CRC32C of those 24 bytes; little-endian. */
    static void writeResetIntent(final Path dir, final long position, final long epoch)
    {
        final ByteBuffer b = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0x544E495445534552L);
        b.putLong(8, position);
        b.putLong(16, epoch);
        final CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 24);
        b.putInt(24, (int)crc.getValue());
        writeBytes(dir.resolve(Journal.RESET_INTENT_FILE), b.array());
    }
}
