package io.keel.perf.cluster;

import io.keel.perf.IdleMode;
import io.keel.perf.LatencyRecorder;
import org.agrona.IoUtil;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Failover time of an Aeron Cluster echo as its client sees it: {@code N} members, each in a child JVM of its own
 * ({@link ClusterMemberMain}: own media driver, archive, consensus module, service; 127.0.0.1 ports), a client in this
 * JVM (its own embedded driver on a thread of its own: AeronCluster's switch to a new leader needs a client conductor
 * thread) sending at a fixed rate. Each round kills the leader's JVM with
 * SIGKILL ({@link Process#destroyForcibly()}), so the followers learn of it only when its heartbeats stop, and
 * measures the <em>gap</em>: from the last echo that arrived before the kill to the first echo from the new leader.
 * The killed member is then restarted on its own folders; it rejoins as a follower and catches up before the next
 * round. Messages sent while there is no leader are lost (the load drops a message it cannot send within 1 ms) and
 * are not counted: only the gap is. When the client closes itself (AeronCluster does when it waits too long for a
 * new leader), it connects again, as an application would; a round where that happened says so.
 */
public final class ClusterFailover implements AutoCloseable
{
    private static final long START_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(90);
    private static final long ROUND_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    private static final long SETTLE_NS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long SEND_GIVE_UP_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final String MAIN = ClusterMemberMain.class.getName();

    private final Settings settings;
    private final File baseDirectory;
    private final String clusterMembers;
    private final MemberProcess[] members;
    private final long periodNs;
    private ClusterEchoClient client;
    private long nextSendNs;
    private int reconnects;
    private int freshRestarts;

    /**
     * What to start.
     */
    public static final class Settings
    {
        int memberCount = 3;
        int messageSizeBytes = 68;
        IdleMode idle = IdleMode.YIELD;
        long leaderHeartbeatTimeoutMs = 1_000;
        long ratePerSecond = 2_000;

        /** @param memberCount members (3: the cluster survives one failure). @return this. */
        public Settings memberCount(final int memberCount)
        {
            this.memberCount = memberCount;
            return this;
        }

        /** @param messageSizeBytes echo size, at least 8. @return this. */
        public Settings messageSizeBytes(final int messageSizeBytes)
        {
            this.messageSizeBytes = messageSizeBytes;
            return this;
        }

        /** @param idle idle strategy of every agent in the members and of the client. @return this. */
        public Settings idle(final IdleMode idle)
        {
            this.idle = idle;
            return this;
        }

        /** @param ms the members' leader heartbeat timeout (interval a tenth of it). @return this. */
        public Settings leaderHeartbeatTimeoutMs(final long ms)
        {
            this.leaderHeartbeatTimeoutMs = ms;
            return this;
        }

        /** @param ratePerSecond the client's fixed send rate. @return this. */
        public Settings ratePerSecond(final long ratePerSecond)
        {
            this.ratePerSecond = ratePerSecond;
            return this;
        }
    }

    /**
     * What one round measured.
     */
    public static final class Round
    {
        /** The member killed. */
        public final int killedMemberId;
        /** The member that answered after. */
        public final int newLeaderMemberId;
        /** From the last echo before the kill to the first echo from the new leader. */
        public final long gapNs;
        /** From the kill to the client hearing of a new leader (-1 when it had to connect again instead). */
        public final long newLeaderNoticeNs;
        /** The client closed during the gap and connected again: the gap includes that. */
        public final boolean clientReconnected;

        Round(
            final int killedMemberId,
            final int newLeaderMemberId,
            final long gapNs,
            final long newLeaderNoticeNs,
            final boolean clientReconnected)
        {
            this.killedMemberId = killedMemberId;
            this.newLeaderMemberId = newLeaderMemberId;
            this.gapNs = gapNs;
            this.newLeaderNoticeNs = newLeaderNoticeNs;
            this.clientReconnected = clientReconnected;
        }
    }

    private ClusterFailover(final Settings settings)
    {
        if (settings.memberCount < 3)
        {
            throw new IllegalArgumentException("a failover needs >= 3 members, was: " + settings.memberCount);
        }
        if (settings.ratePerSecond < 1 || settings.ratePerSecond > 1_000_000)
        {
            throw new IllegalArgumentException("rate must be in [1, 1M]/s, was: " + settings.ratePerSecond);
        }
        this.settings = settings;
        this.periodNs = TimeUnit.SECONDS.toNanos(1) / settings.ratePerSecond;
        this.members = new MemberProcess[settings.memberCount];
        this.clusterMembers = ClusterMember.clusterMembers(ClusterMember.freePorts(settings.memberCount));
        try
        {
            this.baseDirectory = Files.createTempDirectory("keel-perf-failover-").toFile();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * Starts every member in its own JVM, waits for a leader and connects the client.
     *
     * @param settings what to start.
     * @return the running cluster; close it to stop the members and delete their folders.
     */
    public static ClusterFailover launch(final Settings settings)
    {
        final ClusterFailover failover = new ClusterFailover(settings);
        try
        {
            failover.start();
            return failover;
        }
        catch (final RuntimeException ex)
        {
            failover.close();
            throw ex;
        }
    }

    private void start()
    {
        for (int id = 0; id < members.length; id++)
        {
            members[id] = MemberProcess.start(id, command(id, true));
        }
        final long deadlineNs = System.nanoTime() + START_TIMEOUT_NS;
        while (leaderByRole() < 0)
        {
            checkDeadline(deadlineNs, "no leader was elected among the " + members.length + " member JVMs");
            sleepMs(10);
        }
        client = new ClusterEchoClient(ClusterMember.ingressEndpoints(clusterMembers), null, true,
            settings.messageSizeBytes, settings.idle, LatencyRecorder.singleWriter());
        nextSendNs = System.nanoTime();
        loadUntil(() -> client.completedCount() > 100, deadlineNs, "the cluster did not echo");
    }

    private List<String> command(final int memberId, final boolean fresh)
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-exports");
        command.add("java.base/jdk.internal.misc=ALL-UNNAMED"); // Agrona on JDK 17+
        command.add("-Xmx256m");
        command.add("-XX:+UseSerialGC"); // no GC worker threads competing for the cores
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(MAIN);
        command.add(Integer.toString(memberId));
        command.add(clusterMembers);
        command.add(new File(baseDirectory, "member-" + memberId).getAbsolutePath());
        command.add(settings.idle.label());
        command.add(Long.toString(settings.leaderHeartbeatTimeoutMs));
        command.add(Boolean.toString(fresh));
        return command;
    }

    /**
     * Runs {@code rounds} kills of the leader, each followed by a restart and catch-up of the killed member.
     *
     * @param rounds   how many.
     * @param progress where to print one line per round, or null.
     * @return what each round measured.
     */
    public List<Round> run(final int rounds, final PrintStream progress)
    {
        final List<Round> results = new ArrayList<>();
        for (int round = 1; round <= rounds; round++)
        {
            final long settleEndNs = System.nanoTime() + SETTLE_NS;
            loadUntil(() -> System.nanoTime() - settleEndNs > 0, settleEndNs + ROUND_TIMEOUT_NS, "settle");
            final int leader = client.leaderMemberId();
            final long lastBeforeNs = client.lastEchoNs();
            members[leader].kill();
            final long killNs = System.nanoTime();
            final int reconnectsBefore = reconnects;
            final long[] noticeNs = { -1 };
            loadUntil(() ->
            {
                if (noticeNs[0] < 0 && client.leaderMemberId() != leader)
                {
                    noticeNs[0] = System.nanoTime();
                }
                return client.lastEchoNs() - killNs > 0 && client.lastEchoLeader() != leader;
            }, killNs + ROUND_TIMEOUT_NS, "no echo from a new leader after killing member " + leader);
            final Round result = new Round(leader, client.lastEchoLeader(), client.lastEchoNs() - lastBeforeNs,
                noticeNs[0] < 0 ? -1 : noticeNs[0] - killNs, reconnects != reconnectsBefore);
            results.add(result);
            if (null != progress)
            {
                progress.printf(Locale.ROOT, "cluster-failover: round %d/%d: killed leader %d, member %d answered " +
                    "after a %.1f ms gap (client heard of it %.1f ms after the kill%s)%n", round, rounds, leader,
                    result.newLeaderMemberId, result.gapNs / 1e6, result.newLeaderNoticeNs / 1e6,
                    result.clientReconnected ? "; the client had to connect again" : "");
            }
            members[leader].deleteAeronDir();
            deleteMarkFiles(new File(baseDirectory, "member-" + leader));
            members[leader] = MemberProcess.start(leader, command(leader, false));
            awaitRejoined(leader);
        }
        return results;
    }

    /**
     * The archive, the consensus module and the service container refuse to start while the mark file of a
     * process that was killed still looks active (its heartbeat is recent): the process is known dead here, so its
     * mark files go, and the logs, catalog and recovery state stay.
     */
    private static void deleteMarkFiles(final File memberDir)
    {
        for (final String sub : new String[]{ "archive", "cluster" })
        {
            final File[] files = new File(memberDir, sub).listFiles((dir, name) -> name.contains("-mark") &&
                name.endsWith(".dat"));
            if (null != files)
            {
                for (final File file : files)
                {
                    IoUtil.delete(file, false);
                }
            }
        }
    }

    private void awaitRejoined(final int memberId)
    {
        final long deadlineNs = System.nanoTime() + ROUND_TIMEOUT_NS;
        MemberProcess restarted = members[memberId];
        while (true)
        {
            final MemberProcess member = restarted;
            loadUntil(() -> !member.isAlive() || (member.position > 0 && "FOLLOWER".equals(member.role)), deadlineNs,
                "member " + memberId + " did not rejoin as a follower");
            if (member.isAlive())
            {
                break;
            }
            // e.g. Aeron Archive refuses a recording whose last fragment a kill tore across a page boundary:
            // start the member empty; it replicates the log from the leader
            freshRestarts++;
            System.err.println("cluster-failover: member " + memberId + " could not restart on its folders (" +
                member.describe().trim() + "): restarting it empty");
            member.deleteAeronDir();
            IoUtil.delete(new File(baseDirectory, "member-" + memberId), false);
            restarted = MemberProcess.start(memberId, command(memberId, true));
            members[memberId] = restarted;
        }
        final MemberProcess member = restarted;
        final int leader = leaderByRole();
        final long target = leader < 0 ? 0 : members[leader].position;
        loadUntil(() -> member.position >= target, deadlineNs,
            "member " + memberId + " did not catch up to position " + target);
    }

    /**
     * @return how often a killed member could not restart on its own folders and was started empty instead.
     */
    public int freshRestarts()
    {
        return freshRestarts;
    }

    private void loadUntil(final java.util.function.BooleanSupplier done, final long deadlineNs, final String what)
    {
        while (!done.getAsBoolean())
        {
            final long nowNs = System.nanoTime();
            checkDeadline(deadlineNs, what);
            if (nowNs - nextSendNs >= 0)
            {
                client.trySend(nextSendNs, nowNs + SEND_GIVE_UP_NS);
                nextSendNs += periodNs;
                if (System.nanoTime() - nextSendNs > periodNs)
                {
                    nextSendNs = System.nanoTime(); // no burst after a stall: what was not sent is dropped
                }
            }
            if (0 == client.poll())
            {
                Thread.yield();
            }
            if (client.isClosed())
            {
                reconnect(what);
            }
        }
    }

    /**
     * AeronCluster closes itself when it loses its leader for longer than it waits for a new one (on two loaded
     * cores this happens while a killed member restarts): connect again, as an application would, and count it.
     */
    private void reconnect(final String what)
    {
        reconnects++;
        System.err.println("cluster-failover: the client closed (" + what + "; last session event: " +
            client.lastSessionEvent() + "): connecting again");
        client.close();
        client = new ClusterEchoClient(ClusterMember.ingressEndpoints(clusterMembers), null, true,
            settings.messageSizeBytes, settings.idle, LatencyRecorder.singleWriter());
        nextSendNs = System.nanoTime();
    }

    /**
     * @return how often the client had to connect again (0 in a quiet run).
     */
    public int reconnects()
    {
        return reconnects;
    }

    private int leaderByRole()
    {
        for (int id = 0; id < members.length; id++)
        {
            if (null != members[id] && members[id].isAlive() && "LEADER".equals(members[id].role))
            {
                return id;
            }
        }
        return -1;
    }

    private void checkDeadline(final long deadlineNs, final String what)
    {
        if (System.nanoTime() - deadlineNs > 0)
        {
            final StringBuilder states = new StringBuilder();
            for (final MemberProcess member : members)
            {
                states.append(states.length() == 0 ? "" : "; ").append(null == member ? "-" : member.describe());
            }
            throw new IllegalStateException(what + " (members: " + states + ")");
        }
    }

    /**
     * @return the members' leader heartbeat timeout.
     */
    public long leaderHeartbeatTimeoutMs()
    {
        return settings.leaderHeartbeatTimeoutMs;
    }

    /**
     * @return the members' election timeout, for the record.
     */
    public long electionTimeoutMs()
    {
        return TimeUnit.NANOSECONDS.toMillis(ClusterMember.Settings.electionTimeoutNs(
            TimeUnit.MILLISECONDS.toNanos(settings.leaderHeartbeatTimeoutMs)));
    }

    @Override
    public void close()
    {
        if (null != client)
        {
            client.close();
        }
        for (final MemberProcess member : members)
        {
            if (null != member)
            {
                member.stop();
            }
        }
        IoUtil.delete(baseDirectory, true);
    }

    private static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
    }

    /**
     * A member JVM and what its stdout last said.
     */
    private static final class MemberProcess
    {
        private final int memberId;
        private final Process process;
        private final StringBuilder errors = new StringBuilder();
        volatile String role = "";
        volatile long position;
        volatile String aeronDir;

        private MemberProcess(final int memberId, final Process process)
        {
            this.memberId = memberId;
            this.process = process;
        }

        static MemberProcess start(final int memberId, final List<String> command)
        {
            final Process process;
            try
            {
                process = new ProcessBuilder(command).redirectErrorStream(true).start();
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot start member " + memberId + ": " + command, ex);
            }
            final MemberProcess member = new MemberProcess(memberId, process);
            final Thread reader = new Thread(member::readOutput, "keel-perf-member-" + memberId + "-out");
            reader.setDaemon(true);
            reader.start();
            return member;
        }

        private void readOutput()
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while (null != (line = in.readLine()))
                {
                    if (line.startsWith("state "))
                    {
                        final String[] fields = line.split(" ");
                        role = fields[1];
                        position = Long.parseLong(fields[2]);
                    }
                    else if (line.startsWith("aeronDir "))
                    {
                        aeronDir = line.substring("aeronDir ".length());
                    }
                    else if (errors.length() < 4_000)
                    {
                        synchronized (errors)
                        {
                            errors.append(line).append('\n');
                        }
                    }
                }
            }
            catch (final IOException ignore)
            {
                // the process is gone
            }
        }

        boolean isAlive()
        {
            return process.isAlive();
        }

        /** SIGKILL: no shutdown hooks, no goodbye. */
        void kill()
        {
            process.destroyForcibly();
            try
            {
                process.waitFor(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            role = "KILLED";
        }

        void deleteAeronDir()
        {
            final String dir = aeronDir;
            if (null != dir && !process.isAlive())
            {
                IoUtil.delete(new File(dir), true);
            }
        }

        /** Closes its stdin: the member closes itself; SIGKILL when it takes longer than 10 s. */
        void stop()
        {
            try
            {
                process.getOutputStream().close();
                if (!process.waitFor(10, TimeUnit.SECONDS))
                {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            catch (final IOException | InterruptedException ex)
            {
                process.destroyForcibly();
            }
            deleteAeronDir();
        }

        String describe()
        {
            synchronized (errors)
            {
                return "member " + memberId + " " + (process.isAlive() ? "alive" : "exited " + process.exitValue()) +
                    " role " + role + " position " + position + (errors.length() > 0 ? " output: " + errors : "");
            }
        }
    }
}
