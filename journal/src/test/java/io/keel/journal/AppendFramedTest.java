package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class AppendFramedTest
{
    @TempDir
    Path dir;

    private JournalContext context(final String name)
    {
        return new JournalContext().dir(dir.resolve(name)).segmentSizeBytes(4096).maxFrameLengthBytes(1024)
            .stagingBufferBytes(2048).readBufferBytes(2048).durability(DurabilityPolicy.BATCH);
    }

    @Test
    void copyingFramesGivesByteIdenticalSegmentFilesAndTheSameIndex() throws IOException
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[200]);
        try (Journal source = Journal.open(context("a")); Journal copy = Journal.open(context("b")))
        {
            final JournalAppender appender = source.appender();
            for (int i = 0; i < 300; i++)
            {
                payload.putInt(0, i);
                appender.append(1 + i / 100, 1_700_000_000_000_000_000L + i * 1_000_000L, 7, i, 1 + (i % 5),
                    1 + (i / 5), 3, payload, 0, 4 + (i % 150), i % 3 == 2);
            }
            appender.flush();
            final JournalAppender target = copy.appender();
            try (JournalReader reader = source.reader(0))
            {
                while (reader.poll(frame -> target.appendFramed(frame.buffer(), frame.offset(), frame.alignedLength()),
                    13) > 0)
                {
                    if (!target.inGroup())
                    {
                        target.flush();
                    }
                }
            }
            target.flush();
            assertEquals(source.committedPosition(), copy.committedPosition());
            assertEquals(source.lastEpoch(), copy.lastEpoch());
            assertEquals(source.streamIndex().version(3), copy.streamIndex().version(3));
            assertTrue(source.segmentCount() > 5);
        }
        final List<Path> a = segments(dir.resolve("a"));
        final List<Path> b = segments(dir.resolve("b"));
        assertEquals(a.stream().map(Path::getFileName).collect(Collectors.toList()),
            b.stream().map(Path::getFileName).collect(Collectors.toList()));
        for (int i = 0; i < a.size(); i++)
        {
            assertEquals(-1L, Files.mismatch(a.get(i), b.get(i)), "segment " + a.get(i).getFileName());
        }
    }

    @Test
    void refusesAFrameWithABadChecksumAWrongPositionOrALowerEpoch()
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[64]);
        try (Journal source = Journal.open(context("a")); Journal copy = Journal.open(context("b")))
        {
            final JournalAppender appender = source.appender();
            appender.append(2, 10, 1, 1, 0, 0, 1, payload, 0, 16, true);
            appender.append(2, 11, 1, 2, 0, 0, 1, payload, 0, 16, true);
            appender.flush();
            final UnsafeBuffer frames = new UnsafeBuffer(new byte[1024]);
            final int[] length = new int[1];
            try (JournalReader reader = source.reader(0))
            {
                reader.poll(frame ->
                {
                    frames.putBytes(length[0], frame.buffer(), frame.offset(), frame.alignedLength());
                    length[0] += frame.alignedLength();
                }, 10);
            }
            final int second = length[0] / 2;
            final JournalAppender target = copy.appender();
            final IllegalArgumentException wrongPosition = assertThrows(IllegalArgumentException.class,
                () -> target.appendFramed(frames, second, second));
            assertTrue(wrongPosition.getMessage().contains("next position"), wrongPosition.getMessage());

            frames.putByte(FrameDescriptor.HEADER_LENGTH + 3, (byte)1);
            final IllegalArgumentException badCrc = assertThrows(IllegalArgumentException.class,
                () -> target.appendFramed(frames, 0, second));
            assertTrue(badCrc.getMessage().contains("checksum"), badCrc.getMessage());
            frames.putByte(FrameDescriptor.HEADER_LENGTH + 3, (byte)0);

            target.appendFramed(frames, 0, second);
            target.appendFramed(frames, second, second);
            target.flush();
            assertEquals(source.committedPosition(), copy.committedPosition());

            try (Journal older = Journal.open(context("c")))
            {
                older.appender().append(1, 10, 1, 1, 0, 0, 1, payload, 0, 16, true);
                older.appender().append(1, 11, 1, 2, 0, 0, 1, payload, 0, 16, true);
                older.appender().append(1, 12, 1, 3, 0, 0, 1, payload, 0, 16, true);
                older.appender().flush();
                try (JournalReader reader = older.reader(2L * second))
                {
                    final IllegalArgumentException lowerEpoch = assertThrows(IllegalArgumentException.class,
                        () -> reader.poll(frame -> target.appendFramed(frame.buffer(), frame.offset(),
                            frame.alignedLength()), 1));
                    assertTrue(lowerEpoch.getMessage().contains("epoch"), lowerEpoch.getMessage());
                }
            }
        }
    }

    private static List<Path> segments(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(".keel")).sorted()
                .collect(Collectors.toList());
        }
    }
}
