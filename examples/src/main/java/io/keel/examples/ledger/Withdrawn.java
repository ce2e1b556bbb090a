package io.keel.examples.ledger;

import io.keel.engine.Event;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * Money was taken from an account.
 */
public final class Withdrawn extends Event
{
    /** account. */
    public long account;
    /** amount. */
    public long amount;

    /**
     * Fill every field (instances are reused).
     *
     * @param account account.
     * @param amount amount.
     * @return this.
     */
    public Withdrawn set(final long account, final long amount)
    {
        this.account = account;
        this.amount = amount;
        return this;
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(account);
        out.writeStopBit(amount);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        account = in.readStopBit();
        amount = in.readStopBit();
    }
}
