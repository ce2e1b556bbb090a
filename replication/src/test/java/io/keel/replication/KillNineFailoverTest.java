package io.keel.replication;

import io.keel.journal.Journal;
import io.keel.journal.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.keel.replication.TestNode.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Primary and standby as separate JVMs; the primary is killed with kill -9 (destroyForcibly) under load.
 */
@Timeout(180)
class KillNineFailoverTest
{
    private static final long DEADLINE_MS = 60_000;

    @TempDir
    Path root;

    /** A child JVM and the lines it printed, with the time each arrived. */
    static final class Child
    {
        final Process process;
        final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
        final List<long[]> ackTimes = java.util.Collections.synchronizedList(new ArrayList<>());
        volatile String lastRole = "";
        volatile long firstAckNs = -1;
        volatile long lastAckNs = -1;
        volatile long roleChangedNs = -1;
        volatile long lastCommitted = -1;
        volatile long lastAcked = -2;

        Child(final Process process)
        {
            this.process = process;
            final Thread reader = new Thread(() ->
            {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8)))
                {
                    String line;
                    while ((line = in.readLine()) != null)
                    {
                        final long now = System.nanoTime();
                        if (line.startsWith("ACK "))
                        {
                            lines.add(line);
                            if (firstAckNs < 0)
                            {
                                firstAckNs = now;
                            }
                            lastAckNs = now;
                        }
                        else if (line.startsWith("ROLE "))
                        {
                            lastRole = line;
                            roleChangedNs = now;
                        }
                        else if (line.startsWith("LAG "))
                        {
                            final String[] parts = line.split(" ");
                            if (parts.length > 3)
                            {
                                lastAcked = Long.parseLong(parts[2]);
                                lastCommitted = Long.parseLong(parts[1]);
                            }
                            else
                            {
                                lastAcked = Long.parseLong(parts[2]);
                                lastCommitted = -1; // not paused: still moving
                            }
                        }
                    }
                }
                catch (final IOException ignore)
                {
                    // killed
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        void send(final String command) throws IOException
        {
            final OutputStream stdin = process.getOutputStream();
            stdin.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        }
    }

    private Child launch(final int id, final String members, final String mode) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (final String flag : System.getProperty("keel.jvm.flags", "").split(" "))
        {
            if (!flag.isBlank())
            {
                command.add(flag);
            }
        }
        command.add("-Xmx256m");
        // like the demo: a 50 ms failure timeout flaps when the full suite loads the 2 shared cores, and a flap
        // before the kill swaps the roles this test relies on (it proves no acknowledged loss, not speed)
        command.add("-D" + ReplicationContext.FAILURE_TIMEOUT_PROP + "=250");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(PairMemberMain.class.getName());
        command.add(Integer.toString(id));
        command.add(members);
        command.add(root.resolve("node-" + id).toString());
        command.add(mode);
        final Process process = new ProcessBuilder(command)
            .redirectError(root.resolve("node-" + id + "-" + System.nanoTime() + ".log").toFile())
            .start();
        return new Child(process);
    }

    @Test
    void killNineOfTheSyncPrimaryLosesNoAcknowledgedCommandAndTheOldPrimaryRejoins() throws Exception
    {
        final List<Member> members = TestNode.members();
        final String memberList = members.get(0) + "," + members.get(1);
        Child a = launch(0, memberList, "sync");
        final Child b = launch(1, memberList, "sync");
        try
        {
            await("member 0 primary", DEADLINE_MS, () -> a.lastRole.startsWith("ROLE PRIMARY"));
            await("member 0 acknowledges 2000 commands", DEADLINE_MS, () -> a.lines.size() >= 2000);

            a.process.destroyForcibly().waitFor();
            final long killedNs = System.nanoTime();
            final long lastAckOfOld = a.lastAckNs;
            await("member 1 takes over", DEADLINE_MS, () -> b.lastRole.startsWith("ROLE PRIMARY"));
            final long takeoverMs = (b.roleChangedNs - killedNs) / 1_000_000;
            assertTrue(b.firstAckNs < 0, "a SYNC primary without a standby acknowledged");
            final List<String> acknowledgedByOld = new ArrayList<>(a.lines);

            // SYNC: the new primary acknowledges nothing until a standby holds its log; the old primary rejoins
            final Child rejoined = launch(0, memberList, "sync");
            try
            {
                await("member 1 acknowledges with the rejoined standby", DEADLINE_MS, () -> b.firstAckNs > 0);
                final long failoverMs = (b.firstAckNs - lastAckOfOld) / 1_000_000;
                await("old primary rejoins as standby", DEADLINE_MS,
                    () -> rejoined.lastRole.startsWith("ROLE STANDBY") && b.lastAcked > 0);
                b.send("pause");
                await("the rejoined standby acks everything", DEADLINE_MS,
                    () -> b.lastCommitted > 0 && b.lastAcked == b.lastCommitted);
                final long finalPosition = b.lastCommitted;
                Thread.onSpinWait();
                rejoined.process.destroy();
                rejoined.process.waitFor();
                b.process.destroy();
                b.process.waitFor();

                final Map<String, Integer> inNewPrimary = commandsIn(root.resolve("node-1").resolve("journal"));
                int lost = 0;
                for (final String line : acknowledgedByOld)
                {
                    final String key = line.split(" ")[1];
                    final Integer count = inNewPrimary.get(key);
                    if (null == count)
                    {
                        lost++;
                    }
                    else
                    {
                        assertEquals(1, count, key + " applied more than once");
                    }
                }
                System.out.println("SYNC kill -9: " + acknowledgedByOld.size() + " acknowledged by the old primary, " +
                    lost + " lost; takeover " + takeoverMs + " ms after the kill; first ack of the new primary " + failoverMs +
                    " ms after the old primary's last (includes restarting the old primary's JVM as standby); " +
                    "final position " + finalPosition);
                assertEquals(0, lost, "acknowledged commands lost");
                final Map<String, Integer> inRejoined = commandsIn(root.resolve("node-0").resolve("journal"));
                assertEquals(inNewPrimary.size(), inRejoined.size(), "commands in the rejoined node");
                assertTrue(inNewPrimary.equals(inRejoined), "the rejoined node holds exactly the new primary's commands");
                final TestNode viewA = TestNode.view(root.resolve("node-0"));
                final TestNode viewB = TestNode.view(root.resolve("node-1"));
                TestNode.assertJournalsIdentical(viewA, viewB, true);
            }
            finally
            {
                rejoined.process.destroyForcibly();
            }
        }
        finally
        {
            a.process.destroyForcibly();
            b.process.destroyForcibly();
        }
    }

    private static Map<String, Integer> commandsIn(final Path dir)
    {
        final Map<String, Integer> commands = new HashMap<>();
        try (Journal journal = Journal.open(TestNode.journalContext(dir).readOnly(true));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.poll(frame ->
            {
                if (frame.isEndOfGroup())
                {
                    commands.merge(frame.clientId() + ":" + frame.commandId(), 1, Integer::sum);
                }
            }, 1000) > 0)
            {
                // reading
            }
        }
        return commands;
    }
}
