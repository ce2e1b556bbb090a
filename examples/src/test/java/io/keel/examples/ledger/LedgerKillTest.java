package io.keel.examples.ledger;

import io.keel.engine.CommandOutcome;
import io.keel.engine.CommandRejected;
import io.keel.engine.Engine;
import io.keel.engine.EventCodecs;
import io.keel.journal.JournalFrame;
import io.keel.journal.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.keel.examples.ledger.LedgerTestSupport.await;
import static io.keel.examples.ledger.LedgerTestSupport.awaitCondition;
import static io.keel.examples.ledger.LedgerTestSupport.balances;
import static io.keel.examples.ledger.LedgerTestSupport.context;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 of a child JVM in the middle of a load: every command it acknowledged is in the recovered state, and
 * the recovered state equals the journal's events folded from scratch.
 */
class LedgerKillTest
{
    private static final int ACKS_BEFORE_KILL = 3_000;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedCommandSurvivesKillDashNine() throws Exception
    {
        final Map<Long, String> acks = new ConcurrentHashMap<>();
        final AtomicBoolean ready = new AtomicBoolean();
        final Process child = startChild();
        final Thread pump = new Thread(() ->
        {
            try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = reader.readLine()) != null)
                {
                    if (line.startsWith("ACK "))
                    {
                        final String[] parts = line.split(" ", 3);
                        acks.put(Long.parseLong(parts[1]), parts[2]);
                    }
                    else if (line.equals("READY"))
                    {
                        ready.set(true);
                    }
                }
            }
            catch (final Exception ignore)
            {
                // the child was killed: its stdout closes
            }
        }, "child-stdout");
        pump.setDaemon(true);
        pump.start();
        try
        {
            awaitCondition("child acknowledges " + ACKS_BEFORE_KILL + " commands",
                () -> acks.size() >= ACKS_BEFORE_KILL || !child.isAlive());
            assertTrue(child.isAlive(), "child died on its own (exit " + (child.isAlive() ? "" : child.exitValue()) + ")");
        }
        finally
        {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            pump.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertTrue(ready.get());
        System.out.println("child killed after " + acks.size() + " acknowledged commands");

        try (Engine engine = Engine.launch(context(dir)))
        {
            final Map<Long, Long> recovered = balances(engine);
            assertEquals(LedgerLoadChild.ACCOUNTS * LedgerLoadChild.INITIAL_BALANCE,
                recovered.values().stream().mapToLong(Long::longValue).sum(), "money is conserved");
            assertEquals(fold(engine), recovered, "recovered state = the journal's events folded from scratch");

            int checked = 0;
            for (final Map.Entry<Long, String> ack : new TreeMap<>(acks).entrySet())
            {
                if (!ack.getValue().equals("ACCEPTED"))
                {
                    continue;
                }
                // a retry of an acknowledged command must be recognised, never applied again
                final CommandOutcome outcome = await(engine.submit(LedgerLoadChild.CLIENT_ID, ack.getKey(),
                    new Deposit().set(1, 1_000_000)));
                assertTrue(outcome instanceof CommandOutcome.Accepted && outcome.duplicate(),
                    "acknowledged command " + ack.getKey() + " lost: retry answered " + outcome);
                checked++;
            }
            assertTrue(checked > ACKS_BEFORE_KILL / 2, "checked " + checked);

            // a retry of an answered rejection gets the original rejection, even when it would now be accepted (a
            // deposit to an open account), whether the rejection was decided before or after the last snapshot
            int rejections = 0;
            for (final Map.Entry<Long, String> ack : new TreeMap<>(acks).entrySet())
            {
                if (!ack.getValue().startsWith("REJECTED"))
                {
                    continue;
                }
                final CommandOutcome outcome = await(engine.submit(LedgerLoadChild.CLIENT_ID, ack.getKey(),
                    new Deposit().set(1, 1_000_000)));
                assertTrue(outcome instanceof CommandOutcome.Rejected && outcome.duplicate() &&
                    ack.getValue().equals("REJECTED " + ((CommandOutcome.Rejected)outcome).reason()),
                    "rejected command " + ack.getKey() + " (" + ack.getValue() + ") decided again: retry answered " +
                    outcome);
                rejections++;
            }
            assertTrue(rejections > 0, "the load had rejections to retry");
            System.out.println("retried " + checked + " acknowledged and " + rejections + " rejected commands");
            assertEquals(recovered, balances(engine), "retries changed nothing");
        }
    }

    private static Map<Long, Long> fold(final Engine engine)
    {
        final EventCodecs codecs = engine.eventCodecs();
        final Map<Long, Account> accounts = new HashMap<>();
        try (JournalReader reader = engine.journal().reader(engine.journal().startPosition()))
        {
            while (reader.poll((JournalFrame frame) ->
            {
                if (frame.type() == CommandRejected.TYPE_ID)
                {
                    return; // the outcome of a rejected command: no state
                }
                final byte[] payload = new byte[frame.payloadLength()];
                frame.buffer().getBytes(frame.payloadOffset(), payload);
                accounts.computeIfAbsent(frame.streamId(), id -> new Account())
                    .apply(codecs.decode(frame.type(), payload));
            }, 1000) > 0)
            {
                // fold every committed frame
            }
        }
        final Map<Long, Long> balances = new TreeMap<>();
        accounts.forEach((id, account) -> balances.put(id, account.balance()));
        return balances;
    }

    private Process startChild() throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        final String flags = System.getProperty("keel.jvm.flags", "");
        for (final String flag : flags.trim().split("\\s+"))
        {
            if (!flag.isEmpty())
            {
                command.add(flag);
            }
        }
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(LedgerLoadChild.class.getName());
        command.add(dir.toString());
        return new ProcessBuilder(command)
            .redirectError(dir.resolve("child-stderr.txt").toFile())
            .directory(new File(System.getProperty("user.dir")))
            .start();
    }
}
