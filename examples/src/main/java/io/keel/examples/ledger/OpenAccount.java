package io.keel.examples.ledger;

import io.keel.engine.Command;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * Open an account with an initial balance (minor units).
 */
public final class OpenAccount extends Command
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
    public OpenAccount set(final long account, final long initialBalance)
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
