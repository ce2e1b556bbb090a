package io.keel.journal;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Paths;
import java.util.Random;

/**
 * Child process of {@link KillNineRecoveryTest}: appends groups of 1-3 frames as fast as it can, flushing every few
 * groups, and after each flush prints {@code ACK <durablePosition> <lastCommandId>} — what an engine would
 * acknowledge. The parent kills it with SIGKILL at a random moment.
 */
public final class KillNineChild
{
    public static void main(final String[] args)
    {
        final DurabilityPolicy policy = DurabilityPolicy.parse(args[1]);
        final Random random = new Random(Long.parseLong(args[2]));
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[512]);
        try (Journal journal = Journal.open(new JournalContext().dir(Paths.get(args[0])).durability(policy)
            .segmentSizeBytes(256 * 1024).maxFrameLengthBytes(4096)))
        {
            final JournalAppender appender = journal.appender();
            long commandId = 0;
            while (true)
            {
                final int groups = 1 + random.nextInt(20);
                for (int g = 0; g < groups; g++)
                {
                    commandId++;
                    final int frames = 1 + random.nextInt(3);
                    for (int f = 0; f < frames; f++)
                    {
                        final int length = KillNineRecoveryTest.payloadLength(commandId, f);
                        KillNineRecoveryTest.fillPayload(payload, commandId, f, length);
                        appender.append(1, commandId, 9, commandId, 0, 0, f, payload, 0, length, f == frames - 1);
                    }
                }
                final long durable = appender.flush();
                System.out.println("ACK " + durable + " " + commandId);
                System.out.flush();
            }
        }
    }
}
