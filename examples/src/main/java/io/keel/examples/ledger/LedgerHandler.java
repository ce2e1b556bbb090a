package io.keel.examples.ledger;

import io.keel.engine.Command;
import io.keel.engine.CommandHandler;
import io.keel.engine.Decision;

/**
 * Decides ledger commands. Keeps one instance of each event and fills it before emitting: no allocation.
 */
public final class LedgerHandler implements CommandHandler
{
    private final AccountOpened opened = new AccountOpened();
    private final Deposited deposited = new Deposited();
    private final Withdrawn withdrawn = new Withdrawn();
    private final Debited debited = new Debited();
    private final Credited credited = new Credited();

    @Override
    public void handle(final Command command, final Decision decision)
    {
        if (command instanceof Transfer transfer)
        {
            transfer(transfer, decision);
        }
        else if (command instanceof Deposit deposit)
        {
            final Account account = decision.aggregate(deposit.account);
            if (null == account)
            {
                decision.reject(Ledger.UNKNOWN_ACCOUNT);
            }
            else if (deposit.amount <= 0 || account.balance() > Long.MAX_VALUE - deposit.amount)
            {
                decision.reject(Ledger.INVALID_AMOUNT);
            }
            else
            {
                decision.emit(deposit.account, deposited.set(deposit.account, deposit.amount));
            }
        }
        else if (command instanceof Withdraw withdraw)
        {
            final Account account = decision.aggregate(withdraw.account);
            if (null == account)
            {
                decision.reject(Ledger.UNKNOWN_ACCOUNT);
            }
            else if (withdraw.amount <= 0)
            {
                decision.reject(Ledger.INVALID_AMOUNT);
            }
            else if (account.balance() < withdraw.amount)
            {
                decision.reject(Ledger.INSUFFICIENT_FUNDS);
            }
            else
            {
                decision.emit(withdraw.account, withdrawn.set(withdraw.account, withdraw.amount));
            }
        }
        else if (command instanceof OpenAccount open)
        {
            if (open.account <= 0 || open.initialBalance < 0)
            {
                decision.reject(Ledger.INVALID_AMOUNT);
            }
            else if (null != decision.aggregate(open.account))
            {
                decision.reject(Ledger.ACCOUNT_EXISTS);
            }
            else
            {
                decision.emit(open.account, opened.set(open.account, open.initialBalance));
            }
        }
        else
        {
            throw new IllegalArgumentException("ledger cannot handle " + command.getClass().getSimpleName());
        }
    }

    private void transfer(final Transfer transfer, final Decision decision)
    {
        final Account from = decision.aggregate(transfer.from);
        final Account to = decision.aggregate(transfer.to);
        if (null == from || null == to)
        {
            decision.reject(Ledger.UNKNOWN_ACCOUNT);
        }
        else if (transfer.from == transfer.to)
        {
            decision.reject(Ledger.SAME_ACCOUNT);
        }
        else if (transfer.amount <= 0 || to.balance() > Long.MAX_VALUE - transfer.amount)
        {
            decision.reject(Ledger.INVALID_AMOUNT);
        }
        else if (from.balance() < transfer.amount)
        {
            decision.reject(Ledger.INSUFFICIENT_FUNDS);
        }
        else
        {
            final long transferId = decision.commandId();
            decision.emit(transfer.from, debited.set(transfer.from, transfer.amount, transferId));
            decision.emit(transfer.to, credited.set(transfer.to, transfer.amount, transferId));
        }
    }
}
