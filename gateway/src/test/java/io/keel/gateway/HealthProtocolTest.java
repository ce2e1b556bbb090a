package io.keel.gateway;

import io.keel.gateway.protocol.ErrorCode;
import io.keel.gateway.protocol.MessageDecoder;
import io.keel.gateway.protocol.MessageEncoder;
import io.keel.gateway.protocol.Protocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * HEALTH and HEALTH_RESULT round-trip through the encoder and decoder; wrong lengths are MALFORMED.
 */
class HealthProtocolTest
{
    @Test
    void healthMessagesRoundTripAndWrongLengthsAreMalformed()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[512]);
        final MessageEncoder encoder = new MessageEncoder().wrap(buffer, 0);
        final MessageDecoder decoder = new MessageDecoder();

        final int healthLength = encoder.health(7, 1077, "aeron:udp?endpoint=127.0.0.1:40000");
        assertEquals(ErrorCode.OK, decoder.wrap(buffer, 0, healthLength, 1024));
        assertEquals(Protocol.HEALTH, decoder.type());
        assertEquals(7, decoder.correlationId());
        assertEquals(1077, decoder.responseStreamId());
        assertEquals("aeron:udp?endpoint=127.0.0.1:40000", decoder.channel());
        assertEquals("HEALTH", Protocol.typeName(Protocol.HEALTH));

        final int resultLength = encoder.wrap(buffer, 0).healthResult(7, 1, Protocol.ROLE_STANDBY, 3, 4096, 2048, 0,
            Protocol.HEALTH_FLAG_ENGINE_FAILED);
        assertEquals(Protocol.HEALTH_RESULT_LENGTH, resultLength);
        assertEquals(ErrorCode.OK, decoder.wrap(buffer, 0, resultLength, 1024));
        assertEquals(Protocol.HEALTH_RESULT, decoder.type());
        assertEquals(7, decoder.correlationId());
        assertEquals(1, decoder.healthInt(Protocol.HEALTH_RESULT_MEMBER_ID_OFFSET));
        assertEquals(Protocol.ROLE_STANDBY, decoder.healthInt(Protocol.HEALTH_RESULT_ROLE_OFFSET));
        assertEquals(3, decoder.healthLong(Protocol.HEALTH_RESULT_EPOCH_OFFSET));
        assertEquals(4096, decoder.healthLong(Protocol.HEALTH_RESULT_COMMITTED_OFFSET));
        assertEquals(2048, decoder.healthLong(Protocol.HEALTH_RESULT_DURABLE_OFFSET));
        assertEquals(0, decoder.healthInt(Protocol.HEALTH_RESULT_PRIMARY_OFFSET));
        assertEquals(Protocol.HEALTH_FLAG_ENGINE_FAILED, decoder.healthInt(Protocol.HEALTH_RESULT_FLAGS_OFFSET));

        buffer.putInt(Protocol.FRAME_LENGTH_OFFSET, resultLength - 8);
        assertEquals(ErrorCode.MALFORMED, decoder.wrap(buffer, 0, resultLength - 8, 1024));
    }
}
