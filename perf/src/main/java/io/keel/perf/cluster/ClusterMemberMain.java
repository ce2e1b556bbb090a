package io.keel.perf.cluster;

import io.keel.gateway.DriverDirectories;
import io.keel.perf.IdleMode;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;

/**
 * One Aeron Cluster echo member in a JVM of its own, so that a benchmark can kill it with SIGKILL (no goodbye to
 * the other members, no end-of-stream on its publications: the followers learn of it only when its heartbeats stop).
 * Started by {@link ClusterFailover}. It prints, one per line on stdout: {@code aeronDir <dir>} at start, then
 * {@code state <role> <position>} whenever its echo service's role or processed log position changed (checked every
 * 20 ms). It stops (closing the member) when its stdin reaches end of file, so it never outlives its parent.
 * <p>
 * Arguments: {@code <memberId> <clusterMembers> <dir> <idle> <leaderHeartbeatTimeoutMs> <fresh:true|false>}.
 */
public final class ClusterMemberMain
{
    private static final long REPORT_INTERVAL_MS = 20;

    private ClusterMemberMain()
    {
    }

    /**
     * @param args see the class comment.
     */
    public static void main(final String[] args)
    {
        if (args.length != 6)
        {
            System.err.println("usage: ClusterMemberMain <memberId> <clusterMembers> <dir> <idle> " +
                "<leaderHeartbeatTimeoutMs> <fresh>");
            System.exit(2);
        }
        final int memberId = Integer.parseInt(args[0]);
        final String clusterMembers = args[1];
        final int memberCount = clusterMembers.split("\\|").length;
        final String aeronDir = DriverDirectories.fresh("perf-member-" + memberId);
        System.out.println("aeronDir " + aeronDir);
        System.out.flush();
        final ClusterMember member = ClusterMember.launch(new ClusterMember.Settings()
            .memberId(memberId)
            .clusterMembers(clusterMembers, memberCount)
            .dir(new File(args[2]))
            .aeronDir(aeronDir)
            .idle(IdleMode.parse(args[3]))
            .leaderHeartbeatTimeoutNs(TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[4])))
            .fresh(Boolean.parseBoolean(args[5])));

        final Thread stdinWatcher = new Thread(() ->
        {
            final InputStream in = System.in;
            try
            {
                while (in.read() >= 0)
                {
                    // nothing is sent: wait for end of file
                }
            }
            catch (final IOException ignore)
            {
                // the parent is gone either way
            }
        }, "keel-perf-member-stdin");
        stdinWatcher.setDaemon(true);
        stdinWatcher.start();

        String last = "";
        while (stdinWatcher.isAlive())
        {
            final String state = "state " + member.role() + " " + member.servicePosition();
            if (!state.equals(last))
            {
                System.out.println(state);
                System.out.flush();
                last = state;
            }
            try
            {
                Thread.sleep(REPORT_INTERVAL_MS);
            }
            catch (final InterruptedException ex)
            {
                break;
            }
        }
        member.close();
        System.exit(0);
    }
}
