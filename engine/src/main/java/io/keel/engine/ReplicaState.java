package io.keel.engine;

import io.keel.journal.JournalReader;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine's part in a replicated pair, owned by the business-logic thread: leading (decides and appends),
 * following (tails its own journal, which the replication layer appends to, and applies each group as recovery
 * does) or halted (applies nothing: the log may be rewritten by log matching). Positions are published for other
 * threads.
 */
final class ReplicaState
{
    static final int LEADING = 0;
    static final int FOLLOWING = 1;
    static final int HALTED = 2;

    private volatile int mode;
    final AtomicLong appliedPosition = new AtomicLong();
    final AtomicLong refusedCommands = new AtomicLong();
    final AtomicLong rebuilds = new AtomicLong();
    JournalReader reader;

    ReplicaState(final boolean follower)
    {
        mode = follower ? FOLLOWING : LEADING;
    }

    boolean leading()
    {
        return LEADING == mode;
    }

    boolean following()
    {
        return FOLLOWING == mode;
    }

    int mode()
    {
        return mode;
    }

    void mode(final int mode)
    {
        this.mode = mode;
    }

    void closeReader()
    {
        if (null != reader)
        {
            reader.close();
            reader = null;
        }
    }

    static String name(final int mode)
    {
        switch (mode)
        {
            case LEADING: return "leading";
            case FOLLOWING: return "following";
            default: return "halted";
        }
    }
}
