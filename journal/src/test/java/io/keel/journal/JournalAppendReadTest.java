package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class JournalAppendReadTest
{
    @TempDir
    Path dir;

    private JournalContext context()
    {
        return new JournalContext().dir(dir).segmentSizeBytes(4096).maxFrameLengthBytes(1024)
            .stagingBufferBytes(2048).readBufferBytes(2048).durability(DurabilityPolicy.BATCH);
    }

    @Test
    void appendedGroupsSurviveReopenAndReadBackInOrderAcrossSegments()
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[100]);
        final List<Long> positions = new ArrayList<>();
        try (Journal journal = Journal.open(context()))
        {
            final JournalAppender appender = journal.appender();
            for (int i = 0; i < 200; i++)
            {
                payload.putInt(0, i);
                positions.add(appender.append(1, 1000 + i, 7, i, 1 + (i % 5), 1 + (i / 5), 3, payload, 0,
                    4 + (i % 90), i % 2 == 1));
                if (i % 10 == 9)
                {
                    appender.flush();
                }
            }
            assertEquals(appender.position(), journal.durablePosition());
            assertTrue(journal.segmentCount() > 3, "segments: " + journal.segmentCount());
        }

        try (Journal journal = Journal.open(context()))
        {
            assertFalse(journal.recoveryReport().hadTornTail(), journal.recoveryReport().toString());
            assertEquals(200, journal.recoveryReport().frameCount());
            final List<Long> read = new ArrayList<>();
            final List<Integer> values = new ArrayList<>();
            try (JournalReader reader = journal.reader(journal.startPosition()))
            {
                while (reader.poll(frame ->
                {
                    read.add(frame.position());
                    values.add(frame.buffer().getInt(frame.payloadOffset()));
                    assertEquals(frame.commandId(), frame.buffer().getInt(frame.payloadOffset()));
                }, 7) > 0)
                {
                    // drain
                }
            }
            assertEquals(positions, read);
            for (int i = 0; i < 200; i++)
            {
                assertEquals(i, values.get(i));
            }
            assertEquals(40, journal.streamIndex().version(1));
            assertEquals(positions.get(5), journal.streamIndex().positionOf(1, 2));
        }
    }

    @Test
    void aHandlerThatThrowsSeesTheSameFrameAgainOnTheNextPoll()
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[8]);
        try (Journal journal = Journal.open(context()))
        {
            final JournalAppender appender = journal.appender();
            for (int i = 0; i < 3; i++)
            {
                appender.append(1, i, 7, i, 0, 0, 3, payload, 0, 8, true);
            }
            appender.flush();
            final List<Long> seen = new ArrayList<>();
            try (JournalReader reader = journal.reader(0))
            {
                assertThrows(IllegalStateException.class, () -> reader.poll(frame ->
                {
                    seen.add(frame.commandId());
                    if (frame.commandId() == 1)
                    {
                        throw new IllegalStateException("transient failure");
                    }
                }, 10));
                assertEquals(List.of(0L, 1L), seen);
                assertEquals(2, reader.poll(frame -> seen.add(frame.commandId()), 10));
                assertEquals(List.of(0L, 1L, 1L, 2L), seen);
            }
        }
    }
}
