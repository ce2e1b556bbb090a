package io.keel.gateway;

import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.FrameDescriptor;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Reassembles fragmented Aeron messages up to a fixed limit, unlike Aeron's own assembler which grows its buffer
 * to any size a sender chooses. A message over the limit is not buffered: its first bytes are kept so the
 * receiver can still answer the sender (TOO_LARGE), and the rest is skipped. One builder per sending image, at
 * most {@code maxBuilders}; idle builders are reused when the limit is reached, and a message from an image beyond
 * it is refused as too large.
 */
final class BoundedAssembler implements FragmentHandler
{
    /**
     * Receives whole messages.
     */
    interface Handler
    {
        /**
         * @param buffer         holding the message.
         * @param offset         of the message.
         * @param length         of the message.
         * @param imageSessionId Aeron session id of the sender's publication.
         */
        void onMessage(DirectBuffer buffer, int offset, int length, int imageSessionId);

        /**
         * A message longer than the limit.
         *
         * @param buffer         holding the message's first bytes.
         * @param offset         of those bytes.
         * @param length         of those bytes (at most the limit).
         * @param imageSessionId Aeron session id of the sender's publication.
         */
        void onTooLarge(DirectBuffer buffer, int offset, int length, int imageSessionId);
    }

    private final Handler handler;
    private final int maxMessageLength;
    private final int maxBuilders;
    private final Int2ObjectHashMap<Builder> builders = new Int2ObjectHashMap<>();

    BoundedAssembler(final Handler handler, final int maxMessageLength, final int maxBuilders)
    {
        this.handler = handler;
        this.maxMessageLength = maxMessageLength;
        this.maxBuilders = maxBuilders;
    }

    @Override
    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        final byte flags = header.flags();
        final int imageSessionId = header.sessionId();
        if ((flags & FrameDescriptor.UNFRAGMENTED) == FrameDescriptor.UNFRAGMENTED)
        {
            if (length > maxMessageLength)
            {
                handler.onTooLarge(buffer, offset, maxMessageLength, imageSessionId);
            }
            else
            {
                handler.onMessage(buffer, offset, length, imageSessionId);
            }
            return;
        }
        Builder builder = builders.get(imageSessionId);
        if ((flags & FrameDescriptor.BEGIN_FRAG_FLAG) != 0)
        {
            if (null == builder)
            {
                builder = newBuilder(imageSessionId);
                if (null == builder)
                {
                    handler.onTooLarge(buffer, offset, Math.min(length, maxMessageLength), imageSessionId);
                    return;
                }
            }
            builder.begin(buffer, offset, length);
        }
        else if (null != builder && builder.inProgress)
        {
            builder.append(buffer, offset, length);
            if ((flags & FrameDescriptor.END_FRAG_FLAG) != 0)
            {
                builder.inProgress = false;
                if (builder.oversized)
                {
                    handler.onTooLarge(builder.bytes, 0, Math.min(builder.length, maxMessageLength), imageSessionId);
                }
                else
                {
                    handler.onMessage(builder.bytes, 0, builder.length, imageSessionId);
                }
            }
        }
    }

    private Builder newBuilder(final int imageSessionId)
    {
        if (builders.size() >= maxBuilders)
        {
            final Int2ObjectHashMap<Builder>.KeyIterator keys = builders.keySet().iterator();
            while (keys.hasNext())
            {
                final int key = keys.nextInt();
                final Builder idle = builders.get(key);
                if (!idle.inProgress)
                {
                    builders.remove(key);
                    builders.put(imageSessionId, idle);
                    return idle;
                }
            }
            return null;
        }
        final Builder builder = new Builder(maxMessageLength);
        builders.put(imageSessionId, builder);
        return builder;
    }

    /** A message being reassembled. */
    private static final class Builder
    {
        final UnsafeBuffer bytes;
        int length;
        boolean inProgress;
        boolean oversized;

        Builder(final int capacity)
        {
            bytes = new UnsafeBuffer(new byte[capacity]);
        }

        void begin(final DirectBuffer buffer, final int offset, final int fragmentLength)
        {
            length = 0;
            oversized = false;
            inProgress = true;
            append(buffer, offset, fragmentLength);
        }

        void append(final DirectBuffer buffer, final int offset, final int fragmentLength)
        {
            final int room = bytes.capacity() - length;
            if (fragmentLength > room)
            {
                oversized = true;
            }
            final int copied = Math.min(room, fragmentLength);
            if (copied > 0)
            {
                bytes.putBytes(length, buffer, offset, copied);
                length += copied;
            }
        }
    }
}
