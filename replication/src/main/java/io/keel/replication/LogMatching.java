package io.keel.replication;

import io.keel.journal.Journal;
import io.keel.journal.JournalReader;

/**
 * Raft-style log matching over journal frames. A frame's position, epoch and CRC identify it; epochs are unique
 * to one primary (each member draws from its own residue class), and a standby only ever appends a primary's
 * frames in order, so two logs holding the same frame (same position, epoch and CRC) agree on everything before
 * it. The primary answers a standby's handshake (its end, and its last frame's position, epoch and CRC) with
 * either "stream from your end" (its frame there matches) or "truncate to Q", Q strictly below the standby's
 * end: the start of the first frame of a later epoch than the standby's last, or the standby's last frame. The
 * standby cuts back to its last group end at or before Q and asks again; the end shrinks every round, so it
 * converges on the last common group boundary. Scans are linear in the log: they run once per handshake.
 */
final class LogMatching
{
    private static final int SCAN_BATCH_FRAMES = 256;

    private LogMatching()
    {
    }

    /** The last frame that ends a group in a log. */
    static final class LastFrame
    {
        long position = -1;
        long epoch;
        int crc;
        long end;

        void reset(final long end)
        {
            position = -1;
            epoch = 0;
            crc = 0;
            this.end = end;
        }
    }

    /**
     * Find the last whole-group frame of a journal (scan from its start to its committed position).
     */
    static void lastGroupFrame(final Journal journal, final LastFrame out)
    {
        final long limit = journal.committedPosition();
        out.reset(journal.startPosition());
        try (JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.position() < limit && reader.poll(frame ->
            {
                if (frame.isEndOfGroup())
                {
                    out.position = frame.position();
                    out.epoch = frame.epoch();
                    out.crc = frame.crc();
                    out.end = frame.nextPosition();
                }
            }, SCAN_BATCH_FRAMES) > 0)
            {
                // scanning
            }
        }
    }

    /**
     * Last group end at or before a position.
     *
     * @return the position, at least the journal's start.
     */
    static long lastGroupEndAtOrBefore(final Journal journal, final long limit)
    {
        final long[] end = { journal.startPosition() };
        final long committed = journal.committedPosition();
        try (JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.position() < committed && reader.position() < limit && reader.poll(frame ->
            {
                if (frame.isEndOfGroup() && frame.nextPosition() <= limit)
                {
                    end[0] = frame.nextPosition();
                }
            }, 1) > 0)
            {
                // scanning
            }
        }
        return end[0];
    }

    /**
     * The primary's answer to a handshake.
     *
     * @param primary           the primary's journal.
     * @param standbyEnd        end of the standby's log (a group end).
     * @param lastFramePosition position of the standby's last frame, -1 when its log is empty.
     * @param lastFrameEpoch    its epoch.
     * @param lastFrameCrc      its CRC.
     * @param decision          out: [0] action, [1] position.
     */
    static void decide(
        final Journal primary,
        final long standbyEnd,
        final long lastFramePosition,
        final long lastFrameEpoch,
        final int lastFrameCrc,
        final long[] decision)
    {
        final long committed = primary.committedPosition();
        final long start = primary.startPosition();
        if (lastFramePosition < 0)
        {
            // an empty log: at the primary's start, or where a snapshot from this history was installed
            final boolean streamable = standbyEnd == start ||
                (standbyEnd > start && standbyEnd <= committed && lastGroupEndAtOrBefore(primary, standbyEnd) ==
                standbyEnd);
            decision[0] = streamable ? ReplicationMessage.ACTION_STREAM_FROM : ReplicationMessage.ACTION_INSTALL_SNAPSHOT;
            decision[1] = standbyEnd;
            return;
        }
        if (lastFramePosition < start)
        {
            // the standby's last frame is in a segment the primary no longer holds: nothing to match against
            decision[0] = ReplicationMessage.ACTION_INSTALL_SNAPSHOT;
            decision[1] = standbyEnd;
            return;
        }
        final long limit = Math.min(standbyEnd, committed);
        final boolean[] matched = { false };
        final long[] firstLaterEpoch = { limit };
        try (JournalReader reader = primary.reader(start))
        {
            while (reader.position() < limit && reader.poll(frame ->
            {
                if (frame.position() == lastFramePosition)
                {
                    matched[0] = frame.epoch() == lastFrameEpoch && frame.crc() == lastFrameCrc &&
                        frame.nextPosition() == standbyEnd;
                }
                if (frame.epoch() > lastFrameEpoch && frame.position() < firstLaterEpoch[0])
                {
                    firstLaterEpoch[0] = frame.position();
                }
            }, SCAN_BATCH_FRAMES) > 0)
            {
                // scanning
            }
        }
        if (matched[0] && standbyEnd <= committed)
        {
            decision[0] = ReplicationMessage.ACTION_STREAM_FROM;
            decision[1] = standbyEnd;
        }
        else
        {
            decision[0] = ReplicationMessage.ACTION_TRUNCATE_TO;
            decision[1] = Math.min(Math.min(lastFramePosition, firstLaterEpoch[0]), committed);
            assert decision[1] < standbyEnd : "truncation must shrink the standby's log";
        }
    }

    /**
     * @return the epoch of the frame that ends just before a position (0 when the position is the journal's start,
     * where the segment header's epoch stands for it).
     */
    static long epochBefore(final Journal journal, final long position)
    {
        final long[] epoch = { 0 };
        try (JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.position() < position && reader.poll(frame ->
            {
                if (frame.nextPosition() <= position)
                {
                    epoch[0] = frame.epoch();
                }
            }, SCAN_BATCH_FRAMES) > 0)
            {
                // scanning
            }
        }
        return epoch[0];
    }
}
