package io.keel.examples.ledger;

import io.keel.engine.Command;
import io.keel.engine.CommandOutcome;
import io.keel.engine.Engine;
import io.keel.engine.Rejection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static io.keel.examples.ledger.LedgerTestSupport.await;
import static io.keel.examples.ledger.LedgerTestSupport.balances;
import static io.keel.examples.ledger.LedgerTestSupport.context;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random ledger commands (including retries, restarts and snapshots) against {@link LedgerModel}: every answer
 * and the final balances must match. The seed is printed on failure; rerun one with -Dkeel.test.seed=N.
 */
class LedgerPropertyTest
{
    private static final int ACCOUNTS = 12;
    private static final int COMMANDS = 3000;

    @TempDir
    Path dir;

    @Test
    void randomLedgerCommandsMatchTheModel()
    {
        final long seed = Long.getLong("keel.test.seed", System.nanoTime());
        try
        {
            runWithSeed(seed);
        }
        catch (final Throwable ex)
        {
            fail("property test failed with seed " + seed + " (rerun with -Dkeel.test.seed=" + seed + "): " + ex, ex);
        }
    }

    private void runWithSeed(final long seed)
    {
        final Random random = new Random(seed);
        final LedgerModel model = new LedgerModel();
        final Map<Long, Rejection> outcomes = new HashMap<>(); // commandId -> expected rejection (null = accepted)
        final Map<Long, Command> sent = new HashMap<>();
        final List<Long> ids = new ArrayList<>();
        final long clientId = 77;

        Engine engine = Engine.launch(context(dir).snapshotRetainCount(2).snapshotOnClose(random.nextBoolean()));
        try
        {
            long commandId = 0;
            while (commandId < COMMANDS)
            {
                final int dice = random.nextInt(100);
                if (dice < 2)
                {
                    // with or without a snapshot: rejections are journaled, so nothing is forgotten
                    engine.close();
                    engine = Engine.launch(context(dir).snapshotRetainCount(2).snapshotOnClose(random.nextBoolean()));
                    continue;
                }
                if (dice < 4)
                {
                    await(engine.snapshot());
                    continue;
                }
                if (dice < 15 && !ids.isEmpty())
                {
                    final long retried = ids.get(random.nextInt(ids.size()));
                    final CommandOutcome outcome = await(engine.submit(clientId, retried, sent.get(retried)));
                    // accepted or rejected, before or after the last snapshot and restart: the original answer
                    assertTrue(outcome.duplicate(), "retry of " + retried + " not recognised: " + outcome);
                    assertTrue(LedgerModel.matches(outcomes.get(retried), outcome),
                        "retry of " + retried + " answered " + outcome + ", first answer was " + outcomes.get(retried));
                    continue;
                }
                commandId++;
                final Command command = randomCommand(random);
                final Rejection expected = model.apply(command);
                final CommandOutcome outcome = await(engine.submit(clientId, commandId, command));
                assertTrue(LedgerModel.matches(expected, outcome),
                    "command " + commandId + " " + command + ": expected " + (null == expected ? "accepted" : expected) +
                    " got " + outcome);
                outcomes.put(commandId, expected);
                sent.put(commandId, command);
                ids.add(commandId);
            }
            assertEquals(model.balances, balances(engine));
            final long total = model.balances.values().stream().mapToLong(Long::longValue).sum();
            engine.close();
            engine = Engine.launch(context(dir));
            assertEquals(model.balances, balances(engine), "after restart");
            assertEquals(total, balances(engine).values().stream().mapToLong(Long::longValue).sum());
        }
        finally
        {
            engine.close();
        }
    }

    private static Command randomCommand(final Random random)
    {
        final long account = 1 + random.nextInt(ACCOUNTS + 2); // a few never opened
        final long amount = random.nextInt(10) == 0 ? -random.nextInt(5) : random.nextInt(500);
        switch (random.nextInt(8))
        {
            case 0:
                return new OpenAccount().set(account, Math.abs(amount) * 3);
            case 1:
            case 2:
                return new Deposit().set(account, amount);
            case 3:
            case 4:
                return new Withdraw().set(account, amount);
            default:
                return new Transfer().set(account, 1 + random.nextInt(ACCOUNTS + 2), amount);
        }
    }
}
