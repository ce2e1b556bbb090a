package io.keel.examples.ledger;

import io.keel.engine.Event;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * An account was opened (the first event of its stream).
 */
public final class AccountOpened extends Event
{
    /** account. */
    public long account;
    /** initial balance. */
    public long initialBalance;

    /**
     * Fill every field (instances are reused).
     *
     * @param account account.
     * @param initialBalance initial balance.
     * @return this.
     */
    public AccountOpened set(final long account, final long initialBalance)
    {
        this.account = account;
        this.initialBalance = initialBalance;
        return this;
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(account);
        out.writeStopBit(initialBalance);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        account = in.readStopBit();
        initialBalance = in.readStopBit();
    }
}
