package io.keel.engine;

import io.keel.journal.FrameDescriptor;
import net.openhft.chronicle.bytes.Bytes;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.BufferOverflowException;

/**
 * What a {@link CommandHandler} sees and fills while deciding one command: read access to state and stream
 * versions, and the place to emit events or reject. One reused instance, business-logic thread only.
 * <p>
 * Events are encoded the moment they are emitted (so the handler may reuse its event instances) into a bounded
 * buffer; they are journaled and applied only after the handler returns, and discarded if it throws or rejects.
 */
public final class Decision
{
    private final EventCodecs eventCodecs;
    private final Streams streams;
    private final int maxEvents;
    private final int maxEventBytes;

    private final Bytes<Void> eventBytes;
    private final UnsafeBuffer eventBuffer;
    private final long[] streamIds;
    private final long[] versions;
    private final int[] types;
    private final int[] offsets;
    private final int[] lengths;

    private long clientId;
    private long commandId;
    private long timestampNs;
    private int eventCount;
    private Rejection rejection;

    Decision(
        final EventCodecs eventCodecs,
        final Streams streams,
        final int maxEvents,
        final int maxEventBytes)
    {
        this.eventCodecs = eventCodecs;
        this.streams = streams;
        this.maxEvents = maxEvents;
        this.maxEventBytes = maxEventBytes;
        eventBytes = Bytes.allocateDirect(maxEventBytes);
        eventBytes.singleThreadedCheckDisabled(true);
        eventBuffer = new UnsafeBuffer(eventBytes.addressForRead(0), maxEventBytes);
        streamIds = new long[maxEvents];
        versions = new long[maxEvents];
        types = new int[maxEvents];
        offsets = new int[maxEvents];
        lengths = new int[maxEvents];
    }

    void reset(final long clientId, final long commandId, final long timestampNs)
    {
        this.clientId = clientId;
        this.commandId = commandId;
        this.timestampNs = timestampNs;
        eventCount = 0;
        rejection = null;
        eventBytes.clear();
    }

    /** @return client that sent the command. */
    public long clientId()
    {
        return clientId;
    }

    /** @return the client's id for the command. */
    public long commandId()
    {
        return commandId;
    }

    /** @return the engine time of this decision, ns since the epoch: every event of the command carries it. */
    public long timestampNs()
    {
        return timestampNs;
    }

    /**
     * Current state of a stream, for reading only: do not change it, emit events instead.
     *
     * @param streamId stream.
     * @param <A>      aggregate type.
     * @return the aggregate, or null when the stream has no events yet.
     */
    @SuppressWarnings("unchecked")
    public <A extends Aggregate> A aggregate(final long streamId)
    {
        return (A)streams.get(streamId);
    }

    /**
     * @param streamId stream.
     * @return its version: the number of events journaled for it, not counting those emitted by this decision.
     */
    public long version(final long streamId)
    {
        return streams.version(streamId);
    }

    /**
     * Emit an event for a stream. It is encoded now; the instance may be reused at once.
     *
     * @param streamId stream the event belongs to (not {@link FrameDescriptor#NO_STREAM}).
     * @param event    of a registered type.
     * @throws IllegalStateException when the command was rejected, or emits more events or bytes than the limits.
     */
    public void emit(final long streamId, final Event event)
    {
        if (null != rejection)
        {
            throw new IllegalStateException("cannot emit after rejecting with " + rejection);
        }
        if (FrameDescriptor.NO_STREAM == streamId)
        {
            throw new IllegalArgumentException("events need a stream id other than " + FrameDescriptor.NO_STREAM);
        }
        if (eventCount == maxEvents)
        {
            throw new IllegalStateException("command emitted more than maxEventsPerCommand = " + maxEvents + " events");
        }
        final int typeId = eventCodecs.typeIdOf(event);
        if (CommandRejected.TYPE_ID == typeId)
        {
            throw new IllegalArgumentException("CommandRejected is the engine's own record: reject() instead");
        }
        final int offset = (int)eventBytes.writePosition();
        try
        {
            event.writeMarshallable(eventBytes);
        }
        catch (final BufferOverflowException | IllegalArgumentException ex)
        {
            eventBytes.writePosition(offset);
            throw new IllegalStateException("events of one command exceed maxEventBytesPerCommand = " + maxEventBytes +
                " bytes", ex);
        }

        long version = streams.version(streamId) + 1;
        for (int i = 0; i < eventCount; i++)
        {
            if (streamIds[i] == streamId)
            {
                version++;
            }
        }
        streamIds[eventCount] = streamId;
        versions[eventCount] = version;
        types[eventCount] = typeId;
        offsets[eventCount] = offset;
        lengths[eventCount] = (int)eventBytes.writePosition() - offset;
        eventCount++;
    }

    /**
     * Refuse the command: no events. Anything emitted before is discarded.
     *
     * @param rejection typed reason.
     */
    public void reject(final Rejection rejection)
    {
        if (null == rejection)
        {
            throw new NullPointerException("rejection");
        }
        this.rejection = rejection;
        eventCount = 0;
        eventBytes.clear();
    }

    /** @return the rejection, or null. */
    public Rejection rejection()
    {
        return rejection;
    }

    /** @return events emitted so far. */
    public int eventCount()
    {
        return eventCount;
    }

    long streamId(final int index)
    {
        return streamIds[index];
    }

    long version(final int index)
    {
        return versions[index];
    }

    int type(final int index)
    {
        return types[index];
    }

    int offset(final int index)
    {
        return offsets[index];
    }

    int length(final int index)
    {
        return lengths[index];
    }

    UnsafeBuffer eventBuffer()
    {
        return eventBuffer;
    }

    void close()
    {
        eventBytes.releaseLast();
    }
}
