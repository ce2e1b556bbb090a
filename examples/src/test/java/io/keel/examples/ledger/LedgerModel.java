package io.keel.examples.ledger;

import io.keel.engine.Command;
import io.keel.engine.CommandOutcome;
import io.keel.engine.Rejection;

import java.util.Map;
import java.util.TreeMap;

/**
 * The ledger's rules written the obvious way, to check the engine against.
 */
final class LedgerModel
{
    final Map<Long, Long> balances = new TreeMap<>();

    /**
     * Apply a command and say what the engine should answer (null rejection = accepted).
     */
    Rejection apply(final Command command)
    {
        if (command instanceof OpenAccount open)
        {
            if (open.account <= 0 || open.initialBalance < 0)
            {
                return Ledger.INVALID_AMOUNT;
            }
            if (balances.containsKey(open.account))
            {
                return Ledger.ACCOUNT_EXISTS;
            }
            balances.put(open.account, open.initialBalance);
            return null;
        }
        if (command instanceof Deposit deposit)
        {
            final Long balance = balances.get(deposit.account);
            if (null == balance)
            {
                return Ledger.UNKNOWN_ACCOUNT;
            }
            if (deposit.amount <= 0)
            {
                return Ledger.INVALID_AMOUNT;
            }
            balances.put(deposit.account, balance + deposit.amount);
            return null;
        }
        if (command instanceof Withdraw withdraw)
        {
            final Long balance = balances.get(withdraw.account);
            if (null == balance)
            {
                return Ledger.UNKNOWN_ACCOUNT;
            }
            if (withdraw.amount <= 0)
            {
                return Ledger.INVALID_AMOUNT;
            }
            if (balance < withdraw.amount)
            {
                return Ledger.INSUFFICIENT_FUNDS;
            }
            balances.put(withdraw.account, balance - withdraw.amount);
            return null;
        }
        final Transfer transfer = (Transfer)command;
        final Long from = balances.get(transfer.from);
        final Long to = balances.get(transfer.to);
        if (null == from || null == to)
        {
            return Ledger.UNKNOWN_ACCOUNT;
        }
        if (transfer.from == transfer.to)
        {
            return Ledger.SAME_ACCOUNT;
        }
        if (transfer.amount <= 0)
        {
            return Ledger.INVALID_AMOUNT;
        }
        if (from < transfer.amount)
        {
            return Ledger.INSUFFICIENT_FUNDS;
        }
        balances.put(transfer.from, from - transfer.amount);
        balances.put(transfer.to, to + transfer.amount);
        return null;
    }

    static boolean matches(final Rejection expected, final CommandOutcome actual)
    {
        return null == expected ? actual instanceof CommandOutcome.Accepted :
            actual instanceof CommandOutcome.Rejected r && r.reason() == expected;
    }
}
