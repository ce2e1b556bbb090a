package io.keel.replication;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;

import static io.keel.replication.WitnessMessage.*;
import static org.junit.jupiter.api.Assertions.*;

/** The witness process's UDP loop: answers requests, ignores junk, keeps its state across a restart. */
@Timeout(60)
class WitnessTest
{
    @TempDir
    Path dir;

    @Test
    void answersOverUdpIgnoresJunkAndKeepsItsStateAcrossARestart() throws Exception
    {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(WitnessMessage.LENGTH);
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final WitnessMessage message = new WitnessMessage();
        int port;
        try (Witness witness = Witness.launch(new Witness.Context().port(0).dir(dir).leaseMs(50));
            DatagramChannel channel = DatagramChannel.open())
        {
            port = witness.address().getPort();
            channel.connect(new InetSocketAddress("127.0.0.1", port));
            channel.write(ByteBuffer.wrap(new byte[]{1, 2, 3}));
            message.encode(buffer, 0, TYPE_VOTE, 7, 1, 0, 3, 42);
            bytes.clear();
            channel.write(bytes);
            bytes.clear();
            assertEquals(WitnessMessage.LENGTH, channel.read(bytes));
            message.wrap(buffer, 0);
            assertEquals(TYPE_REPLY, message.type());
            assertEquals(RESULT_GRANTED, message.result());
            assertEquals(42, message.sendTimeNs());
            assertEquals(1, message.holder());
            assertEquals(1, witness.malformed());
        }
        try (Witness witness = Witness.launch(new Witness.Context().port(port).dir(dir).leaseMs(50));
            DatagramChannel channel = DatagramChannel.open())
        {
            channel.connect(new InetSocketAddress("127.0.0.1", port));
            message.encode(buffer, 0, TYPE_VOTE, 7, 0, 0, 4, 43);
            bytes.clear();
            channel.write(bytes);
            bytes.clear();
            assertEquals(WitnessMessage.LENGTH, channel.read(bytes));
            message.wrap(buffer, 0);
            assertEquals(RESULT_NOT_IN_SYNC, message.result(), "member 1 holds epoch 3 alone after the restart");
            assertEquals(3, message.epoch());
            assertEquals(1, message.holder());
        }
    }
}
