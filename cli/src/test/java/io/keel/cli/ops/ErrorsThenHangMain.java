package io.keel.cli.ops;

import io.keel.engine.CommandHandler;
import io.keel.engine.Domain;
import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.KeelNode;
import io.keel.gateway.Member;
import io.keel.journal.DurabilityPolicy;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A child JVM for {@link OpsProcessTest}: a node whose ledger throws for deposits of 13; it takes an account, 50
 * deposits and 3 unlucky ones, prints "recorded", then waits to be killed.
 */
public final class ErrorsThenHangMain
{
    private ErrorsThenHangMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Domain domain = Ledger.domain();
        final CommandHandler ledger = domain.handler();
        domain.handler((command, decision) ->
        {
            if (command instanceof Deposit && ((Deposit)command).amount == 13)
            {
                throw new IllegalStateException("unlucky deposit of 13");
            }
            ledger.handle(command, decision);
        });
        final KeelNode node = KeelNode.launch(new KeelNode.Context().members(Member.parseList(args[0])).memberId(0)
            .dir(Path.of(args[1])).domain(domain).fsync(DurabilityPolicy.NONE));
        node.engine().submit(1, 1, new OpenAccount().set(1, 0)).get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 50; i++)
        {
            node.engine().submit(1, 100 + i, new Deposit().set(1, 1)).get(10, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 3; i++)
        {
            node.engine().submit(1, 200 + i, new Deposit().set(1, 13)).get(10, TimeUnit.SECONDS);
        }
        System.out.println("recorded");
        System.out.flush();
        while (true)
        {
            LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
        }
    }
}
