package io.keel.journal;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

import static io.keel.journal.FrameDescriptor.*;

/**
 * The journal's single writer. Frames are staged in memory and written with one system call per
 * {@link #flush()} (or when the staging buffer fills), then fsynced as the {@link DurabilityPolicy} asks.
 * Allocates nothing per frame.
 * <p>
 * Use: {@link #claim} a frame, write its payload into {@link #buffer()} at the returned offset,
 * {@link #commit(boolean)} it; the last frame of a command commits with {@code endOfGroup = true}; after a batch
 * of commands, {@link #flush()}. Readers and recovery only ever see whole groups.
 */
public final class JournalAppender
{
    private final Journal journal;
    private final DurabilityPolicy durability;
    private final int maxFrameLength;
    private final int maxFramesPerGroup;
    private final ByteBuffer stagingBytes;
    private final UnsafeBuffer staging;
    private final Checksums checksums = new Checksums();
    private final StreamIndex index;

    private final long[] groupStreamIds;
    private final long[] groupVersions;
    private final long[] groupPositions;
    private final long[] groupTimestamps;
    private int groupFrames;
    private long groupStartPosition;
    private long groupEpoch;
    private long groupTimestampNs;

    private Segment segment;
    private FileChannel channel;
    private long stagedBase;
    private int stagedLength;
    private long lastGroupEnd;
    private long lastEpoch;
    private boolean unsynced;
    private boolean failed;

    private int claimedOffset = -1;
    private int claimedPayloadLength;
    private long claimedStreamId;
    private long claimedVersion;
    private long claimedTimestampNs;

    JournalAppender(final Journal journal, final JournalContext ctx, final Segment segment)
    {
        this.journal = journal;
        this.durability = ctx.durability();
        this.maxFrameLength = ctx.maxFrameLengthBytes();
        this.maxFramesPerGroup = ctx.maxFramesPerGroup();
        this.stagingBytes = ByteBuffer.allocateDirect(ctx.stagingBufferBytes()).order(BYTE_ORDER);
        this.staging = new UnsafeBuffer(stagingBytes);
        this.index = journal.streamIndex();
        this.groupStreamIds = new long[maxFramesPerGroup];
        this.groupVersions = new long[maxFramesPerGroup];
        this.groupPositions = new long[maxFramesPerGroup];
        this.groupTimestamps = new long[maxFramesPerGroup];
        resetTo(journal.committedPosition(), segment);
        this.lastEpoch = journal.lastEpoch();
    }

    /**
     * Buffer the claimed frame's payload is written into.
     *
     * @return the staging buffer.
     */
    public MutableDirectBuffer buffer()
    {
        return staging;
    }

    /**
     * Position the next claimed frame will get (the end of the log including staged frames).
     *
     * @return next frame's position.
     */
    public long position()
    {
        return stagedBase + stagedLength;
    }

    /** @return true while a group has frames committed without its end. */
    public boolean inGroup()
    {
        return groupFrames > 0 || claimedOffset >= 0;
    }

    /**
     * Claim space for one frame and fill in its header.
     *
     * @param epoch         epoch of the writing primary; never lower than the previous frame's.
     * @param timestampNs   event time, ns; never before the previous event of the same stream.
     * @param clientId      client whose command produced the event.
     * @param commandId     that client's command id.
     * @param streamId      stream (aggregate) id, or {@link FrameDescriptor#NO_STREAM}.
     * @param streamVersion the stream's version after this event: its current version + 1.
     * @param type          event type.
     * @param payloadLength payload bytes to follow.
     * @return offset in {@link #buffer()} where the payload goes.
     */
    public int claim(
        final long epoch,
        final long timestampNs,
        final long clientId,
        final long commandId,
        final long streamId,
        final long streamVersion,
        final int type,
        final int payloadLength)
    {
        ensureUsable();
        if (claimedOffset >= 0)
        {
            throw new IllegalStateException("claim while a claimed frame is not committed");
        }
        if (payloadLength < 0 || payloadLength > maxFrameLength - HEADER_LENGTH)
        {
            throw new IllegalArgumentException("payload of " + payloadLength + " bytes exceeds the maximum of " +
                (maxFrameLength - HEADER_LENGTH) + " (max frame length " + maxFrameLength + ")");
        }
        if (groupFrames == maxFramesPerGroup)
        {
            throw new IllegalStateException("group exceeds the maximum of " + maxFramesPerGroup + " frames");
        }
        if (epoch < lastEpoch || (groupFrames > 0 && epoch < groupEpoch))
        {
            throw new IllegalArgumentException("epoch " + epoch + " is lower than the log's " + lastEpoch);
        }
        if (streamId != NO_STREAM)
        {
            checkStreamOrder(streamId, streamVersion, timestampNs);
        }

        final int alignedLength = alignedFrameLength(payloadLength);
        if (segment.fileOffset(position()) + alignedLength > segment.segmentSizeBytes)
        {
            roll(epoch, timestampNs);
        }
        if (stagedLength + alignedLength > staging.capacity())
        {
            writeStaged();
        }

        final int offset = stagedLength;
        final long position = position();
        // zero the alignment padding now (the payload overwrites its part); avoids a setMemory call per frame
        staging.putLong(offset + alignedLength - FRAME_ALIGNMENT, 0L);
        staging.putInt(offset + LENGTH_OFFSET, 0, BYTE_ORDER);
        staging.putLong(offset + POSITION_OFFSET, position, BYTE_ORDER);
        staging.putLong(offset + EPOCH_OFFSET, epoch, BYTE_ORDER);
        staging.putLong(offset + TIMESTAMP_OFFSET, timestampNs, BYTE_ORDER);
        staging.putLong(offset + CLIENT_ID_OFFSET, clientId, BYTE_ORDER);
        staging.putLong(offset + COMMAND_ID_OFFSET, commandId, BYTE_ORDER);
        staging.putLong(offset + STREAM_ID_OFFSET, streamId, BYTE_ORDER);
        staging.putLong(offset + STREAM_VERSION_OFFSET, streamVersion, BYTE_ORDER);
        staging.putInt(offset + TYPE_OFFSET, type, BYTE_ORDER);
        staging.putInt(offset + FLAGS_OFFSET, 0, BYTE_ORDER); // flags and reserved

        if (0 == groupFrames)
        {
            groupStartPosition = position;
        }
        groupEpoch = epoch;
        claimedOffset = offset;
        claimedPayloadLength = payloadLength;
        claimedStreamId = streamId;
        claimedVersion = streamVersion;
        claimedTimestampNs = timestampNs;
        return offset + HEADER_LENGTH;
    }

    /**
     * Finish the claimed frame: seal its length, flags and checksum.
     *
     * @param endOfGroup true for the last frame of a command: the group becomes visible on the next write.
     */
    public void commit(final boolean endOfGroup)
    {
        if (claimedOffset < 0)
        {
            throw new IllegalStateException("commit without a claimed frame");
        }
        final int offset = claimedOffset;
        final int frameLength = HEADER_LENGTH + claimedPayloadLength;
        final int alignedLength = alignedFrameLength(claimedPayloadLength);
        staging.putInt(offset + LENGTH_OFFSET, frameLength, BYTE_ORDER);
        staging.putShort(offset + FLAGS_OFFSET, endOfGroup ? FLAG_END_OF_GROUP : 0, BYTE_ORDER);
        staging.putInt(offset + CRC_OFFSET, checksums.frameCrc(stagingBytes, offset, frameLength), BYTE_ORDER);

        final int g = groupFrames;
        groupStreamIds[g] = claimedStreamId;
        groupVersions[g] = claimedVersion;
        groupPositions[g] = position();
        groupTimestamps[g] = claimedTimestampNs;
        groupTimestampNs = claimedTimestampNs;
        groupFrames = g + 1;
        stagedLength += alignedLength;
        claimedOffset = -1;

        if (endOfGroup)
        {
            endGroup();
        }
    }

    private void endGroup()
    {
        for (int i = 0; i < groupFrames; i++)
        {
            if (groupStreamIds[i] != NO_STREAM)
            {
                index.add(groupStreamIds[i], groupVersions[i], groupPositions[i], groupTimestamps[i]);
            }
        }
        groupFrames = 0;
        lastGroupEnd = position();
        lastEpoch = groupEpoch;
        journal.onGroupCommitted(groupEpoch, groupTimestampNs);
        if (DurabilityPolicy.ALWAYS == durability)
        {
            flush();
        }
    }

    /**
     * Copy a payload into a new frame and commit it: claim + copy + commit in one call.
     *
     * @return position of the frame.
     */
    public long append(
        final long epoch,
        final long timestampNs,
        final long clientId,
        final long commandId,
        final long streamId,
        final long streamVersion,
        final int type,
        final org.agrona.DirectBuffer payload,
        final int payloadOffset,
        final int payloadLength,
        final boolean endOfGroup)
    {
        final int offset = claim(epoch, timestampNs, clientId, commandId, streamId, streamVersion, type, payloadLength);
        final long position = position();
        staging.putBytes(offset, payload, payloadOffset, payloadLength);
        commit(endOfGroup);
        return position;
    }

    /**
     * Append one frame that is already framed (header, payload and CRC), as read from another journal: the
     * replication path. The bytes are copied unchanged, so a journal fed the frames of another ends up with the
     * same frames at the same positions and, segment rolls being a function of the frames and the segment size,
     * byte-identical segment files. Checks before anything is copied: the length is within bounds, the CRC
     * matches, the frame's position is this log's next position, its epoch is not below the log's, and stream
     * versions follow on. Group semantics and the stream index are kept as for {@link #commit(boolean)}; with
     * {@link DurabilityPolicy#ALWAYS} the end of a group flushes.
     *
     * @param src    buffer holding the frame.
     * @param offset of the frame's first byte in src.
     * @param length bytes available from offset (at least the frame's aligned length; padding is written as
     *               zeros whatever the source holds there).
     * @return aligned length of the frame: the bytes consumed from src.
     * @throws IllegalArgumentException naming the failed check; nothing is appended then.
     */
    public int appendFramed(final org.agrona.DirectBuffer src, final int offset, final int length)
    {
        ensureUsable();
        if (claimedOffset >= 0)
        {
            throw new IllegalStateException("appendFramed while a claimed frame is not committed");
        }
        if (length < HEADER_LENGTH)
        {
            throw new IllegalArgumentException("framed bytes of " + length + " are shorter than a frame header");
        }
        final int frameLength = src.getInt(offset + LENGTH_OFFSET, BYTE_ORDER);
        if (frameLength < HEADER_LENGTH || frameLength > maxFrameLength)
        {
            throw new IllegalArgumentException("frame length " + frameLength + " out of bounds [" + HEADER_LENGTH +
                ", " + maxFrameLength + "]");
        }
        final int alignedLength = alignedFrameLength(frameLength - HEADER_LENGTH);
        if (alignedLength > length)
        {
            throw new IllegalArgumentException("frame of aligned length " + alignedLength + " exceeds the " + length +
                " bytes given");
        }
        final long framePosition = src.getLong(offset + POSITION_OFFSET, BYTE_ORDER);
        if (framePosition != position())
        {
            throw new IllegalArgumentException("frame position " + framePosition + " is not the next position " +
                position());
        }
        final long epoch = src.getLong(offset + EPOCH_OFFSET, BYTE_ORDER);
        if (epoch < lastEpoch || (groupFrames > 0 && epoch < groupEpoch))
        {
            throw new IllegalArgumentException("frame epoch " + epoch + " is lower than the log's " + lastEpoch);
        }
        if (groupFrames == maxFramesPerGroup)
        {
            throw new IllegalStateException("group exceeds the maximum of " + maxFramesPerGroup + " frames");
        }
        final long streamId = src.getLong(offset + STREAM_ID_OFFSET, BYTE_ORDER);
        final long streamVersion = src.getLong(offset + STREAM_VERSION_OFFSET, BYTE_ORDER);
        final long timestampNs = src.getLong(offset + TIMESTAMP_OFFSET, BYTE_ORDER);
        if (src.getInt(offset + CRC_OFFSET, BYTE_ORDER) != checksums.frameCrc(src, offset, frameLength))
        {
            throw new IllegalArgumentException("frame at position " + framePosition + " fails its checksum");
        }
        if (streamId != NO_STREAM)
        {
            checkStreamOrder(streamId, streamVersion, timestampNs);
        }

        if (segment.fileOffset(position()) + alignedLength > segment.segmentSizeBytes)
        {
            roll(epoch, timestampNs);
        }
        if (stagedLength + alignedLength > staging.capacity())
        {
            writeStaged();
        }
        final int stagedOffset = stagedLength;
        // copy the frame and write the padding as zeros ourselves: the source's padding bytes may be stale
        staging.putLong(stagedOffset + alignedLength - FRAME_ALIGNMENT, 0L);
        staging.putBytes(stagedOffset, src, offset, frameLength);

        if (0 == groupFrames)
        {
            groupStartPosition = framePosition;
        }
        groupEpoch = epoch;
        final int g = groupFrames;
        groupStreamIds[g] = streamId;
        groupVersions[g] = streamVersion;
        groupPositions[g] = framePosition;
        groupTimestamps[g] = timestampNs;
        groupTimestampNs = timestampNs;
        groupFrames = g + 1;
        stagedLength += alignedLength;

        if ((staging.getShort(stagedOffset + FLAGS_OFFSET, BYTE_ORDER) & FLAG_END_OF_GROUP) != 0)
        {
            endGroup();
        }
        return alignedLength;
    }

    /**
     * Discard the open group: its frames never reach readers or recovery.
     */
    public void abortGroup()
    {
        ensureUsable();
        claimedOffset = -1;
        if (0 == groupFrames)
        {
            return;
        }
        groupFrames = 0;
        if (groupStartPosition >= stagedBase)
        {
            stagedLength = (int)(groupStartPosition - stagedBase);
        }
        else
        {
            // part of the group already went to the file (staging overflowed): cut it from the file
            stagedLength = 0;
            journal.rollbackTo(groupStartPosition);
            resetTo(groupStartPosition, journal.currentSegment());
        }
    }

    /**
     * Write staged frames and fsync as the policy asks; then the durable position covers every whole group.
     * Call once per batch. Not allowed inside a group.
     *
     * @return the durable position.
     */
    public long flush()
    {
        ensureUsable();
        if (inGroup())
        {
            throw new IllegalStateException("flush inside an open group");
        }
        if (stagedLength > 0)
        {
            writeStaged();
        }
        if (unsynced && DurabilityPolicy.NONE != durability)
        {
            try
            {
                final long startNs = System.nanoTime();
                channel.force(false);
                journal.onFsync(System.nanoTime() - startNs);
            }
            catch (final IOException ex)
            {
                failed = true;
                throw new JournalException("fsync of " + segment.file + " failed; durability of the log after " +
                    "position " + journal.durablePosition() + " is unknown, so this journal accepts no more " +
                    "writes: restart to recover", ex);
            }
            unsynced = false;
        }
        journal.publishDurable(lastGroupEnd);
        return lastGroupEnd;
    }

    private void checkStreamOrder(final long streamId, final long streamVersion, final long timestampNs)
    {
        long previousVersion = -1;
        long previousTimestamp = Long.MIN_VALUE;
        for (int i = groupFrames - 1; i >= 0; i--)
        {
            if (groupStreamIds[i] == streamId)
            {
                previousVersion = groupVersions[i];
                previousTimestamp = groupTimestamps[i];
                break;
            }
        }
        if (previousVersion < 0)
        {
            previousVersion = index.version(streamId);
            previousTimestamp = index.lastTimestampNs(streamId);
        }
        final boolean historyNotRetained = 0 == previousVersion && index.isPartial() && streamVersion >= 1;
        if (streamVersion != previousVersion + 1 && !historyNotRetained)
        {
            throw new IllegalArgumentException("stream " + streamId + " version " + streamVersion +
                " does not follow version " + previousVersion);
        }
        if (timestampNs < previousTimestamp)
        {
            throw new IllegalArgumentException("stream " + streamId + " timestamp " + timestampNs +
                " is before its previous event's " + previousTimestamp);
        }
    }

    private void writeStaged()
    {
        stagingBytes.limit(stagedLength).position(0);
        final long fileOffset = segment.fileOffset(stagedBase);
        try
        {
            FileChannelUtil.writeFully(channel, stagingBytes, fileOffset);
            final TailCache tailCache = journal.tailCache();
            if (null != tailCache)
            {
                tailCache.write(stagedBase, staging, 0, stagedLength); // before the bytes are published
            }
        }
        catch (final IOException ex)
        {
            onWriteFailure(ex, fileOffset);
        }
        finally
        {
            stagingBytes.clear();
        }
        stagedBase += stagedLength;
        stagedLength = 0;
        unsynced = true;
        journal.publishCommitted(lastGroupEnd);
        if (DurabilityPolicy.NONE == durability)
        {
            journal.publishDurable(lastGroupEnd);
        }
    }

    /**
     * Refuse every later write until the journal is reopened: a truncation or reset failed after its intent file was
     * written, so the files no longer match what this appender would write to; the next open completes it.
     */
    void fail()
    {
        failed = true;
    }

    private void onWriteFailure(final IOException ex, final long fileOffset)
    {
        final long committed = journal.committedPosition();
        final long lost = position() - committed;
        claimedOffset = -1;
        groupFrames = 0;
        stagedLength = 0;
        try
        {
            journal.rollbackTo(committed);
            resetTo(committed, journal.currentSegment());
        }
        catch (final RuntimeException rollbackFailure)
        {
            failed = true;
            ex.addSuppressed(rollbackFailure);
        }
        throw new JournalException("write to " + segment.file + " at offset " + fileOffset + " failed (" +
            ex.getMessage() + "): " + lost + " bytes of unflushed groups after position " + committed +
            " were dropped; nothing at or before it is affected", ex);
    }

    private void roll(final long epoch, final long firstTimestampNs)
    {
        if (stagedLength > 0)
        {
            writeStaged();
        }
        try
        {
            if (unsynced && DurabilityPolicy.NONE != durability)
            {
                final long startNs = System.nanoTime();
                channel.force(false);
                journal.onFsync(System.nanoTime() - startNs);
                unsynced = false;
            }
        }
        catch (final IOException ex)
        {
            failed = true;
            throw new JournalException("fsync of " + segment.file + " failed while rolling journal " +
                journal.dir() + "; durability after position " + journal.durablePosition() + " is unknown, so this " +
                "journal accepts no more writes: restart to recover", ex);
        }
        final Segment next;
        try
        {
            next = journal.createSegment(position(), epoch, Journal.segmentCreatedMs(firstTimestampNs));
        }
        catch (final IOException ex)
        {
            // nothing changed: the current segment stays open and the claim can be retried (e.g. once space is
            // freed on a full disk)
            throw new JournalException("cannot roll journal " + journal.dir() + " to a new segment at position " +
                position() + ": " + ex.getMessage() + "; nothing written is affected", ex);
        }
        try
        {
            channel.close();
            segment = next;
            channel = FileChannel.open(segment.file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        catch (final IOException ex)
        {
            failed = true;
            throw new JournalException("cannot open new segment " + next.file + " of journal " + journal.dir() +
                ": " + ex, ex);
        }
    }

    void resetTo(final long position, final Segment segment)
    {
        Journal.closeQuietly(channel);
        this.segment = segment;
        try
        {
            this.channel = FileChannel.open(segment.file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        catch (final IOException ex)
        {
            failed = true;
            throw new JournalException("cannot open segment " + segment.file + " for writing: " + ex, ex);
        }
        stagedBase = position;
        stagedLength = 0;
        lastGroupEnd = position;
        groupFrames = 0;
        claimedOffset = -1;
        unsynced = false;
        lastEpoch = journal.lastEpoch();
    }

    void closeAppender()
    {
        try
        {
            if (!failed)
            {
                if (inGroup())
                {
                    abortGroup();
                }
                flush();
            }
        }
        finally
        {
            Journal.closeQuietly(channel);
        }
    }

    private void ensureUsable()
    {
        if (failed)
        {
            throw new JournalException("journal " + journal.dir() + " failed earlier and accepts no more writes");
        }
        if (journal.isClosed())
        {
            throw new JournalException("journal " + journal.dir() + " is closed");
        }
    }
}
