package io.keel.cli.demo;

import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.client.KeelClient;
import io.keel.gateway.client.Response;
import io.keel.gateway.client.ResponseListener;
import io.keel.gateway.protocol.ErrorCode;
import io.keel.journal.Journal;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalReader;
import io.keel.perf.report.RunReport;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@code keel bench failover}: a witness and a SYNC pair of {@code keel node --witness} JVMs with their default
 * settings, under open-loop deposits from one {@link KeelClient}. Each round kills the primary with SIGKILL, measures
 * the gap the client sees (its last acknowledgement from the old primary to its first from the new one), restarts the
 * killed node and waits until the new primary has put it back in the in-sync set. At the end the client's
 * acknowledged commands are looked up in the last primary's journal: lost and applied-twice counts.
 */
public final class FailoverBench
{
    static final long CLIENT_ID = 77;
    static final long SECOND_NS = TimeUnit.SECONDS.toNanos(1);
    static final long PHASE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    static final String PRIMARY_LINE = ": primary in epoch ";
    static final String IN_SYNC_LINE = "standby back in the in-sync set";
    static final String OUT_OF_SYNC_LINE = "asking the witness to take it out of the in-sync set";
    static final String NOT_IN_SYNC_LINE = "it is not in the in-sync set";
    static final long NO_TAKEOVER_NS = TimeUnit.SECONDS.toNanos(5);

    private final PrintStream out;
    private final int kills;
    private final int rate;
    private final int accounts;
    private final long settleMs;
    private final long clientLivenessMs;
    private final long clientWatchWhenSilentMs;
    private final File resultsDir;
    private final List<String> nodeArgs;
    private final List<String> witnessArgs;

    private Path root;
    private String members;
    private String witnessAddress;
    private NodeProcess witness;
    private final NodeProcess[] nodes = new NodeProcess[2];
    private final List<NodeProcess> all = new ArrayList<>();
    private final AtomicIntegerArray inSyncLines = new AtomicIntegerArray(2);
    private final AtomicIntegerArray standbyInSync = new AtomicIntegerArray(2); // 1: this primary's standby is in sync
    private final AtomicLongArray primaryLineNs = new AtomicLongArray(2);
    private volatile int primaryId = -1;
    private volatile long primaryEpoch = -1;
    private volatile int primaryChanges;
    private int starts;

    // load (loop thread only)
    private final LongHashSet acknowledged = new LongHashSet();
    private final Long2LongHashMap sentNs = new Long2LongHashMap(-1);
    private long ok;
    private long failed;
    private long lastAckNs;
    private int killedId = -1;
    private int outOfSyncKills;
    private long lastOldAckNs;
    private long killNs;
    private long firstNewAckNs;

    /**
     * @param out              where progress and the report go.
     * @param kills            kill rounds.
     * @param rate             deposits per second (open loop).
     * @param accounts         accounts deposited into.
     * @param settleMs         load time between the standby's return to the in-sync set and the next kill.
     * @param clientLivenessMs the client's liveness timeout (keep-alives every liveness / 5).
     * @param clientWatchWhenSilentMs the client's {@link KeelClient.Context#watchWhenSilentNs} in ms (0: watches
     *                         always open, the client's default).
     * @param resultsDir       where the run folder goes.
     * @param nodeArgs         extra {@code keel node} arguments (none: the defaults are measured).
     * @param witnessArgs      extra {@code keel witness} arguments (none: the defaults are measured).
     */
    public FailoverBench(final PrintStream out, final int kills, final int rate, final int accounts,
        final long settleMs, final long clientLivenessMs, final long clientWatchWhenSilentMs, final File resultsDir,
        final List<String> nodeArgs, final List<String> witnessArgs)
    {
        this.out = out;
        this.kills = kills;
        this.rate = rate;
        this.accounts = accounts;
        this.settleMs = settleMs;
        this.clientLivenessMs = clientLivenessMs;
        this.clientWatchWhenSilentMs = clientWatchWhenSilentMs;
        this.resultsDir = resultsDir;
        this.nodeArgs = nodeArgs;
        this.witnessArgs = witnessArgs;
    }

    /**
     * Run the rounds and write the report.
     *
     * @return 0 when every round completed and nothing acknowledged was lost or applied twice, else 1.
     */
    public int run() throws Exception
    {
        final Thread cleanup = new Thread(this::destroyAll, "keel-failover-bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        final long[] gapsMs = new long[kills];
        final long[] promotionMs = new long[kills];
        final long[] followedMs = new long[kills];
        int done = 0;
        String failure = null;
        long lost = -1;
        long twice = -1;
        final LocalDateTime startedAt = LocalDateTime.now();
        try
        {
            root = Files.createTempDirectory("keel-failover-");
            final int witnessPort = NodeProcess.freePort();
            witnessAddress = "127.0.0.1:" + witnessPort;
            members = "0=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort() + ",1=127.0.0.1:" +
                NodeProcess.freePort() + ":" + NodeProcess.freePort();
            final List<String> witnessCommand = new ArrayList<>(List.of("witness", "--port",
                Integer.toString(witnessPort), "--dir", root.resolve("witness").toString()));
            witnessCommand.addAll(witnessArgs);
            witness = NodeProcess.start("witness", witnessCommand, (line, ns) -> { });
            all.add(witness);
            witness.awaitLine("keel witness ready", 30_000);
            start(0);
            nodes[0].awaitLine("keel node 0" + PRIMARY_LINE, 30_000);
            start(1);
            nodes[1].awaitLine("keel node 1: standby following member 0", 30_000);
            out.printf("witness %s, pair %s; %d kills under %,d deposits/s%n", witnessAddress, members, kills, rate);

            final IdleStrategy idle = new BackoffIdleStrategy(10, 20, 1_000, 100_000);
            try (KeelClient client = KeelClient.connect(new KeelClient.Context()
                .members(members)
                .clientId(CLIENT_ID)
                .commandCodecs(Ledger.domain().commands())
                .maxInFlight(1024)
                .commandTimeoutNs(TimeUnit.SECONDS.toNanos(60))
                .attemptTimeoutNs(TimeUnit.MILLISECONDS.toNanos(500))
                .maxAttempts(1000)
                .retryBackoff(TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(20))
                .keepAliveIntervalNs(TimeUnit.MILLISECONDS.toNanos(Math.max(1, clientLivenessMs / 5)))
                .livenessTimeoutNs(TimeUnit.MILLISECONDS.toNanos(clientLivenessMs))
                .watchWhenSilentNs(TimeUnit.MILLISECONDS.toNanos(clientWatchWhenSilentMs))
                .memberConnectTimeoutNs(TimeUnit.MILLISECONDS.toNanos(250))
                .connectTimeoutNs(TimeUnit.SECONDS.toNanos(30))
                .ownThread(false)))
            {
                final Listener listener = new Listener(client);
                final OpenAccount open = new OpenAccount();
                for (int i = 0; i < accounts; i++)
                {
                    while (!client.trySubmit(client.nextCommandId(), open.set(1 + i, 0), listener))
                    {
                        idle.idle(client.poll());
                    }
                }
                final Deposit deposit = new Deposit();
                final SplittableRandom random = new SplittableRandom(7);
                final long intervalNs = SECOND_NS / rate;
                final long startNs = System.nanoTime();
                long sent = 0;
                int phase = 0; // 0 await in sync, 1 settle, 2 await takeover and first ack
                int baseline = 0; // the first primary may have put its standby in sync already
                int baselineId = primaryId;
                long phaseStartNs = startNs;
                long settleEndNs = 0;
                killNs = 0;
                long followedNs = 0;
                int connects = 0;
                while (done < kills)
                {
                    int work = 0;
                    final long nowNs = System.nanoTime();
                    final long intendedNs = startNs + sent * intervalNs;
                    if (nowNs >= intendedNs)
                    {
                        final long commandId = client.nextCommandId();
                        if (client.trySubmit(commandId, deposit.set(1 + random.nextInt(accounts), 1), listener))
                        {
                            sentNs.put(commandId, nowNs);
                            sent++;
                            work++;
                        }
                    }
                    work += client.poll();
                    if (2 == phase && 0 == followedNs && client.connects() != connects)
                    {
                        followedNs = System.nanoTime(); // the client's session with the new primary is open
                    }
                    if (nowNs - phaseStartNs > PHASE_TIMEOUT_NS)
                    {
                        throw new IllegalStateException("round " + (done + 1) + " stuck in phase " + phase +
                            " for 60 s (primary " + primaryId + ")");
                    }
                    final int primary = primaryId;
                    if (0 == phase && primary >= 0 && (primary != baselineId ||
                        (inSyncLines.get(primary) > baseline && 1 == standbyInSync.get(primary))))
                    {
                        if (primary != baselineId)
                        {
                            baselineId = primary; // an unplanned failover: wait for its own re-add
                            baseline = inSyncLines.get(primary);
                        }
                        else
                        {
                            phase = 1;
                            settleEndNs = nowNs + TimeUnit.MILLISECONDS.toNanos(settleMs);
                        }
                    }
                    else if (1 == phase && (primary != baselineId || 0 == standbyInSync.get(primary)))
                    {
                        // an unplanned failover, or the standby left the in-sync set (a flap under load) while
                        // settling: wait for the primary to put it back
                        baselineId = primary;
                        baseline = inSyncLines.get(primary);
                        phase = 0;
                    }
                    else if (1 == phase && nowNs >= settleEndNs)
                    {
                        killedId = primary;
                        lastOldAckNs = lastAckNs;
                        firstNewAckNs = 0;
                        connects = client.connects();
                        followedNs = 0;
                        killNs = System.nanoTime();
                        // not waiting for the process to be gone: the loop keeps polling the client, as a client
                        // process would (the wait, tens of ms at times, used to delay reading the last answers)
                        nodes[killedId].signalKill();
                        phase = 2;
                        phaseStartNs = killNs;
                    }
                    else if (2 == phase && 0 == firstNewAckNs && nowNs - killNs > NO_TAKEOVER_NS &&
                        nodes[1 - killedId].lineTimeNs(NOT_IN_SYNC_LINE, killNs) > 0)
                    {
                        // the standby had left the in-sync set just before the kill: no automatic promotion (by
                        // design); bring the killed primary back and try again
                        outOfSyncKills++;
                        out.printf("kill: node %d killed while its standby was out of the in-sync set: no takeover " +
                            "(by design); restarting it%n", killedId);
                        baselineId = killedId;
                        baseline = inSyncLines.get(killedId);
                        standbyInSync.set(killedId, 0);
                        start(killedId);
                        phase = 0;
                        phaseStartNs = System.nanoTime();
                        if (outOfSyncKills > kills)
                        {
                            throw new IllegalStateException(outOfSyncKills + " kills found the standby out of sync");
                        }
                    }
                    else if (2 == phase && firstNewAckNs > 0)
                    {
                        final int survivor = 1 - killedId;
                        final long promotedNs = nodes[survivor].lineTimeNs("keel node " + survivor + PRIMARY_LINE,
                            killNs);
                        gapsMs[done] = TimeUnit.NANOSECONDS.toMillis(firstNewAckNs - lastOldAckNs);
                        promotionMs[done] = promotedNs > 0 ? TimeUnit.NANOSECONDS.toMillis(promotedNs - killNs) : -1;
                        followedMs[done] = followedNs > 0 ? TimeUnit.NANOSECONDS.toMillis(followedNs - killNs) : -1;
                        done++;
                        final String promoted = nodes[survivor].line("promoted to primary", killNs);
                        out.printf(Locale.ROOT, "kill %2d: node %d killed; gap %4d ms (node %d announced primary " +
                            "%d ms after the kill, the client had a session with it after %d ms%s)%n", done, killedId,
                            gapsMs[done - 1], survivor, promotionMs[done - 1], followedMs[done - 1],
                            null == promoted || promoted.indexOf('(') < 0 ? "" :
                            "; its log: " + promoted.substring(promoted.indexOf('(') + 1, promoted.lastIndexOf(')')));
                        if (done < kills)
                        {
                            baselineId = survivor;
                            baseline = inSyncLines.get(survivor);
                            start(killedId);
                            phase = 0;
                            phaseStartNs = System.nanoTime();
                        }
                    }
                    idle.idle(work);
                }
                final long drainEndNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!sentNs.isEmpty() && System.nanoTime() < drainEndNs)
                {
                    idle.idle(client.poll());
                }
            }
            final int last = primaryId;
            stop(1 - last);
            stop(last);
            final Long2LongHashMap groups = groupsPerCommand(root.resolve("node-" + last).resolve("journal"));
            lost = 0;
            final LongHashSet.LongIterator it = acknowledged.iterator();
            while (it.hasNext())
            {
                if (groups.get(it.nextValue()) < 1)
                {
                    lost++;
                }
            }
            twice = 0;
            for (final long count : groups.values())
            {
                if (count > 1)
                {
                    twice++;
                }
            }
        }
        catch (final Exception ex)
        {
            failure = ex.getMessage();
            out.println("failover bench: " + ex.getMessage());
            for (final NodeProcess node : all)
            {
                out.println("--- last lines of " + node.name() + ":\n" + node.tail(15));
            }
        }
        finally
        {
            destroyAll();
            Runtime.getRuntime().removeShutdownHook(cleanup);
            if (null != root)
            {
                ReplicatedDemo.deleteTree(root);
            }
        }
        return report(startedAt, Arrays.copyOf(gapsMs, done), Arrays.copyOf(promotionMs, done),
            Arrays.copyOf(followedMs, done), lost, twice, failure);
    }

    private int report(final LocalDateTime startedAt, final long[] gapsMs, final long[] promotionMs,
        final long[] followedMs, final long lost, final long twice, final String failure) throws IOException
    {
        final long[] sorted = gapsMs.clone();
        Arrays.sort(sorted);
        final RunReport report = RunReport.create(resultsDir, "failover", "custom", startedAt)
            .setting("kills", kills)
            .setting("rate", rate)
            .setting("accounts", accounts)
            .setting("ack", "sync")
            .setting("witnessArgs", witnessArgs.isEmpty() ? "defaults (lease " +
                io.keel.replication.Witness.Context.LEASE_DEFAULT_MS + " ms)" : String.join(" ", witnessArgs))
            .setting("nodeArgs", nodeArgs.isEmpty() ? "defaults (failure timeout 50 ms, heartbeat 5 ms, fsync batch)" :
                String.join(" ", nodeArgs))
            .setting("clientLivenessMs", clientLivenessMs)
            .setting("clientKeepAliveMs", Math.max(1, clientLivenessMs / 5))
            .setting("clientWatchWhenSilentMs", clientWatchWhenSilentMs)
            .measurement("gapsMs", gapsMs)
            .measurement("promotionMs", promotionMs)
            .measurement("clientFollowedMs", followedMs)
            .measurement("gapP50Ms", percentile(sorted, 50))
            .measurement("gapP99Ms", percentile(sorted, 99))
            .measurement("gapMaxMs", 0 == sorted.length ? -1 : sorted[sorted.length - 1])
            .measurement("acknowledged", ok)
            .measurement("lostAcknowledged", lost)
            .measurement("appliedTwice", twice)
            .measurement("failedCommands", failed)
            .measurement("unplannedPrimaryChanges", Math.max(0, primaryChanges - 1 - gapsMs.length - outOfSyncKills))
            .measurement("killsWithStandbyOutOfSync", outOfSyncKills)
            .note("gap: the client's last acknowledgement from the killed primary to its first from the new one; " +
                "percentiles by nearest rank over " + gapsMs.length + " kills")
            .note("promotionMs: kill -9 to the survivor's 'primary in epoch' line (as read by this process)")
            .note("clientFollowedMs: kill -9 to the client's session with the new primary opening (its connects " +
                "counter), as seen by the load loop");
        if (null != failure)
        {
            report.note("FAILED: " + failure);
        }
        report.finish(out);
        out.println();
        out.println("failover gap histogram (ms), " + gapsMs.length + " kills:");
        printHistogram(sorted);
        out.printf(Locale.ROOT, "gap p50 %d ms, p99 %d ms, max %d ms; acknowledged %,d, lost %d, applied twice %d%n",
            percentile(sorted, 50), percentile(sorted, 99), 0 == sorted.length ? -1 : sorted[sorted.length - 1], ok,
            lost, twice);
        out.println("results: " + report.directory());
        return null == failure && 0 == lost && 0 == twice && gapsMs.length == kills ? 0 : 1;
    }

    private void printHistogram(final long[] sorted)
    {
        final long[] bounds = {25, 50, 75, 100, 150, 200, 300, 500, 1000, Long.MAX_VALUE};
        int from = 0;
        long lower = 0;
        for (final long bound : bounds)
        {
            int count = 0;
            while (from < sorted.length && sorted[from] < bound)
            {
                from++;
                count++;
            }
            if (count > 0)
            {
                out.printf(Locale.ROOT, "  %5d .. %-7s %3d %s%n", lower, bound == Long.MAX_VALUE ? "" : bound + " ms",
                    count, "#".repeat(count));
            }
            lower = bound;
        }
    }

    static long percentile(final long[] sorted, final double percentile)
    {
        if (0 == sorted.length)
        {
            return -1;
        }
        final int rank = (int)Math.ceil(percentile / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private void start(final int id) throws IOException, InterruptedException
    {
        final List<String> args = new ArrayList<>(List.of("node", "--members", members, "--id", Integer.toString(id),
            "--dir", root.resolve("node-" + id).toString(), "--witness", witnessAddress));
        args.addAll(nodeArgs);
        final NodeProcess node = NodeProcess.startAfter(nodes[id], "node-" + id + "-" + starts++, args,
            (line, ns) -> onLine(id, line, ns));
        nodes[id] = node;
        all.add(node);
    }

    private void onLine(final int id, final String line, final long ns)
    {
        final int at = line.indexOf("keel node " + id + PRIMARY_LINE);
        if (at >= 0)
        {
            final String rest = line.substring(at + ("keel node " + id + PRIMARY_LINE).length());
            final long epoch = Long.parseLong(rest.substring(0, rest.indexOf(' ')));
            if (epoch > primaryEpoch)
            {
                primaryEpoch = epoch;
                primaryId = id;
                primaryChanges++;
                primaryLineNs.set(id, ns);
            }
        }
        else if (line.contains(IN_SYNC_LINE))
        {
            inSyncLines.incrementAndGet(id);
            standbyInSync.set(id, 1);
        }
        else if (line.contains(OUT_OF_SYNC_LINE))
        {
            standbyInSync.set(id, 0);
        }
    }

    private void stop(final int id) throws InterruptedException
    {
        if (nodes[id].killed())
        {
            nodes[id].awaitExit(); // SIGKILLed without waiting: may not be gone (or reaped) yet
        }
        if (!nodes[id].isAlive())
        {
            return; // the last round's victim: not restarted
        }
        final int exit = nodes[id].stop(30_000);
        if (0 != exit && 143 != exit)
        {
            throw new IllegalStateException(nodes[id].name() + " exited with " + exit);
        }
    }

    static Long2LongHashMap groupsPerCommand(final Path journalDir)
    {
        final Long2LongHashMap counts = new Long2LongHashMap(0);
        try (Journal journal = Journal.open(new JournalContext().dir(journalDir).readOnly(true));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.poll(frame ->
            {
                if (frame.isEndOfGroup() && frame.clientId() == CLIENT_ID)
                {
                    counts.put(frame.commandId(), counts.get(frame.commandId()) + 1);
                }
            }, 4096) > 0)
            {
                // every frame
            }
        }
        return counts;
    }

    private void destroyAll()
    {
        for (final NodeProcess node : all)
        {
            node.destroy();
        }
    }

    private final class Listener implements ResponseListener
    {
        private final KeelClient client;

        Listener(final KeelClient client)
        {
            this.client = client;
        }

        @Override
        public void onResponse(final Response response)
        {
            final long nowNs = System.nanoTime();
            sentNs.remove(response.commandId());
            if (!response.accepted())
            {
                failed++;
                return;
            }
            ok++;
            acknowledged.add(response.commandId());
            lastAckNs = nowNs;
            if (killedId >= 0)
            {
                if (client.member().id() == killedId)
                {
                    // an answer the old primary sent before it died, read after the kill: it cannot have been
                    // sent later than the kill, whenever this loop got to it
                    lastOldAckNs = Math.min(nowNs, killNs);
                }
                else if (0 == firstNewAckNs)
                {
                    firstNewAckNs = nowNs;
                }
            }
        }

        @Override
        public void onFailure(final long commandId, final ErrorCode code, final boolean outcomeUnknown)
        {
            sentNs.remove(commandId);
            failed++;
        }
    }
}
