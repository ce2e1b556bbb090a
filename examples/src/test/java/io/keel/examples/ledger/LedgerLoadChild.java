package io.keel.examples.ledger;

import io.keel.engine.CommandResult;
import io.keel.engine.Engine;
import io.keel.engine.ResponseHandler;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Random;

/**
 * Child process for {@link LedgerKillTest}: opens accounts, then sends transfers as fast as the ring takes
 * them, printing {@code ACK <commandId> <status>} for each answer (answers are released only once durable),
 * until it is killed.
 */
public final class LedgerLoadChild
{
    static final int ACCOUNTS = 50;
    static final long INITIAL_BALANCE = 1_000;
    static final long CLIENT_ID = 5;
    static final long MAX_LIFETIME_NS = java.util.concurrent.TimeUnit.SECONDS.toNanos(120);

    private LedgerLoadChild()
    {
    }

    /**
     * @param args the directory to keep the journal in.
     */
    public static void main(final String[] args)
    {
        final long startNs = System.nanoTime();
        final PrintStream out = System.out;
        final Engine engine = Engine.launch(LedgerTestSupport.context(Path.of(args[0])).snapshotEveryEvents(2_000));
        final ResponseHandler handler = result ->
            out.println("ACK " + result.commandId() + " " + result.status() +
                (result.status() == CommandResult.Status.REJECTED ? " " + result.rejection() : ""));
        long commandId = 0;
        final OpenAccount open = new OpenAccount();
        for (int account = 1; account <= ACCOUNTS; account++)
        {
            commandId++;
            while (engine.trySubmit(CLIENT_ID, commandId, open.set(account, INITIAL_BALANCE), handler) !=
                Engine.Submit.SUBMITTED && System.nanoTime() < startNs + MAX_LIFETIME_NS)
            {
                Thread.yield();
            }
        }
        out.println("READY");
        final Random random = new Random(11);
        final Transfer transfer = new Transfer();
        final long endNs = System.nanoTime() + MAX_LIFETIME_NS; // should the parent vanish without killing us
        while (System.nanoTime() < endNs)
        {
            commandId++;
            transfer.set(1 + random.nextInt(ACCOUNTS), 1 + random.nextInt(ACCOUNTS), 1 + random.nextInt(200));
            while (engine.trySubmit(CLIENT_ID, commandId, transfer, handler) != Engine.Submit.SUBMITTED &&
                System.nanoTime() < endNs)
            {
                Thread.yield();
            }
        }
        System.exit(3);
    }
}
