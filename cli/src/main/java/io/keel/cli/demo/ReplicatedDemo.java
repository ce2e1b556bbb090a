package io.keel.cli.demo;

import io.keel.engine.EngineContext;
import io.keel.examples.ledger.Account;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.examples.ledger.Transfer;
import io.keel.gateway.client.KeelClient;
import io.keel.gateway.client.Response;
import io.keel.gateway.client.ResponseListener;
import io.keel.gateway.ops.CountersFile;
import io.keel.gateway.protocol.ErrorCode;
import org.HdrHistogram.Histogram;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.IdleStrategy;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Stream;

/**
 * {@code keel demo}: the whole story of a replicated pair on one machine. Two {@code keel node} JVMs (embedded
 * media drivers, loopback) and their witness ({@code keel witness}, unless turned off), a client in this JVM sending
 * ledger transfers at a fixed rate; the primary is killed with SIGKILL mid-load (once its standby is in the in-sync
 * set), the standby takes over with the witness's vote and acknowledges alone, the old primary comes back as standby
 * and catches up; then the journals and balances are checked.
 */
public final class ReplicatedDemo
{
    static final long CLIENT_ID = 1;
    static final long INITIAL_BALANCE = 1_000_000;
    static final long AWAIT_MS = 30_000;
    static final long STOP_TIMEOUT_MS = 30_000;
    static final int WINDOW = 1024;
    static final long SECOND_NS = TimeUnit.SECONDS.toNanos(1);
    static final String PRIMARY_LINE = ": primary in epoch ";
    static final String STANDBY_LINE = ": standby following member ";

    private final PrintStream out;
    private final int seconds;
    private final int rate;
    private final int accounts;
    private final Path keepDir;
    private final String ack;
    private final String fsync;
    private final String idle;
    private final boolean live;
    private long failureTimeoutMs = -1;
    private boolean withWitness = true;
    private String witnessAddress;
    /** Per node: 1 while that node, as primary, has its standby in the witness's in-sync set. */
    private final AtomicIntegerArray standbyInSync = new AtomicIntegerArray(2);

    private Path root;
    private String members;
    private final NodeProcess[] nodes = new NodeProcess[2];
    private final List<NodeProcess> all = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> nodeEvents = new ConcurrentLinkedQueue<>();
    private volatile int primaryId = -1;
    private volatile long epoch;
    private volatile int promotions;
    private long storyStartNs;
    private final List<String> failures = new ArrayList<>();
    private final List<String> facts = new ArrayList<>();
    private final List<String> checks = new ArrayList<>();

    // load state (the load loop's thread only)
    private final Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    private final Histogram latencyBeforeKill = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    private final Long2LongHashMap intendedByCommand = new Long2LongHashMap(-1);
    private final Long2LongHashMap transferFrom = new Long2LongHashMap(-1);
    private final Long2LongHashMap transferTo = new Long2LongHashMap(-1);
    private final Long2LongHashMap transferAmount = new Long2LongHashMap(-1);
    private final LongHashSet acknowledged = new LongHashSet();
    private long[] delta;
    private long sent;
    private long ok;
    private long rejected;
    private long unknown;
    private long duplicates;
    private long killNs;
    private long lastAckBeforeKillNs;
    private long firstAckAfterKillNs;
    private long acksAfterKill;
    private long opensOk;
    private int killedId = -1;

    /**
     * @param out      where the story is printed.
     * @param seconds  seconds of transfers.
     * @param rate     transfers per second.
     * @param accounts ledger accounts.
     * @param dir      where the node folders stay (DIR/node-0, DIR/node-1); null: a temp dir, deleted at the end.
     * @param ack      sync or async.
     * @param fsync    none, batch or always.
     * @param idle     idle strategy of the nodes' threads and the client: backoff, yield or spin.
     */
    public ReplicatedDemo(final PrintStream out, final int seconds, final int rate, final int accounts, final Path dir,
        final String ack, final String fsync, final String idle)
    {
        this.out = out;
        this.seconds = seconds;
        this.rate = rate;
        this.accounts = accounts;
        this.keepDir = dir;
        this.ack = ack;
        this.fsync = fsync;
        this.idle = idle;
        this.live = null != System.console() && out == System.out;
    }

    /**
     * @param failureTimeoutMs the nodes' failure timeout: a primary silent this long is replaced; -1: the nodes'
     *                         default.
     * @return this.
     */
    public ReplicatedDemo failureTimeoutMs(final long failureTimeoutMs)
    {
        this.failureTimeoutMs = failureTimeoutMs;
        return this;
    }

    /**
     * @param withWitness run a witness beside the pair (the default): the standby takes over with its vote and, in
     *                    sync mode, acknowledges alone once the witness took the dead primary out of the in-sync set.
     *                    Without one, a sync primary answers NO_STANDBY until the old primary is back as standby.
     * @return this.
     */
    public ReplicatedDemo witness(final boolean withWitness)
    {
        this.withWitness = withWitness;
        return this;
    }

    /**
     * Run the story.
     *
     * @return 0 when every check passed, 1 when one failed, 2 for bad settings.
     */
    public int run()
    {
        if (seconds < 3 || rate < 1 || rate > 1_000_000 || accounts < 2 || accounts > 100_000)
        {
            out.println("demo: --seconds must be >= 3, --rate in [1, 1e6], --accounts in [2, 1e5]");
            return 2;
        }
        if (!"sync".equals(ack) && !"async".equals(ack))
        {
            out.println("demo: --ack must be sync or async");
            return 2;
        }
        final Thread cleanup = new Thread(this::destroyAll, "keel-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C: no node JVM is left behind
        try
        {
            root = null != keepDir ? Files.createDirectories(keepDir) : Files.createTempDirectory("keel-demo-");
            story();
        }
        catch (final Exception ex)
        {
            failures.add("the demo stopped: " + ex);
            out.println();
            out.println("demo: " + ex.getMessage());
            for (final NodeProcess node : all)
            {
                out.println("--- last lines of " + node.name() + ":\n" + node.tail(15));
            }
        }
        finally
        {
            destroyAll();
            writeLogs();
            try
            {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            }
            catch (final IllegalStateException ignore)
            {
                // shutting down already
            }
            if (null == keepDir && null != root)
            {
                deleteTree(root);
            }
        }
        out.println();
        if (failures.isEmpty())
        {
            out.println("All checks passed." + (null != keepDir ? " Journals kept: " + keepDir.resolve("node-0") +
                "/journal, " + keepDir.resolve("node-1") + "/journal (try ./keel journal dump|verify|stats)." : ""));
            return 0;
        }
        out.println("FAILED checks:");
        failures.forEach(failure -> out.println("  " + failure));
        return 1;
    }

    // ----------------------------------------------------------------------------------------------- the story

    private void story() throws Exception
    {
        members = "0=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort() +
            ",1=127.0.0.1:" + NodeProcess.freePort() + ":" + NodeProcess.freePort();
        out.printf("Keel demo: a replicated pair on this machine: two `keel node` JVMs (embedded media drivers, " +
            "loopback UDP)%s%nand a client in this JVM. ack %s, fsync %s, idle %s, %d cores, node folders in %s%n",
            withWitness ? ", their witness (`keel witness`)" : "", ack, fsync, idle,
            Runtime.getRuntime().availableProcessors(), root);
        out.printf("members %s%n", members);

        out.printf("%n== 1. Start: %snode 0, then node 1%n", withWitness ? "the witness, " : "");
        storyStartNs = System.nanoTime();
        if (withWitness)
        {
            final int witnessPort = NodeProcess.freePort();
            witnessAddress = "127.0.0.1:" + witnessPort;
            final NodeProcess witness = NodeProcess.start("witness", List.of("witness", "--port",
                Integer.toString(witnessPort), "--dir", root.resolve("witness").toString()), (line, ns) -> { });
            all.add(witness);
            witness.awaitLine("keel witness ready", AWAIT_MS);
            event("witness ready on " + witnessAddress + ": a standby takes over only with its vote, so at most " +
                "one side of a cut link acknowledges");
        }
        start(0);
        final long primaryNs = nodes[0].awaitLine("keel node 0" + PRIMARY_LINE, AWAIT_MS);
        printNodeEvents();
        start(1);
        final long standbyNs = nodes[1].awaitLine("keel node 1" + STANDBY_LINE + "0", AWAIT_MS);
        printNodeEvents();
        out.printf("  node 0 primary %d ms after its JVM started; node 1 standby %d ms after its JVM started%n",
            ms(primaryNs - nodes[0].startNs()), ms(standbyNs - nodes[1].startNs()));

        delta = new long[accounts];
        final IdleStrategy idleStrategy = EngineContext.idleStrategy("spin".equals(idle) ? "busy-spin" : idle);
        try (KeelClient client = KeelClient.connect(new KeelClient.Context()
            .members(members)
            .clientId(CLIENT_ID)
            .commandCodecs(Ledger.domain().commands())
            .maxInFlight(WINDOW)
            .commandTimeoutNs(TimeUnit.SECONDS.toNanos(30))
            .attemptTimeoutNs(TimeUnit.MILLISECONDS.toNanos(500))
            .maxAttempts(1000) // through the failover: NO_STANDBY and redirects are retried until the timeout
            .retryBackoff(TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(50))
            .livenessTimeoutNs(TimeUnit.MILLISECONDS.toNanos(300)) // a silent primary is left after 300 ms
            .connectTimeoutNs(TimeUnit.SECONDS.toNanos(30))
            .idle(idle)
            .ownThread(false)))
        {
            final Listener listener = new Listener(client);
            out.printf("%n== 2. Load: %,d accounts, then random transfers at %,d/s for %d s (open loop: latency from " +
                "each transfer's intended send time)%n", accounts, rate, seconds);
            openAccounts(client, listener, idleStrategy);
            final long[] before = readBalances(client, idleStrategy);
            load(client, listener, idleStrategy);
            drain(client, idleStrategy);
            final long[] after = readBalances(client, idleStrategy);
            checkBalances(before, after);
        }

        out.printf("%n== 4. Stop both nodes (SIGTERM, standby first) and read their journals%n");
        final int primary = primaryId;
        final int standby = 1 - primary;
        awaitStandbyCaughtUp(primary, standby);
        final int standbyExit = nodes[standby].stop(STOP_TIMEOUT_MS);
        final int primaryExit = nodes[primary].stop(STOP_TIMEOUT_MS);
        printNodeEvents();
        check((standbyExit == 0 || standbyExit == 143) && (primaryExit == 0 || primaryExit == 143),
            "both nodes stopped cleanly on SIGTERM (exit " + standbyExit + ", " + primaryExit + ")");
        verifyJournals(primary, standby);
        out.printf("%n== 5. Checks%n");
        checks.forEach(out::println);
        printFacts();
    }

    private void start(final int id) throws IOException, InterruptedException
    {
        final Path dir = root.resolve("node-" + id);
        Files.createDirectories(dir);
        final List<String> args = new ArrayList<>(List.of("node", "--members", members, "--id", Integer.toString(id),
            "--dir", dir.toString(), "--ack", ack, "--fsync", fsync, "--idle", idle));
        if (failureTimeoutMs > 0)
        {
            args.add("--failure-timeout");
            args.add(Long.toString(failureTimeoutMs));
        }
        if (withWitness)
        {
            args.add("--witness");
            args.add(witnessAddress);
        }
        final int starts = (int)all.stream().filter(n -> n.name().startsWith("node-" + id)).count();
        final String name = "node-" + id + (starts > 0 ? "-restart" + starts : "");
        final NodeProcess node = NodeProcess.startAfter(nodes[id], name, args,
            (line, timeNs) -> onNodeLine(id, line, timeNs));
        nodes[id] = node;
        all.add(node);
    }

    private void onNodeLine(final int id, final String line, final long timeNs)
    {
        final String prefix = "keel node " + id;
        if (line.startsWith(prefix + PRIMARY_LINE))
        {
            final String rest = line.substring((prefix + PRIMARY_LINE).length());
            try
            {
                epoch = Long.parseLong(rest.substring(0, rest.indexOf(' ')));
            }
            catch (final RuntimeException ignore)
            {
                // a line in another form: the role is what matters
            }
            primaryId = id;
        }
        if (line.startsWith(prefix + PRIMARY_LINE))
        {
            promotions++;
        }
        if (line.contains(FailoverBench.IN_SYNC_LINE))
        {
            standbyInSync.set(id, 1);
        }
        else if (line.contains(FailoverBench.OUT_OF_SYNC_LINE))
        {
            standbyInSync.set(id, 0);
        }
        if (line.startsWith(prefix + PRIMARY_LINE) || (line.startsWith(prefix + STANDBY_LINE) &&
            !line.contains("member -1")) || line.contains(FailoverBench.IN_SYNC_LINE) ||
            line.contains(FailoverBench.OUT_OF_SYNC_LINE) || line.contains("the witness took the standby out") ||
            line.contains(FailoverBench.NOT_IN_SYNC_LINE) ||
            line.contains("refusing") || line.contains("engine failed"))
        {
            // a logger's line ("[thread] LEVEL logger - member 1 (...): ..."): its message, as the node's
            final int message = line.startsWith("[") ? line.indexOf(" - member ") : -1;
            final String member = "member " + id + " ";
            final String text = message < 0 ? line : line.substring(message + 3);
            final String shown = message < 0 ? line : text.startsWith(member) ?
                "keel node " + id + " " + text.substring(member.length()) : "keel node " + id + ": " + text;
            nodeEvents.add(String.format(Locale.ROOT, "  [%5.1f s] %s", (timeNs - storyStartNs) / 1e9, shown));
        }
    }

    private void printNodeEvents()
    {
        String event;
        while (null != (event = nodeEvents.poll()))
        {
            if (live)
            {
                out.print("\r\033[K");
            }
            out.println(event);
        }
    }

    private void event(final String text)
    {
        if (live)
        {
            out.print("\r\033[K");
        }
        out.printf(Locale.ROOT, "  [%5.1f s] %s%n", (System.nanoTime() - storyStartNs) / 1e9, text);
    }

    private void openAccounts(final KeelClient client, final Listener listener, final IdleStrategy idleStrategy)
    {
        final OpenAccount open = new OpenAccount();
        for (int i = 0; i < accounts; i++)
        {
            open.set(account(i), INITIAL_BALANCE);
            final long commandId = client.nextCommandId();
            while (!client.trySubmit(commandId, open, listener))
            {
                idleStrategy.idle(client.poll());
            }
        }
        drain(client, idleStrategy);
        opensOk = ok;
        out.printf("  %,d accounts opened with %,d each (%,d acknowledged, %,d rejected)%n", accounts,
            INITIAL_BALANCE, ok, rejected);
    }

    private void load(final KeelClient client, final Listener listener, final IdleStrategy idleStrategy)
        throws IOException, InterruptedException
    {
        final SplittableRandom random = new SplittableRandom(42);
        final Transfer transfer = new Transfer();
        final long intervalNs = SECOND_NS / rate;
        final long startNs = System.nanoTime();
        final long endNs = startNs + seconds * SECOND_NS;
        final long killAtNs = startNs + seconds * SECOND_NS * 35 / 100;
        // with a witness, the kill waits for the standby to be in the in-sync set (a standby outside it is not
        // promoted: it may lack acknowledged commands), at most until 70% of the load
        final long killLatestNs = startNs + seconds * SECOND_NS * 70 / 100;
        boolean killWaitPrinted = false;
        long nextProgressNs = startNs + SECOND_NS;
        long takeoverNs = -1;
        long restartAtNs = -1;
        long restartNs = -1;
        long rejoinNs = -1;
        boolean phase3Printed = false;
        boolean firstAckPrinted = false;
        sent = 0;
        while (true)
        {
            int work = 0;
            final long nowNs = System.nanoTime();
            final long intendedNs = startNs + sent * intervalNs;
            if (intendedNs >= endNs)
            {
                break;
            }
            if (nowNs >= intendedNs)
            {
                final int from = random.nextInt(accounts);
                int to = random.nextInt(accounts - 1);
                to = to >= from ? to + 1 : to;
                final long amount = 1 + random.nextInt(100);
                transfer.set(account(from), account(to), amount);
                final long commandId = client.nextCommandId();
                if (client.trySubmit(commandId, transfer, listener))
                {
                    transferFrom.put(commandId, from);
                    transferTo.put(commandId, to);
                    transferAmount.put(commandId, amount);
                    intendedByCommand.put(commandId, intendedNs);
                    sent++;
                    work++;
                }
                // a full window: the same transfer is offered again at once, its latency still counted from
                // the time it should have gone (no coordinated omission)
            }
            work += client.poll();
            printNodeEvents();

            // == 3. kill, takeover, rejoin
            if (0 == killNs && nowNs >= killAtNs && primaryId >= 0 && withWitness &&
                0 == standbyInSync.get(primaryId) && nowNs < killLatestNs && !killWaitPrinted)
            {
                killWaitPrinted = true;
                event("the kill waits for node " + primaryId + "'s standby to be back in the in-sync set");
            }
            if (0 == killNs && nowNs >= killAtNs && primaryId >= 0 &&
                (!withWitness || 1 == standbyInSync.get(primaryId) || nowNs >= killLatestNs))
            {
                killedId = primaryId;
                if (live)
                {
                    out.print("\r\033[K");
                }
                out.printf("%n== 3. Kill: SIGKILL (kill -9) to the primary, node %d, mid-load%n", killedId);
                killNs = System.nanoTime();
                nodes[killedId].signalKill(); // the load goes on at once, as a client process's would
                primaryId = -1;
                event("node " + killedId + " killed; the client retries its in-flight transfers with the same " +
                    "command ids");
            }
            if (0 != killNs && takeoverNs < 0)
            {
                final int standby = 1 - killedId;
                takeoverNs = nodes[standby].lineTimeNs("keel node " + standby + PRIMARY_LINE, killNs);
                if (takeoverNs > 0)
                {
                    printNodeEvents();
                    event(String.format(Locale.ROOT, "takeover: node %d is primary %d ms after the kill%s", standby,
                        ms(takeoverNs - killNs), !"sync".equals(ack) ? "" : withWitness ?
                        " with the witness's vote (ack sync: it acknowledges alone once the witness has taken node " +
                        killedId + " out of the in-sync set)" :
                        " (ack sync, no witness: it acknowledges nothing until a standby is back, clients are told " +
                        "NO_STANDBY and retry)"));
                    facts.add(String.format(Locale.ROOT, "takeover: the standby announced itself primary %,d ms " +
                        "after the kill (failure timeout %s)", ms(takeoverNs - killNs), failureTimeoutMs > 0 ?
                        failureTimeoutMs + " ms" : "the nodes' default"));
                    // sync without a witness: restart at once, the primary waits for a standby; otherwise let it run
                    // alone for a second
                    restartAtNs = takeoverNs + ("sync".equals(ack) && !withWitness ? 0 : SECOND_NS);
                }
            }
            if (restartAtNs > 0 && restartNs < 0 && nowNs >= restartAtNs)
            {
                if (live)
                {
                    out.print("\r\033[K");
                }
                out.printf("%n== 3b. Rejoin: restart node %d; it finds a primary in a higher epoch, rejoins as " +
                    "standby and catches up%n", killedId);
                restartNs = System.nanoTime();
                start(killedId);
                phase3Printed = true;
            }
            if (restartNs > 0 && rejoinNs < 0)
            {
                rejoinNs = nodes[killedId].lineTimeNs("keel node " + killedId + STANDBY_LINE, restartNs);
                if (rejoinNs > 0)
                {
                    printNodeEvents();
                    event(String.format(Locale.ROOT, "node %d rejoined as standby %d ms after its restart (%d ms " +
                        "after the kill)", killedId, ms(rejoinNs - restartNs), ms(rejoinNs - killNs)));
                    facts.add(String.format(Locale.ROOT, "rejoin: old primary back as standby %,d ms after its " +
                        "restart (JVM start, log matching, catch-up)", ms(rejoinNs - restartNs)));
                }
            }
            if (firstAckAfterKillNs > 0 && !firstAckPrinted)
            {
                firstAckPrinted = true;
                event(String.format(Locale.ROOT, "first transfer acknowledged by the new primary %d ms after the " +
                    "kill; the load goes on", ms(firstAckAfterKillNs - killNs)));
            }

            if (nowNs >= nextProgressNs)
            {
                nextProgressNs = nowNs + SECOND_NS; // after a stall: one line, not one per missed second
                progress((nowNs - storyStartNs) / 1e9, client);
            }
            idleStrategy.idle(work);
        }
        if (live)
        {
            out.println();
        }
        if (!phase3Printed)
        {
            final int standby = 1 - killedId;
            throw new IllegalStateException("no takeover seen before the end of the load (" + seconds + " s); the " +
                "standby did not promote itself" + (killedId >= 0 && withWitness &&
                nodes[standby].lineTimeNs(FailoverBench.NOT_IN_SYNC_LINE, killNs) > 0 ? ": the witness refused its " +
                "vote because node " + standby + " had left the in-sync set before the kill (by design: it may lack " +
                "acknowledged commands)" : ""));
        }
        if (rejoinNs < 0)
        {
            final long timeNs = nodes[killedId].awaitLine("keel node " + killedId + STANDBY_LINE, AWAIT_MS);
            printNodeEvents();
            event("node " + killedId + " rejoined as standby " + ms(timeNs - restartNs) + " ms after its restart");
            facts.add(String.format(Locale.ROOT, "rejoin: old primary back as standby %,d ms after its restart " +
                "(JVM start, log matching, catch-up)", ms(timeNs - restartNs)));
        }
    }

    /**
     * The load is over; the rejoined standby may still be catching up (it rejoined late in the load, or the
     * primary acknowledged alone meanwhile): wait, with a deadline, until its journal ends where the primary's does,
     * as its counters file says, so the checks compare whole journals. Past the deadline the checks report it.
     */
    private void awaitStandbyCaughtUp(final int primary, final int standby)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        try (CountersFile primaryCounters = CountersFile.openReadOnly(root.resolve("node-" + primary));
            CountersFile standbyCounters = CountersFile.openReadOnly(root.resolve("node-" + standby)))
        {
            while (System.nanoTime() < deadlineNs)
            {
                final long primaryEnd = journalEnd(primaryCounters);
                final long standbyEnd = journalEnd(standbyCounters);
                if (primaryEnd >= 0 && primaryEnd == standbyEnd)
                {
                    return;
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            out.printf("  node %d had not caught up with node %d after %d s%n", standby, primary, AWAIT_MS / 1000);
        }
        catch (final RuntimeException ex)
        {
            out.printf("  could not read the nodes' counters (%s); stopping them as they are%n", ex.getMessage());
        }
    }

    private static long journalEnd(final CountersFile counters)
    {
        for (final CountersFile.Value value : CountersFile.values(counters.reader()))
        {
            if (value.name().startsWith("replication position"))
            {
                return value.value();
            }
        }
        return -1;
    }

    private void progress(final double elapsedS, final KeelClient client)
    {
        final String primary = primaryId >= 0 ? "node " + primaryId + " (epoch " + epoch + ")" :
            "none (node " + killedId + " killed)";
        final String line = String.format(Locale.ROOT, "  %5.1f s  sent %,9d  ok %,9d  rejected %,d  in flight " +
            "%,5d  p50 %s  p99 %s  primary %s", elapsedS, sent, ok - opensOk, rejected, client.inFlight(),
            time(latency.getValueAtPercentile(50)), time(latency.getValueAtPercentile(99)), primary);
        if (live)
        {
            out.print("\r\033[K" + line);
            out.flush();
        }
        else
        {
            out.println(line);
        }
    }

    private void drain(final KeelClient client, final IdleStrategy idleStrategy)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        while (client.inFlight() > 0 && System.nanoTime() < deadlineNs)
        {
            idleStrategy.idle(client.poll());
            printNodeEvents();
        }
    }

    private long[] readBalances(final KeelClient client, final IdleStrategy idleStrategy) throws Exception
    {
        final long[] balances = new long[accounts];
        final List<CompletableFuture<Account>> futures = new ArrayList<>(accounts);
        for (int i = 0; i < accounts; i++)
        {
            futures.add(client.query(account(i), new Account()));
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MS);
        for (int i = 0; i < accounts; i++)
        {
            while (true)
            {
                final CompletableFuture<Account> future = futures.get(i);
                if (future.isDone() && !future.isCompletedExceptionally())
                {
                    break;
                }
                if (System.nanoTime() > deadlineNs)
                {
                    throw new IllegalStateException("no answer to a balance query within " + AWAIT_MS + " ms" +
                        (future.isCompletedExceptionally() ? " (last: " + future.handle((a, ex) -> ex).get() + ")" :
                        ""));
                }
                if (future.isCompletedExceptionally())
                {
                    // queries are not retried by the client: a node that stepped down answers NOT_PRIMARY
                    futures.set(i, client.query(account(i), new Account()));
                }
                idleStrategy.idle(client.poll());
                printNodeEvents();
            }
            final Account account = futures.get(i).get();
            balances[i] = null == account ? 0 : account.balance();
        }
        return balances;
    }

    // ---------------------------------------------------------------------------------------------- checks

    private void checkBalances(final long[] before, final long[] after)
    {
        out.printf("  %,d transfers sent, %,d acknowledged, %,d rejected, %,d outcome unknown; %,d answered from " +
            "the idempotency window (retries of commands already applied)%n", sent, ok - opensOk, rejected, unknown,
            duplicates);
        long totalBefore = 0;
        long totalAfter = 0;
        int mismatches = 0;
        int negative = 0;
        for (int i = 0; i < accounts; i++)
        {
            totalBefore += before[i];
            totalAfter += after[i];
            mismatches += after[i] != before[i] + delta[i] ? 1 : 0;
            negative += after[i] < 0 ? 1 : 0;
        }
        check(0 == unknown, "every transfer got an answer (" + unknown + " outcomes unknown)");
        check(totalBefore == (long)accounts * INITIAL_BALANCE && totalAfter == totalBefore && 0 == negative,
            String.format(Locale.ROOT, "total balance conserved: %,d before the load, %,d after (read through the " +
            "client from the new primary)", totalBefore, totalAfter));
        check(0 == mismatches, "every balance equals its opening balance plus the acknowledged transfers " +
            "(" + mismatches + " of " + accounts + " differ)");
        check(acksAfterKill > 0, String.format(Locale.ROOT, "the load went on after the kill: %,d transfers " +
            "acknowledged by the new primary", acksAfterKill));
    }

    private void verifyJournals(final int primary, final int standby) throws IOException
    {
        final Path primaryJournal = root.resolve("node-" + primary).resolve("journal");
        final Path standbyJournal = root.resolve("node-" + standby).resolve("journal");
        final JournalChecks.Groups groups = JournalChecks.groups(primaryJournal, CLIENT_ID);
        long missing = 0;
        long twice = 0;
        final LongHashSet.LongIterator it = acknowledged.iterator();
        while (it.hasNext())
        {
            final long count = groups.perCommandId().get(it.nextValue());
            missing += 0 == count ? 1 : 0;
        }
        final Long2LongHashMap.KeyIterator keys = groups.perCommandId().keySet().iterator();
        while (keys.hasNext())
        {
            twice += groups.perCommandId().get(keys.nextValue()) > 1 ? 1 : 0;
        }
        check(acknowledged.size() > accounts && 0 == missing && 0 == twice, String.format(Locale.ROOT,
            "every acknowledged command is in the new primary's journal exactly once: %,d acknowledged, %,d " +
            "missing, %,d applied twice (%,d commands in node %d's journal)", acknowledged.size(), missing, twice,
            groups.commands(), primary));
        final long standbyEnd = JournalChecks.committedPosition(standbyJournal);
        final long common = Math.min(groups.endPosition(), standbyEnd);
        final String difference = JournalChecks.compareUpTo(primaryJournal, standbyJournal, common);
        check(null == difference && common > 0, String.format(Locale.ROOT, "the two journals are byte-identical " +
            "up to their common position %,d (node %d ends at %,d, node %d at %,d; %d segment file(s))%s", common,
            primary, groups.endPosition(), standby, standbyEnd, JournalChecks.segmentCount(primaryJournal),
            null == difference ? "" : ": " + difference));
        check(groups.endPosition() == standbyEnd, "the rejoined standby caught up: both journals end at the same " +
            "position");
    }

    private void printFacts()
    {
        out.printf("%n== Measured%n");
        out.printf(Locale.ROOT, "  latency, whole run (%,d transfers, from intended send time): p50 %s  p90 %s  " +
            "p99 %s  p99.9 %s  max %s%n", latency.getTotalCount(), time(latency.getValueAtPercentile(50)),
            time(latency.getValueAtPercentile(90)), time(latency.getValueAtPercentile(99)),
            time(latency.getValueAtPercentile(99.9)), time(latency.getMaxValue()));
        out.printf(Locale.ROOT, "  latency, before the kill (%,d transfers):                   p50 %s  p90 %s  " +
            "p99 %s  p99.9 %s  max %s%n", latencyBeforeKill.getTotalCount(),
            time(latencyBeforeKill.getValueAtPercentile(50)), time(latencyBeforeKill.getValueAtPercentile(90)),
            time(latencyBeforeKill.getValueAtPercentile(99)), time(latencyBeforeKill.getValueAtPercentile(99.9)),
            time(latencyBeforeKill.getMaxValue()));
        if (lastAckBeforeKillNs > 0 && firstAckAfterKillNs > 0)
        {
            facts.add(String.format(Locale.ROOT, "failover gap seen by the client: %,d ms from the last " +
                "acknowledgement before the kill to the first after it%s", ms(firstAckAfterKillNs -
                lastAckBeforeKillNs), "sync".equals(ack) && !withWitness ? " (sync without a witness: includes " +
                "restarting the old primary as standby)" : ""));
        }
        if (firstAckAfterKillNs > 0)
        {
            facts.add(String.format(Locale.ROOT, "first acknowledgement after the kill: %,d ms after it",
                ms(firstAckAfterKillNs - killNs)));
        }
        final int unplanned = promotions - 2; // node 0 at the start, the standby at the kill
        if (unplanned > 0)
        {
            facts.add(String.format(Locale.ROOT, "unplanned failovers: %d (a primary was silent longer than the " +
                "failure timeout while alive: this machine stalled its threads; the pair stepped down, truncated " +
                "and rejoined by itself)", unplanned));
        }
        facts.forEach(fact -> out.println("  " + fact));
    }

    private void check(final boolean passed, final String what)
    {
        checks.add("  [" + (passed ? "ok" : "FAIL") + "] " + what);
        if (!passed)
        {
            failures.add(what);
        }
    }

    // ----------------------------------------------------------------------------------------------- helpers

    private static long account(final int index)
    {
        return 1 + index;
    }

    private static long ms(final long ns)
    {
        return TimeUnit.NANOSECONDS.toMillis(ns);
    }

    static String time(final long ns)
    {
        if (ns < 1_000_000)
        {
            return String.format(Locale.ROOT, "%.0f us", ns / 1e3);
        }
        if (ns < 1_000_000_000L)
        {
            return String.format(Locale.ROOT, "%.1f ms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f s", ns / 1e9);
    }

    private void destroyAll()
    {
        for (final NodeProcess node : all)
        {
            node.destroy();
        }
    }

    private void writeLogs()
    {
        if (null == keepDir)
        {
            return;
        }
        for (final NodeProcess node : all)
        {
            try
            {
                if (node.name().startsWith("witness"))
                {
                    node.writeLog(keepDir.resolve("witness").resolve("witness.log"));
                    continue;
                }
                final int id = node.name().charAt("node-".length()) - '0';
                node.writeLog(keepDir.resolve("node-" + id).resolve("node.log"));
            }
            catch (final IOException | RuntimeException ignore)
            {
                // the log is a convenience
            }
        }
    }

    /** Best effort: delete a temporary directory tree. */
    static void deleteTree(final Path dir)
    {
        try (Stream<Path> paths = Files.walk(dir))
        {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        catch (final IOException ignore)
        {
            // a temp dir left behind
        }
    }

    /** Answers to the client's commands, on the load loop's thread. */
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
            final long commandId = response.commandId();
            final long nowNs = System.nanoTime();
            recordLatency(commandId, nowNs);
            if (response.duplicate())
            {
                duplicates++;
            }
            if (response.accepted())
            {
                ok++;
                acknowledged.add(commandId);
                if (0 == killNs)
                {
                    lastAckBeforeKillNs = nowNs;
                }
                else if (client.member().id() != killedId)
                {
                    if (0 == firstAckAfterKillNs)
                    {
                        firstAckAfterKillNs = nowNs;
                    }
                    acksAfterKill++;
                }
                final long from = transferFrom.remove(commandId);
                if (from >= 0)
                {
                    final long amount = transferAmount.get(commandId);
                    delta[(int)from] -= amount;
                    delta[(int)transferTo.get(commandId)] += amount;
                }
            }
            else
            {
                rejected++;
                transferFrom.remove(commandId);
            }
            transferTo.remove(commandId);
            transferAmount.remove(commandId);
        }

        @Override
        public void onFailure(final long commandId, final ErrorCode code, final boolean outcomeUnknown)
        {
            recordLatency(commandId, System.nanoTime());
            if (outcomeUnknown)
            {
                unknown++;
            }
            else
            {
                rejected++;
            }
            transferFrom.remove(commandId);
            transferTo.remove(commandId);
            transferAmount.remove(commandId);
        }

        private void recordLatency(final long commandId, final long nowNs)
        {
            final long intendedNs = intendedByCommand.remove(commandId);
            if (intendedNs > 0)
            {
                final long valueNs = Math.min(latency.getHighestTrackableValue(), nowNs - intendedNs);
                latency.recordValue(valueNs);
                if (0 == killNs)
                {
                    latencyBeforeKill.recordValue(valueNs);
                }
            }
        }
    }
}
