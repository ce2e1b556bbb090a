package io.keel.cli;

import io.keel.engine.CommandResult;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.examples.ledger.Account;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.examples.ledger.Transfer;
import io.keel.gateway.client.KeelClient;
import io.keel.gateway.client.Response;
import io.keel.gateway.client.ResponseListener;
import io.keel.gateway.protocol.ErrorCode;
import net.openhft.chronicle.bytes.Bytes;
import org.HdrHistogram.Histogram;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code keel bank}: ledger load through the gateway at a fixed rate, writing the history of every finished
 * command, then reading balances back to check that money was conserved.
 */
@Command(
    name = "bank",
    mixinStandardHelpOptions = true,
    description = {
        "Open N accounts, then send random transfers between them at a fixed rate (open loop) for a duration.",
        "History: one line per finished command: '<clientId>:<commandId> OK', '... REJECTED <reason>', or",
        "'... UNKNOWN <why>' when the outcome was never learned (never written as OK).",
        "Checks (exit 1 when one fails): total balance conserved, no negative balance, and, when every outcome",
        "is known, each account's balance equals what the history implies. The accounts must be this run's alone."
    })
public final class BankCommand implements Callable<Integer>
{
    @Option(names = "--members", required = true, paramLabel = "LIST", description = "id=host:clientPort[:replPort],...")
    String members;

    @Option(names = "--accounts", defaultValue = "10", description = "accounts (default ${DEFAULT-VALUE})")
    int accounts;

    @Option(names = "--first-account", defaultValue = "1", description = "first account id (default ${DEFAULT-VALUE})")
    long firstAccount;

    @Option(names = "--initial-balance", defaultValue = "1000000", description = "balance of each new account")
    long initialBalance;

    @Option(names = "--rate", defaultValue = "1000", description = "transfers per second (default ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--duration", defaultValue = "10s", description = "how long: 30s, 500ms, 2m (default ${DEFAULT-VALUE})")
    String duration;

    @Option(names = "--history", required = true, paramLabel = "FILE", description = "history file to write")
    Path history;

    @Option(names = "--client-id", defaultValue = "1", description = "client id (default ${DEFAULT-VALUE})")
    long clientId;

    @Option(names = "--secret", description = "secret for nodes started with --credentials")
    String secret;

    @Option(names = "--window", defaultValue = "256", description = "commands in flight at most (default ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--timeout", defaultValue = "10s", description = "give up on a command after this (default ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--aeron-dir", paramLabel = "D", description = "external media driver; default embeds one")
    String aeronDir;

    @Option(names = "--idle", defaultValue = "yield", paramLabel = "yield|backoff|spin", description = "idle strategy")
    String idle;

    private IdleStrategy idleStrategy;

    private final StringBuilder line = new StringBuilder(128);
    private BufferedWriter out;
    private final TreeMap<String, Long> rejections = new TreeMap<>();
    private final Long2LongHashMap transferFrom = new Long2LongHashMap(-1);
    private final Long2LongHashMap transferTo = new Long2LongHashMap(-1);
    private final Long2LongHashMap transferAmount = new Long2LongHashMap(-1);
    private long[] delta;
    private long ok;
    private long rejected;
    private long unknown;
    private long refused;
    private final Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);

    static long parseDurationNs(final String text)
    {
        final String t = text.trim().toLowerCase();
        if (t.endsWith("ms"))
        {
            return TimeUnit.MILLISECONDS.toNanos(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        if (t.endsWith("s"))
        {
            return TimeUnit.SECONDS.toNanos(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        if (t.endsWith("m"))
        {
            return TimeUnit.MINUTES.toNanos(Long.parseLong(t.substring(0, t.length() - 1)));
        }
        return TimeUnit.SECONDS.toNanos(Long.parseLong(t));
    }

    @Override
    public Integer call() throws Exception
    {
        if (accounts < 2 || accounts > 1_000_000 || rate < 1 || rate > 10_000_000 || firstAccount < 1)
        {
            System.err.println("keel bank: --accounts must be in [2, 1e6], --rate in [1, 1e7], --first-account >= 1");
            return 2;
        }
        final long durationNs = parseDurationNs(duration);
        final long timeoutNs = parseDurationNs(timeout);
        delta = new long[accounts];
        final KeelClient client;
        try
        {
            client = KeelClient.connect(new KeelClient.Context()
                .members(members)
                .clientId(clientId)
                .secret(secret)
                .aeronDirectoryName(aeronDir)
                .commandCodecs(Ledger.domain().commands())
                .maxInFlight(window)
                .commandTimeoutNs(timeoutNs)
                .maxAttempts(1000) // through failovers: NO_STANDBY and redirects are retried until the timeout
                .idle(idle)
                .ownThread(false));
        }
        catch (final RuntimeException ex)
        {
            System.err.println("keel bank: cannot connect: " + ex.getMessage());
            return 2;
        }
        try (KeelClient c = client; BufferedWriter writer = Files.newBufferedWriter(history, StandardCharsets.UTF_8))
        {
            out = writer;
            return run(c, durationNs, timeoutNs);
        }
    }

    private int run(final KeelClient client, final long durationNs, final long timeoutNs) throws Exception
    {
        idleStrategy = EngineContext.idleStrategy("spin".equals(idle) ? "busy-spin" : idle);
        final Listener listener = new Listener();
        // 1. open the accounts (ACCOUNT_EXISTS is fine: a rerun on the same node)
        final OpenAccount open = new OpenAccount();
        for (int i = 0; i < accounts; i++)
        {
            open.set(firstAccount + i, initialBalance);
            final long commandId = client.nextCommandId();
            while (!client.trySubmit(commandId, open, listener))
            {
                idleStrategy.idle(client.poll());
            }
        }
        drain(client, timeoutNs);
        // 2. read balances before
        final long[] before = readBalances(client);
        if (null == before)
        {
            System.err.println("keel bank: cannot read balances (the client needs the 'query' permission)");
            return 1;
        }
        final long totalBefore = sum(before);
        // 3. transfers at the rate, open loop: latency is measured from each command's intended send time
        final SplittableRandom random = new SplittableRandom(clientId * 31 + System.nanoTime());
        final Transfer transfer = new Transfer();
        final UnsafeBuffer encoded = new UnsafeBuffer(new byte[64]);
        final Bytes<byte[]> scratch = Bytes.allocateElasticOnHeap(64);
        final long intervalNs = TimeUnit.SECONDS.toNanos(1) / rate;
        final long startNs = System.nanoTime();
        final long endNs = startNs + durationNs;
        long sent = 0;
        long nextProgressNs = startNs + TimeUnit.SECONDS.toNanos(1);
        // the loop waits with the idle strategy when it has nothing to send or receive: a loop spinning with no
        // idle keeps its core for a whole scheduler slice and starves the threads that carry its messages
        while (true)
        {
            int work = 0;
            final long nowNs = System.nanoTime();
            final long intendedNs = startNs + sent * intervalNs;
            if (intendedNs >= endNs || nowNs >= endNs)
            {
                // the run is bounded by time: when the node takes nothing (window full, no primary), commands due
                // after the end are not sent, rather than the loop waiting for them forever
                break;
            }
            if (nowNs >= intendedNs)
            {
                final int from = random.nextInt(accounts);
                int to = random.nextInt(accounts - 1);
                to = to >= from ? to + 1 : to;
                final long amount = 1 + random.nextInt(100);
                transfer.set(firstAccount + from, firstAccount + to, amount);
                scratch.clear();
                transfer.writeMarshallable(scratch);
                final int length = (int)scratch.writePosition();
                encoded.putBytes(0, scratch.underlyingObject(), 0, length);
                final long commandId = client.nextCommandId();
                listener.intendedNs = intendedNs;
                if (client.trySubmit(commandId, Ledger.TRANSFER, encoded, 0, length, 0, Engine.ANY_VERSION, listener))
                {
                    transferFrom.put(commandId, from);
                    transferTo.put(commandId, to);
                    transferAmount.put(commandId, amount);
                    listener.intendedByCommand.put(commandId, intendedNs);
                    sent++;
                    work++;
                }
            }
            work += client.poll();
            if (nowNs >= nextProgressNs)
            {
                nextProgressNs += TimeUnit.SECONDS.toNanos(1);
                final io.keel.gateway.Member member = client.member();
                System.out.printf("keel bank: %,d sent, %,d ok, %,d rejected, %,d unknown, in flight %d, p99 %.1f us " +
                    "(%s member %s; sessions %d, %d through a watch)%n", sent, ok, rejected, unknown,
                    client.inFlight(), latency.getValueAtPercentile(99) / 1000.0,
                    client.isConnected() ? "connected to" : "connecting, last", null == member ? "-" : member.id(),
                    client.connects(), client.watchTakeovers());
            }
            idleStrategy.idle(work);
        }
        final long sendEndNs = System.nanoTime();
        drain(client, timeoutNs);
        // 4. read balances after and check
        final long[] after = readBalances(client);
        out.flush();
        int exit = 0;
        if (null == after)
        {
            System.err.println("keel bank: CHECK FAILED: cannot read balances back");
            return 1;
        }
        final long totalAfter = sum(after);
        if (totalAfter != totalBefore)
        {
            System.err.println("keel bank: CHECK FAILED: total balance " + totalAfter + " != " + totalBefore);
            exit = 1;
        }
        for (int i = 0; i < accounts; i++)
        {
            if (after[i] < 0)
            {
                System.err.println("keel bank: CHECK FAILED: account " + (firstAccount + i) + " balance " + after[i]);
                exit = 1;
            }
            if (0 == unknown && after[i] != before[i] + delta[i])
            {
                System.err.println("keel bank: CHECK FAILED: account " + (firstAccount + i) + " balance " + after[i] +
                    ", history implies " + (before[i] + delta[i]));
                exit = 1;
            }
        }
        final double seconds = (sendEndNs - startNs) / 1e9;
        System.out.printf("keel bank: %,d transfers in %.1f s (%.0f/s): %,d ok (opens included), %,d rejected %s, %,d unknown, " +
            "%,d refused%n", sent, seconds, sent / seconds, ok, rejected, rejections, unknown, refused);
        System.out.printf("keel bank: latency from intended send time (us): p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f " +
            "max %.1f%n", latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(90) / 1000.0,
            latency.getValueAtPercentile(99) / 1000.0, latency.getValueAtPercentile(99.9) / 1000.0,
            latency.getMaxValue() / 1000.0);
        System.out.println("keel bank: total balance " + totalAfter + (exit == 0 ? " conserved: OK" : ""));
        return exit;
    }

    private void drain(final KeelClient client, final long timeoutNs)
    {
        final long deadlineNs = System.nanoTime() + timeoutNs + TimeUnit.SECONDS.toNanos(5);
        while (client.inFlight() > 0 && System.nanoTime() < deadlineNs)
        {
            idleStrategy.idle(client.poll());
        }
    }

    private long[] readBalances(final KeelClient client) throws Exception
    {
        final long[] balances = new long[accounts];
        final java.util.List<java.util.concurrent.CompletableFuture<Account>> futures = new java.util.ArrayList<>();
        for (int i = 0; i < accounts; i++)
        {
            futures.add(client.query(firstAccount + i, new Account()));
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (int i = 0; i < accounts; i++)
        {
            while (!futures.get(i).isDone() && System.nanoTime() < deadlineNs)
            {
                idleStrategy.idle(client.poll());
            }
            if (!futures.get(i).isDone() || futures.get(i).isCompletedExceptionally())
            {
                return null;
            }
            final Account account = futures.get(i).get();
            balances[i] = null == account ? 0 : account.balance();
        }
        return balances;
    }

    private static long sum(final long[] values)
    {
        long total = 0;
        for (final long value : values)
        {
            total += value;
        }
        return total;
    }

    private void write(final long commandId, final String outcome, final CharSequence reason)
    {
        line.setLength(0);
        line.append(clientId).append(':').append(commandId).append(' ').append(outcome);
        if (null != reason)
        {
            line.append(' ').append(reason);
        }
        line.append('\n');
        try
        {
            out.append(line);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private final class Listener implements ResponseListener
    {
        final Long2LongHashMap intendedByCommand = new Long2LongHashMap(-1);
        long intendedNs;
        final StringBuilder reason = new StringBuilder();

        @Override
        public void onResponse(final Response response)
        {
            final long commandId = response.commandId();
            recordLatency(commandId);
            if (response.accepted())
            {
                ok++;
                write(commandId, "OK", null);
                final long from = transferFrom.remove(commandId);
                if (from >= 0)
                {
                    final long amount = transferAmount.get(commandId);
                    delta[(int)from] -= amount;
                    delta[(int)transferTo.get(commandId)] += amount;
                }
            }
            else if (response.status() == CommandResult.Status.FAILED)
            {
                // FAILED: the handler threw, or the engine stopped before the outcome was durable ("outcome
                // unknown"); the command may be in the journal, so it is never written as OK or REJECTED
                unknown++;
                reason.setLength(0);
                response.appendDetail(reason);
                write(commandId, "UNKNOWN", reason);
                transferFrom.remove(commandId);
            }
            else
            {
                rejected++;
                reason.setLength(0);
                response.appendDetail(reason);
                rejections.merge(reason.toString(), 1L, Long::sum);
                write(commandId, "REJECTED", reason);
                transferFrom.remove(commandId);
            }
            transferTo.remove(commandId);
            transferAmount.remove(commandId);
        }

        @Override
        public void onFailure(final long commandId, final ErrorCode code, final boolean outcomeUnknown)
        {
            recordLatency(commandId);
            if (outcomeUnknown)
            {
                unknown++;
                write(commandId, "UNKNOWN", code.name());
            }
            else
            {
                refused++;
                write(commandId, "REJECTED", code.name());
            }
            transferFrom.remove(commandId);
            transferTo.remove(commandId);
            transferAmount.remove(commandId);
        }

        private void recordLatency(final long commandId)
        {
            final long intended = intendedByCommand.remove(commandId);
            if (intended > 0)
            {
                latency.recordValue(Math.min(latency.getHighestTrackableValue(), System.nanoTime() - intended));
            }
        }
    }
}
