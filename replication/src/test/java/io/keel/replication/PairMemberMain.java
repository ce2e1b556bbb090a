package io.keel.replication;

import io.keel.gateway.DriverDirectories;
import io.keel.journal.Journal;
import io.keel.journal.JournalAppender;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * A member in its own JVM for kill -9 tests: a replication node plus a paced writer that, while primary,
 * appends one group per command and prints {@code ACK <clientId>:<commandId> <endPosition>} once the ack gate
 * releases it, {@code ROLE <role> <epoch>} on every role change, and {@code LAG <committed> <standbyAcked>}
 * every 50 ms. Reads {@code pause} / {@code resume} on stdin.
 * <p>
 * args: memberId members dir aeronDir ackMode
 */
public final class PairMemberMain
{
    private static volatile boolean paused;

    public static void main(final String[] args) throws Exception
    {
        final int id = Integer.parseInt(args[0]);
        final Path dir = Path.of(args[2]);
        final Journal journal = Journal.open(TestNode.journalContext(dir.resolve("journal")));
        final ReplicationNode node = ReplicationNode.launch(new ReplicationContext()
            .nodeId(id).members(Member.parse(args[1])).journal(journal).stateDir(dir).aeronDirectoryName(DriverDirectories.fresh("pair-" + id))
            .ackMode(AckMode.parse(args[3])).idle("backoff").termLengthBytes(1024 * 1024));
        final Thread input = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    paused = "pause".equals(line.trim());
                }
            }
            catch (final Exception ignore)
            {
                // parent gone
            }
        });
        input.setDaemon(true);
        input.start();

        final long clientId = 100 + id;
        long commandId = System.currentTimeMillis() * 1000;
        final long[] pendingEnds = new long[1 << 16];
        final long[] pendingIds = new long[1 << 16];
        int head = 0;
        int tail = 0;
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[256]);
        Role seen = null;
        long nextLagNs = 0;
        final StringBuilder out = new StringBuilder();
        while (true)
        {
            final Role role = node.role();
            if (role != seen)
            {
                out.append("ROLE ").append(role).append(' ').append(node.epoch()).append('\n');
                seen = role;
                head = tail = 0; // commands not released before a role change are never acknowledged
            }
            if (Role.STEPPING_DOWN == role)
            {
                node.releaseAppender();
            }
            else if (Role.PRIMARY == role)
            {
                final JournalAppender appender = journal.appender();
                if (!paused && tail - head < pendingEnds.length - 16)
                {
                    for (int i = 0; i < 8; i++)
                    {
                        final long command = ++commandId;
                        payload.putLong(0, command);
                        appender.append(node.epoch(), System.currentTimeMillis() * 1_000_000L, clientId, command, 0, 0,
                            1, payload, 0, 64 + (int)(command % 128), true);
                        pendingEnds[tail & (pendingEnds.length - 1)] = appender.position();
                        pendingIds[tail & (pendingEnds.length - 1)] = command;
                        tail++;
                    }
                }
                final long durable = appender.flush();
                final long releasable = node.ackGate().releasablePosition(durable);
                while (head < tail && pendingEnds[head & (pendingEnds.length - 1)] <= releasable)
                {
                    out.append("ACK ").append(clientId).append(':').append(pendingIds[head & (pendingEnds.length - 1)])
                        .append(' ').append(pendingEnds[head & (pendingEnds.length - 1)]).append('\n');
                    head++;
                }
                final long now = System.nanoTime();
                if (now > nextLagNs)
                {
                    out.append("LAG ").append(journal.committedPosition()).append(' ')
                        .append(node.ackGate().standbyAckedPosition()).append(paused ? " paused" : "").append('\n');
                    nextLagNs = now + 50_000_000L;
                }
            }
            if (out.length() > 0)
            {
                System.out.print(out);
                System.out.flush();
                out.setLength(0);
            }
            LockSupport.parkNanos(500_000); // pacing the load (about 16k commands/s at most), not synchronisation
        }
    }
}
