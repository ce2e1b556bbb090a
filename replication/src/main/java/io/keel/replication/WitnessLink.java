package io.keel.replication;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * A node's side of the witness protocol: one non-blocking UDP channel connected to the witness, direct buffers,
 * {@code write}/{@code read} (no sender addresses): nothing allocated per request while the witness answers. A
 * witness that is down makes the kernel report the port unreachable: counted, and the request is simply retried at
 * the next heartbeat.
 */
final class WitnessLink implements AutoCloseable
{
    private final DatagramChannel channel;
    private final ByteBuffer sendBytes = ByteBuffer.allocateDirect(WitnessMessage.LENGTH);
    private final UnsafeBuffer sendBuffer = new UnsafeBuffer(sendBytes);
    private final ByteBuffer receiveBytes = ByteBuffer.allocateDirect(WitnessMessage.LENGTH + 1);
    private final UnsafeBuffer receiveBuffer = new UnsafeBuffer(receiveBytes);
    private final WitnessMessage out = new WitnessMessage();
    private final WitnessMessage in = new WitnessMessage();
    private final long pairId;
    private final int memberId;
    long sendFailures;
    long malformed;

    WitnessLink(final InetSocketAddress witness, final long pairId, final int memberId)
    {
        this.pairId = pairId;
        this.memberId = memberId;
        try
        {
            channel = DatagramChannel.open();
            channel.configureBlocking(false);
            channel.connect(witness);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot open a UDP channel to the witness " + witness + ": " + ex, ex);
        }
    }

    /** Send a request; false when the kernel refused it (witness unreachable): retried by the caller later. */
    boolean send(final int type, final int flags, final long epoch, final long sendTimeNs)
    {
        out.encode(sendBuffer, 0, type, pairId, memberId, flags, epoch, sendTimeNs);
        sendBytes.clear();
        try
        {
            return channel.write(sendBytes) == WitnessMessage.LENGTH;
        }
        catch (final IOException ex)
        {
            sendFailures++;
            return false;
        }
    }

    /** @return the next reply for this member and pair, or null when none is waiting. */
    WitnessMessage poll()
    {
        while (true)
        {
            receiveBytes.clear();
            final int length;
            try
            {
                length = channel.read(receiveBytes);
            }
            catch (final IOException ex)
            {
                sendFailures++; // port unreachable, reported on a later call
                return null;
            }
            if (length <= 0)
            {
                return null;
            }
            in.wrap(receiveBuffer, 0);
            if (in.valid(length) && WitnessMessage.TYPE_REPLY == in.type() && in.pairId() == pairId &&
                in.memberId() == memberId)
            {
                return in;
            }
            malformed++;
        }
    }

    @Override
    public void close()
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
            // closing
        }
    }
}
