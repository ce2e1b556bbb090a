package io.keel.examples.ledger;

import io.keel.engine.Aggregate;
import io.keel.engine.Event;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * One account: its stream id is the account id. Changed only by its events.
 */
public final class Account implements Aggregate
{
    private long id;
    private long balance;

    /** @return account id. */
    public long id()
    {
        return id;
    }

    /** @return balance in minor units. */
    public long balance()
    {
        return balance;
    }

    @Override
    public void apply(final Event event)
    {
        if (event instanceof AccountOpened opened)
        {
            id = opened.account;
            balance = opened.initialBalance;
        }
        else if (event instanceof Deposited deposited)
        {
            balance += deposited.amount;
        }
        else if (event instanceof Withdrawn withdrawn)
        {
            balance -= withdrawn.amount;
        }
        else if (event instanceof Debited debited)
        {
            balance -= debited.amount;
        }
        else if (event instanceof Credited credited)
        {
            balance += credited.amount;
        }
        else
        {
            throw new IllegalArgumentException("account " + id + " cannot apply " + event.getClass().getSimpleName());
        }
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(id);
        out.writeStopBit(balance);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        id = in.readStopBit();
        balance = in.readStopBit();
    }

    @Override
    public String toString()
    {
        return "Account{id=" + id + ", balance=" + balance + "}";
    }
}
