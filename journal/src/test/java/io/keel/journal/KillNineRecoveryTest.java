package io.keel.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Promise 1 at the journal level: a frame reported durable is never lost when the writing process is killed with
 * SIGKILL mid-load, and recovery exposes only whole groups.
 */
class KillNineRecoveryTest
{
    @TempDir
    Path dir;

    static int payloadLength(final long commandId, final int frame)
    {
        return (int)((commandId * 31 + frame * 7) % 300);
    }

    static void fillPayload(final MutableDirectBuffer buffer, final long commandId, final int frame, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            buffer.putByte(i, (byte)(commandId + frame + i));
        }
    }

    static boolean payloadMatches(final DirectBuffer buffer, final int offset, final long commandId, final int frame,
        final int length)
    {
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(offset + i) != (byte)(commandId + frame + i))
            {
                return false;
            }
        }
        return true;
    }

    @ParameterizedTest(name = "fsync {0}, seed {1}")
    @CsvSource({ "none, 1", "batch, 2", "always, 3", "batch, 4" })
    void acknowledgedFramesSurviveKillNine(final String policy, final long seed) throws Exception
    {
        final String javaBin = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        final List<String> command = new ArrayList<>();
        command.add(javaBin);
        for (final String flag : System.getProperty("keel.jvm.flags", "").split(" "))
        {
            if (!flag.isBlank())
            {
                command.add(flag);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(KillNineChild.class.getName());
        command.add(dir.toString());
        command.add(policy);
        command.add(Long.toString(seed));
        final Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();

        long ackedPosition = -1;
        long ackedCommand = -1;
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        final int acksBeforeKill = "always".equals(policy) ? 30 : 300 + (int)(seed * 37 % 200);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
            StandardCharsets.UTF_8)))
        {
            int acks = 0;
            String line;
            while (acks < acksBeforeKill && (line = out.readLine()) != null)
            {
                assertTrue(System.nanoTime() < deadlineNs, "child too slow to acknowledge");
                final String[] parts = line.split(" ");
                ackedPosition = Long.parseLong(parts[1]);
                ackedCommand = Long.parseLong(parts[2]);
                acks++;
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS), "child did not die");
        }
        finally
        {
            child.destroyForcibly();
        }
        assertTrue(ackedCommand > 0, "child acknowledged nothing");

        final long[] lastCommand = { 0 };
        final long[] framesInGroup = { 0 };
        try (Journal journal = Journal.open(new JournalContext().dir(dir).segmentSizeBytes(256 * 1024).maxFrameLengthBytes(4096));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            assertTrue(journal.committedPosition() >= ackedPosition,
                "acknowledged position " + ackedPosition + " lost: journal ends at " + journal.committedPosition() +
                " " + journal.recoveryReport());
            while (reader.poll(frame ->
            {
                final long commandId = frame.commandId();
                final int f = frame.type();
                assertEquals(f == 0 ? lastCommand[0] + 1 : lastCommand[0], commandId, "commands in order, once");
                assertEquals(framesInGroup[0], f, "frames of a group in order");
                assertEquals(payloadLength(commandId, f), frame.payloadLength());
                assertTrue(payloadMatches(frame.buffer(), frame.payloadOffset(), commandId, f, frame.payloadLength()),
                    "payload of command " + commandId + " frame " + f);
                lastCommand[0] = commandId;
                framesInGroup[0] = frame.isEndOfGroup() ? 0 : f + 1;
            }, 1000) > 0)
            {
                // check every frame
            }
            assertEquals(0, framesInGroup[0], "the log ends with a whole group");
            assertTrue(lastCommand[0] >= ackedCommand, "acknowledged command " + ackedCommand + " lost; last is " +
                lastCommand[0]);
        }
    }
}
