package io.keel.perf.codec;

import io.keel.engine.Event;
import io.keel.examples.ledger.Credited;
import io.keel.examples.ledger.Debited;
import io.keel.examples.ledger.Deposited;

import java.util.List;

/**
 * The ledger events the codec benchmark encodes, filled with plausible values: a seven-digit account id, an amount
 * in cents, and (for the two sides of a transfer) the transfer's command id.
 */
public final class LedgerSamples
{
    /** Account id in every sample. */
    public static final long ACCOUNT = 1_000_042L;
    /** Amount in every sample (cents). */
    public static final long AMOUNT = 12_345L;
    /** Transfer id (the transfer command's id) in Debited and Credited. */
    public static final long TRANSFER = 987_654_321L;

    /** Every sample name, in table order. */
    public static final List<String> NAMES = List.of("Deposited", "Debited", "Credited");

    private LedgerSamples()
    {
    }

    /**
     * @param name {@code Deposited}, {@code Debited} or {@code Credited}.
     * @return a filled event.
     */
    public static Event filled(final String name)
    {
        switch (name)
        {
            case "Deposited":
                return new Deposited().set(ACCOUNT, AMOUNT);
            case "Debited":
                return new Debited().set(ACCOUNT, AMOUNT, TRANSFER);
            case "Credited":
                return new Credited().set(ACCOUNT + 1, AMOUNT, TRANSFER);
            default:
                throw new IllegalArgumentException("unknown ledger sample '" + name + "', known: " + NAMES);
        }
    }

    /**
     * @param name as for {@link #filled(String)}.
     * @return an empty event of that class, to decode into.
     */
    public static Event empty(final String name)
    {
        switch (name)
        {
            case "Deposited":
                return new Deposited();
            case "Debited":
                return new Debited();
            case "Credited":
                return new Credited();
            default:
                throw new IllegalArgumentException("unknown ledger sample '" + name + "', known: " + NAMES);
        }
    }
}
