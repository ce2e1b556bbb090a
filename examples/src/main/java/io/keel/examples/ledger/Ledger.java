package io.keel.examples.ledger;

import io.keel.engine.Domain;
import io.keel.engine.Rejection;

/**
 * The ledger domain: accounts (stream id = account id) with deposits, withdrawals and atomic transfers.
 * Type ids are stable: they are stored in every journal frame.
 */
public final class Ledger
{
    /** Command type ids. */
    public static final int OPEN_ACCOUNT = 1;
    /** Command type id of {@link Deposit}. */
    public static final int DEPOSIT = 2;
    /** Command type id of {@link Withdraw}. */
    public static final int WITHDRAW = 3;
    /** Command type id of {@link Transfer}. */
    public static final int TRANSFER = 4;

    /** Event type id of {@link AccountOpened}. */
    public static final int ACCOUNT_OPENED = 1;
    /** Event type id of {@link Deposited}. */
    public static final int DEPOSITED = 2;
    /** Event type id of {@link Withdrawn}. */
    public static final int WITHDRAWN = 3;
    /** Event type id of {@link Debited}. */
    public static final int DEBITED = 4;
    /** Event type id of {@link Credited}. */
    public static final int CREDITED = 5;

    /** The account does not exist. */
    public static final Rejection UNKNOWN_ACCOUNT = Rejection.define(100, "UNKNOWN_ACCOUNT");
    /** The balance does not cover the amount. */
    public static final Rejection INSUFFICIENT_FUNDS = Rejection.define(101, "INSUFFICIENT_FUNDS");
    /** The account is already open. */
    public static final Rejection ACCOUNT_EXISTS = Rejection.define(102, "ACCOUNT_EXISTS");
    /** Amount not positive, or it would overflow a balance. */
    public static final Rejection INVALID_AMOUNT = Rejection.define(103, "INVALID_AMOUNT");
    /** A transfer from an account to itself. */
    public static final Rejection SAME_ACCOUNT = Rejection.define(104, "SAME_ACCOUNT");

    private Ledger()
    {
    }

    /**
     * @return a new ledger domain (one per engine: it holds the handler's reusable events).
     */
    public static Domain domain()
    {
        final Domain domain = new Domain()
            .command(OPEN_ACCOUNT, OpenAccount.class, OpenAccount::new)
            .command(DEPOSIT, Deposit.class, Deposit::new)
            .command(WITHDRAW, Withdraw.class, Withdraw::new)
            .command(TRANSFER, Transfer.class, Transfer::new)
            .aggregates(streamId -> new Account())
            .handler(new LedgerHandler());
        registerEvents(domain.events());
        return domain;
    }

    /**
     * Register the ledger's event types, e.g. for a journal dump tool.
     *
     * @param events registry to fill.
     * @return the registry.
     */
    public static io.keel.engine.EventCodecs registerEvents(final io.keel.engine.EventCodecs events)
    {
        return events
            .register(ACCOUNT_OPENED, AccountOpened.class, AccountOpened::new)
            .register(DEPOSITED, Deposited.class, Deposited::new)
            .register(WITHDRAWN, Withdrawn.class, Withdrawn::new)
            .register(DEBITED, Debited.class, Debited::new)
            .register(CREDITED, Credited.class, Credited::new);
    }
}
