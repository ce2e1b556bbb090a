package io.keel.gateway;

import io.keel.gateway.protocol.ErrorCode;
import io.keel.gateway.protocol.Hmac;
import io.keel.gateway.protocol.MessageDecoder;
import io.keel.gateway.protocol.MessageEncoder;
import io.keel.gateway.protocol.Protocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProtocolAndConfigTest
{
    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    final MessageEncoder encoder = new MessageEncoder().wrap(buffer, 0);
    final MessageDecoder decoder = new MessageDecoder();

    @Test
    void commandRoundTripsAndEveryTruncationIsRefused()
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[] {1, 2, 3});
        final int length = encoder.command(9, 77, 4, 11, 12, payload, 0, 3);
        assertEquals(ErrorCode.OK, decoder.wrap(buffer, 0, length, 1024));
        assertEquals(77, decoder.commandId());
        assertEquals(4, decoder.commandType());
        assertEquals(11, decoder.expectedStreamId());
        assertEquals(12, decoder.expectedVersion());
        assertEquals(3, decoder.payloadLength());
        assertEquals(2, buffer.getByte(decoder.payloadOffset() + 1));
        for (int cut = 0; cut < length; cut++)
        {
            assertFalse(ErrorCode.OK == decoder.wrap(buffer, 0, cut, 1024), "truncated to " + cut);
        }
        assertEquals(ErrorCode.TOO_LARGE, decoder.wrap(buffer, 0, length, length - 1));
        buffer.putShort(Protocol.VERSION_OFFSET, (short)2);
        assertEquals(ErrorCode.BAD_VERSION, decoder.wrap(buffer, 0, length, 1024));
    }

    @Test
    void responseCarriesRejectionNameAndFlags()
    {
        final int length = encoder.response(5, 6, Protocol.STATUS_REJECTED, 101, 0, 0, 3, 4, true,
            "INSUFFICIENT_FUNDS");
        assertEquals(ErrorCode.OK, decoder.wrap(buffer, 0, length, 1024));
        assertEquals("INSUFFICIENT_FUNDS", decoder.detail());
        assertTrue(decoder.duplicate());
        assertEquals(101, decoder.rejectionCode());
    }

    @Test
    void hmacProofDependsOnSecretNonceAndIds()
    {
        final byte[] nonce = new byte[Protocol.NONCE_LENGTH];
        nonce[3] = 9;
        final byte[] proof = new byte[Protocol.MAC_LENGTH];
        new Hmac("secret-one".getBytes(StandardCharsets.UTF_8)).sign(nonce, 1, 2, proof);
        final Hmac verifier = new Hmac("secret-one".getBytes(StandardCharsets.UTF_8));
        assertTrue(verifier.verify(nonce, 1, 2, proof));
        assertFalse(verifier.verify(nonce, 1, 3, proof));
        assertFalse(new Hmac("secret-two".getBytes(StandardCharsets.UTF_8)).verify(nonce, 1, 2, proof));
    }

    @Test
    void credentialsFileIsParsedAndBadLinesAreNamed(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("creds");
        Files.writeString(file, "# comment\n1 secret-aaaa *\n2 secret-bbbb 1,3,query\n");
        final Credentials credentials = Credentials.read(file);
        assertTrue(credentials.principal(1).maySend(1000));
        assertTrue(credentials.principal(2).maySend(3));
        assertFalse(credentials.principal(2).maySend(2));
        assertTrue(credentials.principal(2).mayQuery());
        Files.writeString(file, "1 short *\n");
        final IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Credentials.read(file));
        assertTrue(bad.getMessage().contains("line 1"), bad.getMessage());
    }

    @Test
    void memberListsAreValidated()
    {
        assertEquals(9101, Member.parseList("0=127.0.0.1:9100:9200,1=127.0.0.1:9101:9201").get(1).clientPort());
        assertThrows(IllegalArgumentException.class, () -> Member.parseList("0=127.0.0.1:9100:9200,0=h:1:2"));
        assertThrows(IllegalArgumentException.class, () -> Member.parseList("0=127.0.0.1:x:9200"));
        assertThrows(IllegalArgumentException.class, () -> Member.parseList("0=127.0.0.1:9100:9100"));
    }
}
