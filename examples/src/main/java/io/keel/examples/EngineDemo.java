package io.keel.examples;

import io.keel.engine.Aggregate;
import io.keel.engine.CommandResult;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.engine.ResponseHandler;
import io.keel.examples.ledger.Account;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.examples.ledger.Transfer;
import io.keel.examples.orderbook.CancelOrder;
import io.keel.examples.orderbook.OrderBook;
import io.keel.examples.orderbook.OrderBooks;
import io.keel.examples.orderbook.PlaceOrder;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalReader;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The whole engine story in one process, no set-up: a ledger and an order book under load with a live progress
 * line, the latency histogram (open loop: measured from each command's intended send time, so stalls are not
 * hidden), throughput, the business thread's allocation per command, snapshot pause and replay speed, and the
 * checks that prove it (money conserved, every event journaled, recovery gives the same state).
 * <p>
 * Options: {@code --dir DIR} (kept afterwards; default a temp dir, deleted), {@code --seconds S} per phase
 * (default 3), {@code --rate R} commands/s for the latency phase (default 100000), {@code --accounts N}
 * (default 10000), {@code --fsync none|batch|always} (default batch), {@code --idle backoff|yield|busy-spin|sleep}.
 * Exit code 0 when every check passes.
 */
public final class EngineDemo
{
    private static final long INITIAL_BALANCE = 1_000_000;
    private static final int SEND_TIMES = 1 << 20;

    private final PrintStream out;
    private final Path dir;
    private final int seconds;
    private final int rate;
    private final int accounts;
    private final DurabilityPolicy fsync;
    private final String idle;
    private final List<String> failures = new ArrayList<>();
    private final List<String> facts = new ArrayList<>();

    private EngineDemo(final PrintStream out, final Path dir, final int seconds, final int rate, final int accounts,
        final DurabilityPolicy fsync, final String idle)
    {
        this.out = out;
        this.dir = dir;
        this.seconds = seconds;
        this.rate = rate;
        this.accounts = accounts;
        this.fsync = fsync;
        this.idle = idle;
    }

    /**
     * @param args see the class comment.
     */
    public static void main(final String[] args)
    {
        System.exit(run(System.out, args));
    }

    /**
     * Run the demo.
     *
     * @param out  where to print.
     * @param args see the class comment.
     * @return 0 when every check passed, 1 when one failed, 2 for bad arguments.
     */
    public static int run(final PrintStream out, final String... args)
    {
        Path dir = null;
        int seconds = 3;
        int rate = 100_000;
        int accounts = 10_000;
        DurabilityPolicy fsync = DurabilityPolicy.BATCH;
        String idle = "backoff";
        try
        {
            for (int i = 0; i < args.length; i++)
            {
                final String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i])
                {
                    case "--dir" -> dir = Path.of(value);
                    case "--seconds" -> seconds = Integer.parseInt(value);
                    case "--rate" -> rate = Integer.parseInt(value);
                    case "--accounts" -> accounts = Integer.parseInt(value);
                    case "--fsync" -> fsync = DurabilityPolicy.parse(value);
                    case "--idle" -> idle = value;
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
                i++;
            }
            if (seconds < 1 || rate < 1 || accounts < 2)
            {
                throw new IllegalArgumentException("--seconds, --rate must be >= 1 and --accounts >= 2");
            }
            EngineContext.idleStrategy(idle);
        }
        catch (final RuntimeException ex)
        {
            out.println("demo: " + ex.getMessage());
            return 2;
        }
        final boolean temporary = null == dir;
        try
        {
            if (temporary)
            {
                dir = Files.createTempDirectory("keel-demo-");
            }
            final EngineDemo demo = new EngineDemo(out, dir, seconds, rate, accounts, fsync, idle);
            return demo.runAll();
        }
        catch (final Exception ex)
        {
            ex.printStackTrace(out);
            return 1;
        }
        finally
        {
            if (temporary && null != dir)
            {
                deleteRecursively(dir);
            }
        }
    }

    private int runAll() throws Exception
    {
        out.printf("Keel engine demo: journal in %s, fsync %s, idle %s, %d cores%n", dir, fsync, idle,
            Runtime.getRuntime().availableProcessors());
        ledger();
        orderBook();
        out.println();
        out.println("Measured:");
        facts.forEach(fact -> out.println("  " + fact));
        out.println();
        if (failures.isEmpty())
        {
            out.println("All checks passed.");
            return 0;
        }
        out.println("FAILED checks:");
        failures.forEach(failure -> out.println("  " + failure));
        return 1;
    }

    // ------------------------------------------------------------------------------------------------ ledger

    private EngineContext ledgerContext(final Path snapshots)
    {
        return new EngineContext()
            .domain(Ledger.domain())
            .ringSize(1 << 14)
            .idleStrategyName(idle)
            .snapshotDir(snapshots)
            .snapshotIntervalNs(TimeUnit.SECONDS.toNanos(1))
            .journalContext(new JournalContext().dir(dir.resolve("ledger")).durability(fsync));
    }

    private void ledger() throws Exception
    {
        out.printf("%n== Ledger: %d accounts, transfers between random accounts%n", accounts);
        final Path snapshots = dir.resolve("ledger").resolve("snapshots");
        final Map<Long, Long> before;
        final long eventsJournaled;
        try (Engine engine = Engine.launch(ledgerContext(snapshots)))
        {
            final Counter answers = new Counter();
            final OpenAccount open = new OpenAccount();
            long commandId = 0;
            for (int account = 1; account <= accounts; account++)
            {
                submitUntilTaken(engine, 1, ++commandId, open.set(account, INITIAL_BALANCE), answers);
            }
            answers.awaitCount(accounts);

            commandId = throughput(engine, commandId);
            latency(engine, commandId);

            final long snapshotPosition = engine.snapshot().get(30, TimeUnit.SECONDS);
            facts.add(String.format("snapshots (every second under load, and on demand): %d taken; the last, of %d " +
                "accounts + %,d remembered commands, is %,d bytes at position %,d; business-thread pause %,d us " +
                "(longest %,d us)", engine.counters().snapshots(), accounts, engine.context().idempotencyWindow(),
                engine.counters().snapshotBytesLast(), snapshotPosition, engine.counters().snapshotPauseNsLast() / 1000,
                engine.counters().snapshotPauseNsMax() / 1000));

            before = balances(engine);
            final long total = before.values().stream().mapToLong(Long::longValue).sum();
            check(total == accounts * INITIAL_BALANCE, "ledger: balances conserved (" + total + " = " + accounts +
                " x " + INITIAL_BALANCE + ")");
            eventsJournaled = engine.counters().events();
            final long frames = countFrames(engine);
            check(frames == eventsJournaled, "ledger: every event journaled (" + frames + " frames = " +
                eventsJournaled + " events applied)");
            out.println("  counters: " + engine.counters());
        }

        try (Engine engine = Engine.launch(ledgerContext(snapshots)))
        {
            check(before.equals(balances(engine)), "ledger: recovery (snapshot + replay of " +
                engine.counters().replayedEvents() + " events) equals the state before the stop");
        }
        try (Engine engine = Engine.launch(ledgerContext(dir.resolve("no-snapshots"))))
        {
            final long events = engine.counters().replayedEvents();
            final double perSecond = events / (engine.counters().replayNs() / 1e9);
            facts.add(String.format("full replay including apply: %,d events in %,d ms = %,.0f events/s", events,
                engine.counters().replayNs() / 1_000_000, perSecond));
            check(before.equals(balances(engine)), "ledger: full replay of " + events +
                " events equals the state before the stop");
        }
    }

    private long throughput(final Engine engine, final long firstCommandId) throws InterruptedException
    {
        out.printf("-- throughput: one producer thread, as fast as the ring takes commands, %d s%n", seconds);
        final Counter answers = new Counter();
        final SplittableRandom random = new SplittableRandom(1);
        final Transfer transfer = new Transfer();
        final long startNs = System.nanoTime();
        final long endNs = startNs + TimeUnit.SECONDS.toNanos(seconds);
        long commandId = firstCommandId;
        long sent = 0;
        final Progress progress = new Progress(engine, startNs);
        while (System.nanoTime() < endNs)
        {
            for (int i = 0; i < 1000; i++)
            {
                transfer.set(1 + random.nextInt(accounts), 1 + random.nextInt(accounts), 1 + random.nextInt(100));
                submitUntilTaken(engine, 2, ++commandId, transfer, answers);
                sent++;
            }
            progress.maybePrint(sent, answers.count.get(), null);
        }
        answers.awaitCount(sent);
        final double elapsedS = (System.nanoTime() - startNs) / 1e9;
        progress.done();
        facts.add(String.format("ledger throughput: %,d transfers in %.2f s = %,.0f commands/s (%,.0f events/s) " +
            "through one business thread, fsync %s", sent, elapsedS, sent / elapsedS, 2 * sent / elapsedS, fsync));
        return commandId;
    }

    private void latency(final Engine engine, final long firstCommandId) throws Exception
    {
        out.printf("-- latency: open loop at %,d commands/s for %d s (measured from the intended send time)%n", rate,
            seconds);
        final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        final long[] sendTimes = new long[SEND_TIMES];
        final AtomicLong answered = new AtomicLong();
        final ResponseHandler handler = result ->
        {
            histogram.recordValue(Math.max(0, System.nanoTime() - sendTimes[(int)(result.commandId() & (SEND_TIMES - 1))]));
            answered.lazySet(answered.get() + 1);
        };
        final Thread business = findThread("keel-business-logic");
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

        final SplittableRandom random = new SplittableRandom(2);
        final Transfer transfer = new Transfer();
        final long total = (long)rate * seconds;
        final long intervalNs = TimeUnit.SECONDS.toNanos(1) / rate;
        final long warmup = Math.min(total / 5, 50_000);
        long allocatedAtWarm = 0;
        long commandsAtWarm = 0;
        final long startNs = System.nanoTime();
        final Progress progress = new Progress(engine, startNs);
        for (long i = 0; i < total; i++)
        {
            if (i == warmup)
            {
                histogram.reset();
                allocatedAtWarm = threads.getThreadAllocatedBytes(business.getId());
                commandsAtWarm = engine.counters().commands();
            }
            final long intendedNs = startNs + i * intervalNs;
            long now;
            while ((now = System.nanoTime()) < intendedNs)
            {
                if (intendedNs - now > 50_000)
                {
                    LockSupport.parkNanos(intendedNs - now - 20_000);
                }
                else
                {
                    Thread.onSpinWait();
                }
            }
            final long commandId = firstCommandId + 1 + i;
            sendTimes[(int)(commandId & (SEND_TIMES - 1))] = intendedNs;
            transfer.set(1 + random.nextInt(accounts), 1 + random.nextInt(accounts), 1 + random.nextInt(100));
            submitUntilTaken(engine, 3, commandId, transfer, handler); // a full ring's wait counts as latency
            if ((i & 1023) == 0)
            {
                progress.maybePrint(i, answered.get(), histogram);
            }
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (answered.get() < total && System.nanoTime() < deadlineNs)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        final long allocated = threads.getThreadAllocatedBytes(business.getId()) - allocatedAtWarm;
        final long commands = engine.counters().commands() - commandsAtWarm;
        progress.done();
        check(answered.get() == total, "ledger: every latency-phase command answered (" + answered.get() + "/" +
            total + ")");
        facts.add(String.format("ledger latency at %,d commands/s (submit -> durable answer, %s fsync): p50 %,d us, " +
            "p90 %,d us, p99 %,d us, p99.9 %,d us, max %,d us (%,d samples after warm-up)", rate, fsync,
            histogram.getValueAtPercentile(50) / 1000, histogram.getValueAtPercentile(90) / 1000,
            histogram.getValueAtPercentile(99) / 1000, histogram.getValueAtPercentile(99.9) / 1000,
            histogram.getMaxValue() / 1000, histogram.getTotalCount()));
        facts.add(String.format("business thread allocated %,d bytes over %,d commands in steady state = %.3f bytes/command " +
            "(includes the demo's own latency callback)", allocated, commands, commands == 0 ? 0.0 : (double)allocated / commands));
    }

    // ------------------------------------------------------------------------------------------------ order book

    private EngineContext bookContext()
    {
        return new EngineContext()
            .domain(OrderBooks.domain())
            .ringSize(1 << 14)
            .idempotencyWindow(1 << 20)
            .idleStrategyName(idle)
            .journalContext(new JournalContext().dir(dir.resolve("orderbook")).durability(fsync));
    }

    private void orderBook() throws Exception
    {
        final int books = 4;
        out.printf("%n== Order book: %d instruments, random limit orders and cancels, %d s%n", books, seconds);
        final Map<Long, String> before = new TreeMap<>();
        try (Engine engine = Engine.launch(bookContext()))
        {
            final Counter answers = new Counter();
            final SplittableRandom random = new SplittableRandom(3);
            final PlaceOrder place = new PlaceOrder();
            final CancelOrder cancel = new CancelOrder();
            final long startNs = System.nanoTime();
            final long endNs = startNs + TimeUnit.SECONDS.toNanos(seconds);
            final Progress progress = new Progress(engine, startNs);
            long commandId = 0;
            while (System.nanoTime() < endNs)
            {
                for (int i = 0; i < 1000; i++)
                {
                    commandId++;
                    final long book = 1 + random.nextInt(books);
                    if (random.nextInt(4) == 0)
                    {
                        submitUntilTaken(engine, 4, commandId, cancel.set(book, 1 + random.nextLong(commandId)), answers);
                    }
                    else
                    {
                        submitUntilTaken(engine, 4, commandId, place.set(book, commandId, random.nextInt(2),
                            990 + random.nextInt(21), 1 + random.nextInt(100)), answers);
                    }
                }
                progress.maybePrint(commandId, answers.count.get(), null);
            }
            answers.awaitCount(commandId);
            final double elapsedS = (System.nanoTime() - startNs) / 1e9;
            progress.done();
            long trades = 0;
            for (long book = 1; book <= books; book++)
            {
                final long id = book;
                before.put(id, engine.query(id, (Aggregate a) -> String.valueOf(a)).get(30, TimeUnit.SECONDS));
                final boolean uncrossed = engine.query(id, (Aggregate a) -> ((OrderBook)a).isUncrossed())
                    .get(30, TimeUnit.SECONDS);
                check(uncrossed, "order book " + id + ": never left crossed (best bid < best ask)");
                trades += engine.query(id, (Aggregate a) -> ((OrderBook)a).tradeCount()).get(30, TimeUnit.SECONDS);
            }
            facts.add(String.format("order book throughput: %,d commands in %.2f s = %,.0f commands/s, %,d trades, " +
                "%,d events", commandId, elapsedS, commandId / elapsedS, trades, engine.counters().events()));
            final long frames = countFrames(engine);
            check(frames == engine.counters().events(), "order book: every event journaled (" + frames + " frames)");
        }
        try (Engine engine = Engine.launch(bookContext()))
        {
            final Map<Long, String> after = new TreeMap<>();
            for (long book = 1; book <= books; book++)
            {
                final long id = book;
                after.put(id, engine.query(id, (Aggregate a) -> String.valueOf(a)).get(30, TimeUnit.SECONDS));
            }
            check(before.equals(after), "order book: recovery (replay of " + engine.counters().replayedEvents() +
                " events) equals the books before the stop");
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private void check(final boolean ok, final String what)
    {
        out.println("  [" + (ok ? "ok" : "FAILED") + "] " + what);
        if (!ok)
        {
            failures.add(what);
        }
    }

    private static void submitUntilTaken(final Engine engine, final long clientId, final long commandId,
        final io.keel.engine.Command command, final ResponseHandler handler)
    {
        Engine.Submit submit;
        long deadlineNs = 0;
        while ((submit = engine.trySubmit(clientId, commandId, command, handler)) != Engine.Submit.SUBMITTED)
        {
            if (submit != Engine.Submit.RING_FULL)
            {
                throw new IllegalStateException("submit refused: " + submit);
            }
            if (0 == deadlineNs)
            {
                deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            }
            else if (System.nanoTime() > deadlineNs)
            {
                throw new IllegalStateException("ring full for 30 s; engine failure: " + engine.failure());
            }
            Thread.yield();
        }
    }

    private static Map<Long, Long> balances(final Engine engine) throws Exception
    {
        return engine.inspect(aggregates ->
        {
            final Map<Long, Long> balances = new TreeMap<>();
            aggregates.forEach((id, aggregate) -> balances.put(id, ((Account)aggregate).balance()));
            return balances;
        }).get(30, TimeUnit.SECONDS);
    }

    /** @return event frames in the journal (not the engine's CommandRejected records of rejections). */
    private static long countFrames(final Engine engine)
    {
        final long[] frames = new long[1];
        try (JournalReader reader = engine.journal().reader(engine.journal().startPosition()))
        {
            while (reader.poll(frame ->
            {
                if (frame.type() != io.keel.engine.CommandRejected.TYPE_ID)
                {
                    frames[0]++;
                }
            }, 65_536) > 0)
            {
                // count every event frame
            }
        }
        return frames[0];
    }

    private static Thread findThread(final String name)
    {
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            if (thread.getName().equals(name))
            {
                return thread;
            }
        }
        throw new IllegalStateException("no thread named " + name);
    }

    private static void deleteRecursively(final Path dir)
    {
        try (var files = Files.walk(dir))
        {
            files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(file -> file.toFile().delete());
        }
        catch (final IOException ignore)
        {
            // a temp dir left behind is harmless
        }
    }

    /**
     * Counts answers; the count is written by the business thread only.
     */
    private static final class Counter implements ResponseHandler
    {
        final AtomicLong count = new AtomicLong();
        final AtomicLong rejected = new AtomicLong();

        @Override
        public void onResponse(final CommandResult result)
        {
            if (result.status() != CommandResult.Status.ACCEPTED)
            {
                rejected.lazySet(rejected.get() + 1);
            }
            count.lazySet(count.get() + 1);
        }

        void awaitCount(final long expected)
        {
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (count.get() < expected)
            {
                if (System.nanoTime() > deadlineNs)
                {
                    throw new IllegalStateException("only " + count.get() + " of " + expected + " answers in 60 s");
                }
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
            }
        }
    }

    /**
     * The live progress line, at most a few times a second.
     */
    private final class Progress
    {
        private final Engine engine;
        private final long startNs;
        private long lastPrintNs;

        Progress(final Engine engine, final long startNs)
        {
            this.engine = engine;
            this.startNs = startNs;
        }

        void maybePrint(final long sent, final long answered, final Histogram histogram)
        {
            final long now = System.nanoTime();
            if (now - lastPrintNs < TimeUnit.MILLISECONDS.toNanos(250))
            {
                return;
            }
            lastPrintNs = now;
            final double elapsedS = Math.max(1e-9, (now - startNs) / 1e9);
            out.printf("\r  %5.1f s  sent %,12d  answered %,12d  %,10.0f cmd/s  ring-full %,d  journal %,d B%s   ",
                elapsedS, sent, answered, answered / elapsedS, engine.counters().ringFull(),
                engine.counters().durablePosition(), null == histogram || histogram.getTotalCount() == 0 ? "" :
                    String.format("  p99 %,d us", histogram.getValueAtPercentile(99) / 1000));
            out.flush();
        }

        void done()
        {
            out.println();
        }
    }
}
