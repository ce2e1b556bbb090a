package io.keel.examples.ledger;

import io.keel.engine.Command;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * Move money between two accounts atomically: one Debited and one Credited event, or neither.
 */
public final class Transfer extends Command
{
    /** from. */
    public long from;
    /** to. */
    public long to;
    /** amount. */
    public long amount;

    /**
     * Fill every field (instances are reused).
     *
     * @param from from.
     * @param to to.
     * @param amount amount.
     * @return this.
     */
    public Transfer set(final long from, final long to, final long amount)
    {
        this.from = from;
        this.to = to;
        this.amount = amount;
        return this;
    }

    @Override
    public void writeMarshallable(final BytesOut<?> out)
    {
        out.writeStopBit(from);
        out.writeStopBit(to);
        out.writeStopBit(amount);
    }

    @Override
    public void readMarshallable(final BytesIn<?> in)
    {
        from = in.readStopBit();
        to = in.readStopBit();
        amount = in.readStopBit();
    }
}
