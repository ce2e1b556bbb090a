package io.keel.examples.ledger;

import io.keel.engine.Event;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * The paying side of a transfer; {@code transfer} is the transfer's command id, shared with its Credited.
 */
public final class Debited extends Event
{
    /** account. */
    public long account;
    /** amount. */
    public long amount;
    /** transfer. */
    public long transfer;

    /**
     * Fill every field (instances are reused).
     *
     * @param account account.
     * @param amount amount.
     * @param transfer transfer.
     * @return this.
     */
    public Debited set(final long account, final long amount, final long transfer)
    {
        this.account = account;
        this.amount = amount;
        this.transfer = transfer;
        return this;
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(account);
        out.writeStopBit(amount);
        out.writeStopBit(transfer);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        account = in.readStopBit();
        amount = in.readStopBit();
        transfer = in.readStopBit();
    }
}
