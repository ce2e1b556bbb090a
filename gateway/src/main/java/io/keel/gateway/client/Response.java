package io.keel.gateway.client;

import io.keel.engine.CommandOutcome;
import io.keel.engine.CommandResult;
import io.keel.engine.Rejection;
import io.keel.gateway.protocol.MessageDecoder;
import io.keel.gateway.protocol.Protocol;

/**
 * The engine's answer to one command, as a reused view over the received message: valid only during
 * {@link ResponseListener#onResponse}. {@link #toOutcome()} makes an immutable copy.
 */
public final class Response
{
    private MessageDecoder decoder;

    Response wrap(final MessageDecoder decoder)
    {
        this.decoder = decoder;
        return this;
    }

    /** @return the command id. */
    public long commandId()
    {
        return decoder.commandId();
    }

    /** @return how the command ended. */
    public CommandResult.Status status()
    {
        switch (decoder.status())
        {
            case Protocol.STATUS_ACCEPTED:
                return CommandResult.Status.ACCEPTED;
            case Protocol.STATUS_REJECTED:
                return CommandResult.Status.REJECTED;
            default:
                return CommandResult.Status.FAILED;
        }
    }

    /** @return true when accepted. */
    public boolean accepted()
    {
        return decoder.status() == Protocol.STATUS_ACCEPTED;
    }

    /** @return the rejection code, 0 unless rejected. */
    public int rejectionCode()
    {
        return decoder.rejectionCode();
    }

    /**
     * Append the rejection name (or failure text) without allocating a string.
     *
     * @param out to append to.
     * @return out.
     */
    public StringBuilder appendDetail(final StringBuilder out)
    {
        final int offset = decoder.responseDetailOffset();
        for (int i = 0, n = decoder.responseDetailLength(); i < n; i++)
        {
            out.append((char)decoder.buffer().getByte(offset + i));
        }
        return out;
    }

    /** @return the rejection name or failure text (allocates). */
    public String detail()
    {
        return decoder.detail();
    }

    /** @return journal position after the command's events. */
    public long position()
    {
        return decoder.position();
    }

    /** @return events the command produced. */
    public int eventCount()
    {
        return decoder.eventCount();
    }

    /** @return true when the answer came from the idempotency window (the command was a retry). */
    public boolean duplicate()
    {
        return decoder.duplicate();
    }

    /** @return expected version, for version conflicts. */
    public long expectedVersion()
    {
        return decoder.expectedVersion();
    }

    /** @return actual version, for version conflicts. */
    public long actualVersion()
    {
        return decoder.actualVersion();
    }

    /** @return an immutable copy (allocates). */
    public CommandOutcome toOutcome()
    {
        switch (decoder.status())
        {
            case Protocol.STATUS_ACCEPTED:
                return new CommandOutcome.Accepted(position(), eventCount(), duplicate());
            case Protocol.STATUS_REJECTED:
                if (rejectionCode() == Rejection.VERSION_CONFLICT.code())
                {
                    return new CommandOutcome.VersionConflict(expectedVersion(), actualVersion(), duplicate());
                }
                return new CommandOutcome.Rejected(rejection(rejectionCode(), detail()), duplicate());
            default:
                return new CommandOutcome.Failed(detail(), duplicate());
        }
    }

    static Rejection rejection(final int code, final String name)
    {
        final Rejection known = Rejection.of(code);
        if (known.name().equals(name) || code < Rejection.FIRST_DOMAIN_CODE)
        {
            return known;
        }
        try
        {
            return Rejection.define(code, name);
        }
        catch (final IllegalArgumentException ex)
        {
            return known;
        }
    }

    @Override
    public String toString()
    {
        return commandId() + " " + toOutcome();
    }
}
