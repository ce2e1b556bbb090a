package io.keel.cli.gateway;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.keel.engine.CommandOutcome;
import io.keel.examples.ledger.Account;
import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.examples.ledger.Transfer;
import io.keel.gateway.GatewayCounters;
import io.keel.gateway.KeelNode;
import io.keel.gateway.client.AuthenticationException;
import io.keel.gateway.client.CommandFailedException;
import io.keel.gateway.client.KeelClient;
import io.keel.gateway.protocol.ErrorCode;
import io.keel.gateway.protocol.Protocol;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One node in its own JVM with credentials and a small per-session in-flight limit; clients in this JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayProcessTest
{
    static final int MAX_IN_FLIGHT = 16;

    @TempDir
    static Path tmp;

    NodeProcess node;
    MediaDriver driver;
    Aeron aeron;
    Aeron nodeAeron;
    int port;
    String members;

    @BeforeAll
    void startNode() throws Exception
    {
        port = NodeProcess.freePort();
        members = "0=127.0.0.1:" + port + ":" + NodeProcess.freePort();
        final Path credentials = tmp.resolve("credentials");
        Files.writeString(credentials, String.join("\n",
            "# clientId secret types",
            "1 alpha-secret-1 *",
            "2 beta-secret-22 1,2",
            ""));
        node = NodeProcess.startNode("node0", 0, members, tmp.resolve("node0"),
            List.of("-Dkeel.gateway.max.in.flight=" + MAX_IN_FLIGHT, "-Dkeel.gateway.max.message.length=1024"),
            "--credentials", credentials.toString());
        final String nodeAeronDir = node.awaitReady();
        driver = MediaDriver.launch(KeelNode.driverContext(tmp.resolve("client-driver").toString(), "yield"));
        aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
        nodeAeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(nodeAeronDir));
    }

    @AfterAll
    void stopNode() throws Exception
    {
        CloseHelper.quietCloseAll(nodeAeron, aeron, driver);
        if (null != node)
        {
            final int exit = node.stop();
            assertEquals(0 == exit || 143 == exit, true, "node exit " + exit + ":\n" + node.output());
            node.awaitLine("stopped", 1000);
        }
    }

    KeelClient client(final long clientId, final String secret)
    {
        return KeelClient.connect(new KeelClient.Context()
            .members(members)
            .clientId(clientId)
            .secret(secret)
            .aeron(aeron)
            .commandCodecs(Ledger.domain().commands())
            .maxInFlight(64)
            .connectTimeoutNs(TimeUnit.SECONDS.toNanos(10)));
    }

    Map<String, Long> counters()
    {
        // the node keeps its gateway counters in its counters file (keel stat), not in the driver's cnc
        try (io.keel.gateway.ops.CountersFile file = io.keel.gateway.ops.CountersFile.openReadOnly(tmp.resolve("node0")))
        {
            return GatewayCounters.read(file.reader(), 0);
        }
    }

    @Test
    void roundTripsAnswerEveryOutcomeAndQueriesReadState() throws Exception
    {
        try (KeelClient client = client(1, "alpha-secret-1"))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, client.submit(new OpenAccount().set(7_000_101, 500)).get(10,
                TimeUnit.SECONDS));
            assertInstanceOf(CommandOutcome.Accepted.class, client.submit(new OpenAccount().set(7_000_102, 0)).get(10,
                TimeUnit.SECONDS));
            final CommandOutcome transfer = client.submit(new Transfer().set(7_000_101, 7_000_102, 200)).get(10, TimeUnit.SECONDS);
            assertEquals(2, ((CommandOutcome.Accepted)transfer).eventCount());
            final CommandOutcome tooMuch = client.submit(new Transfer().set(7_000_101, 7_000_102, 10_000)).get(10, TimeUnit.SECONDS);
            assertEquals(Ledger.INSUFFICIENT_FUNDS, ((CommandOutcome.Rejected)tooMuch).reason());
            assertEquals(300, client.query(7_000_101, new Account()).get(10, TimeUnit.SECONDS).balance());
            assertEquals(200, client.query(7_000_102, new Account()).get(10, TimeUnit.SECONDS).balance());

            // a retry with the same command id is answered from the idempotency window, not applied again
            final long id = client.nextCommandId();
            final CommandOutcome first = client.submit(id, new Deposit().set(7_000_102, 5), 0, -1).get(10, TimeUnit.SECONDS);
            final CommandOutcome again = client.submit(id, new Deposit().set(7_000_102, 5), 0, -1).get(10, TimeUnit.SECONDS);
            assertFalse(first.duplicate());
            assertTrue(again.duplicate());
            assertEquals(205, client.query(7_000_102, new Account()).get(10, TimeUnit.SECONDS).balance());

            // pipelining: many in flight at once, more than the node allows per session (BUSY is retried)
            final List<java.util.concurrent.CompletableFuture<CommandOutcome>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < 60; i++)
            {
                futures.add(client.submit(new Deposit().set(7_000_101, 1)));
            }
            for (final var future : futures)
            {
                assertInstanceOf(CommandOutcome.Accepted.class, future.get(20, TimeUnit.SECONDS));
            }
            assertEquals(360, client.query(7_000_101, new Account()).get(10, TimeUnit.SECONDS).balance());
        }
    }

    @Test
    void wrongOrMissingCredentialsAreRefusedAndCounted()
    {
        final long before = counters().get("auth failures");
        final AuthenticationException wrong = assertThrows(AuthenticationException.class,
            () -> client(1, "not-the-secret"));
        assertTrue(wrong.getMessage().contains("wrong credentials"), wrong.getMessage());
        final AuthenticationException unknown = assertThrows(AuthenticationException.class,
            () -> client(99, "whatever-secret"));
        assertTrue(unknown.getMessage().contains("no credentials"), unknown.getMessage());
        final AuthenticationException none = assertThrows(AuthenticationException.class, () -> client(1, null));
        assertTrue(none.getMessage().contains("credentials"), none.getMessage());
        assertTrue(counters().get("auth failures") >= before + 2, counters().toString());
    }

    @Test
    void commandTypeOutsideThePrincipalsPermissionsIsUnauthorized() throws Exception
    {
        try (KeelClient client = client(2, "beta-secret-22"))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, client.submit(new OpenAccount().set(7_000_201, 10)).get(10,
                TimeUnit.SECONDS));
            final ExecutionException refused = assertThrows(ExecutionException.class,
                () -> client.submit(new Transfer().set(7_000_201, 7_000_101, 1)).get(10, TimeUnit.SECONDS));
            final CommandFailedException failure = (CommandFailedException)refused.getCause();
            assertEquals(ErrorCode.UNAUTHORIZED, failure.code());
            assertFalse(failure.outcomeUnknown());
            assertThrows(ExecutionException.class, () -> client.query(7_000_201, new Account()).get(10, TimeUnit.SECONDS));
        }
        assertTrue(counters().get("unauthorized") >= 2);
    }

    @Test
    void everyHostileInputGetsItsErrorAndTheSessionKeepsWorking()
    {
        try (RawClient raw = new RawClient(aeron, port, 201))
        {
            raw.connect(1, "alpha-secret-1");
            final long sid = raw.sessionId;
            final UnsafeBuffer b = raw.buffer;
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[2048]);

            // wrong frame length field (a truncated message): MALFORMED
            int length = raw.encoder.command(sid, 1001, Ledger.DEPOSIT, 0, -1, payload, 0, 2);
            raw.send(length - 1);
            assertEquals(ErrorCode.MALFORMED, raw.awaitError(1001));

            // length field consistent but payload length lies: MALFORMED
            length = raw.encoder.command(sid, 1002, Ledger.DEPOSIT, 0, -1, payload, 0, 2);
            b.putInt(Protocol.COMMAND_PAYLOAD_LENGTH_OFFSET, 500);
            raw.send(length);
            assertEquals(ErrorCode.MALFORMED, raw.awaitError(1002));

            // wrong protocol version: BAD_VERSION
            length = raw.encoder.command(sid, 1003, Ledger.DEPOSIT, 0, -1, payload, 0, 2);
            b.putShort(Protocol.VERSION_OFFSET, (short)7);
            raw.send(length);
            assertEquals(ErrorCode.BAD_VERSION, raw.awaitError(1003));

            // unknown message type: UNKNOWN_TYPE
            length = raw.encoder.command(sid, 1004, Ledger.DEPOSIT, 0, -1, payload, 0, 2);
            b.putShort(Protocol.TYPE_OFFSET, (short)99);
            raw.send(length);
            assertEquals(ErrorCode.UNKNOWN_TYPE, raw.awaitError(1004));

            // a node-to-client type sent to the node: UNKNOWN_TYPE
            length = raw.encoder.keepAlive(sid, 1);
            b.putShort(Protocol.TYPE_OFFSET, (short)Protocol.CONNECTED);
            b.putInt(0, Protocol.CONNECTED_LENGTH);
            raw.send(Protocol.CONNECTED_LENGTH);
            assertEquals(ErrorCode.UNKNOWN_TYPE, raw.awaitError(0));

            // message over the node's limit (fragmented by Aeron): TOO_LARGE
            length = raw.encoder.command(sid, 1005, Ledger.DEPOSIT, 0, -1, payload, 0, 1800);
            raw.send(length);
            assertEquals(ErrorCode.TOO_LARGE, raw.awaitError(1005));

            // command over the engine's limit but within the message limit: TOO_LARGE
            length = raw.encoder.command(sid, 1006, Ledger.DEPOSIT, 0, -1, payload, 0, 700);
            raw.send(length);
            assertEquals(ErrorCode.TOO_LARGE, raw.awaitError(1006));

            // command type nobody registered: UNKNOWN_COMMAND_TYPE
            length = raw.encoder.command(sid, 1007, 77, 0, -1, payload, 0, 2);
            raw.send(length);
            assertEquals(ErrorCode.UNKNOWN_COMMAND_TYPE, raw.awaitError(1007));

            // a payload the command cannot decode: a typed rejection from the engine, nothing applied
            payload.setMemory(0, 64, (byte)0xFF);
            length = raw.encoder.command(sid, 1008, Ledger.DEPOSIT, 0, -1, payload, 0, 40);
            raw.send(length);
            final RawClient.Received bad = raw.await(m -> m.type() == Protocol.RESPONSE && m.correlationId() == 1008,
                10_000);
            assertEquals("MALFORMED_COMMAND", bad.detail());

            // shorter than a header: counted, nothing to answer; then a valid command still works
            final long malformedBefore = counters().get("malformed");
            raw.send(7);
            final RawClient.Received ok = validDeposit(raw, sid, 1009);
            assertEquals(Protocol.RESPONSE, ok.type());
            assertTrue(counters().get("malformed") > malformedBefore);

            // a session id that does not exist: counted, dropped (no one to answer)
            final long unknownBefore = counters().get("unknown session");
            length = raw.encoder.command(sid ^ 0x5555, 1010, Ledger.DEPOSIT, 0, -1, payload, 0, 2);
            raw.send(length);
            validDeposit(raw, sid, 1011);
            assertTrue(counters().get("unknown session") > unknownBefore);

            // after CLOSE the session's commands get UNKNOWN_SESSION
            raw.send(raw.encoder.close(sid, ErrorCode.CLIENT_CLOSED));
            length = raw.encoder.command(sid, 1012, Ledger.DEPOSIT, 0, -1, payload, 0, 2);
            raw.send(length);
            assertEquals(ErrorCode.UNKNOWN_SESSION, raw.awaitError(1012));
        }
    }

    @Test
    void floodingSessionGetsBusyNotSilenceAndOthersAreServed() throws Exception
    {
        try (RawClient raw = new RawClient(aeron, port, 202); KeelClient other = client(1, "alpha-secret-1"))
        {
            raw.connect(1, "alpha-secret-1");
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[64]);
            final io.keel.examples.ledger.Deposit deposit = new io.keel.examples.ledger.Deposit().set(901, 1);
            final net.openhft.chronicle.bytes.Bytes<byte[]> bytes = net.openhft.chronicle.bytes.Bytes.allocateElasticOnHeap(16);
            deposit.writeMarshallable(bytes);
            final int payloadLength = (int)bytes.writePosition();
            payload.putBytes(0, bytes.underlyingObject(), 0, payloadLength);
            final int commands = 400;
            final long base = System.nanoTime();
            for (int i = 0; i < commands; i++)
            {
                raw.send(raw.encoder.command(raw.sessionId, base + i, Ledger.DEPOSIT, 0, -1, payload, 0,
                    payloadLength));
            }
            // the other client is served while the flood is answered
            assertInstanceOf(CommandOutcome.Rejected.class, other.submit(new Deposit().set(901, 1)).get(10,
                TimeUnit.SECONDS));
            int responses = 0;
            int busy = 0;
            final java.util.Set<Long> answered = new java.util.HashSet<>();
            while (answered.size() < commands)
            {
                final RawClient.Received message = raw.await(m -> m.type() == Protocol.RESPONSE ||
                    m.type() == Protocol.ERROR, 20_000);
                assertTrue(answered.add(message.correlationId()), "answered twice: " + message);
                if (message.type() == Protocol.RESPONSE)
                {
                    responses++;
                }
                else
                {
                    final ErrorCode code = ErrorCode.of(message.code());
                    assertTrue(code == ErrorCode.BUSY || code == ErrorCode.RING_FULL, message.toString());
                    busy++;
                }
            }
            assertTrue(busy > 0, "a flood past the in-flight limit must see BUSY");
            assertTrue(responses >= MAX_IN_FLIGHT, "responses " + responses);
        }
    }

    @Test
    void fuzzedFramesNeverStopTheNodeServingValidClients() throws Exception
    {
        final Random random = new Random(20240611);
        try (RawClient raw = new RawClient(aeron, port, 203))
        {
            raw.connect(1, "alpha-secret-1");
            final UnsafeBuffer frame = new UnsafeBuffer(new byte[4096]);
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[64]);
            for (int i = 0; i < 3000; i++)
            {
                final int length;
                if (random.nextBoolean())
                {
                    length = random.nextInt(1600);
                    for (int j = 0; j < length; j++)
                    {
                        frame.putByte(j, (byte)random.nextInt());
                    }
                    if (random.nextBoolean() && length >= Protocol.HEADER_LENGTH)
                    {
                        frame.putShort(Protocol.VERSION_OFFSET, (short)Protocol.VERSION);
                        frame.putInt(0, length);
                        frame.putLong(Protocol.SESSION_ID_OFFSET, raw.sessionId);
                    }
                }
                else
                {
                    int valid = raw.encoder.command(raw.sessionId, 5000 + i, 1 + random.nextInt(5), random.nextLong(),
                        random.nextLong(), payload, 0, random.nextInt(40));
                    frame.putBytes(0, raw.buffer, 0, valid);
                    final int mutations = 1 + random.nextInt(4);
                    for (int m = 0; m < mutations; m++)
                    {
                        frame.putByte(random.nextInt(valid), (byte)random.nextInt());
                    }
                    length = random.nextInt(4) == 0 ? random.nextInt(valid + 1) : valid;
                }
                if (length > 0)
                {
                    raw.sendFrom(frame, length);
                }
                raw.received().clear();
            }
        }
        assertTrue(node.isAlive(), node.output());
        try (KeelClient client = client(1, "alpha-secret-1"))
        {
            assertInstanceOf(CommandOutcome.Accepted.class, client.submit(new OpenAccount().set(7_000_301, 7)).get(10,
                TimeUnit.SECONDS));
            assertEquals(7, client.query(7_000_301, new Account()).get(10, TimeUnit.SECONDS).balance());
        }
        final Map<String, Long> counters = counters();
        assertTrue(counters.get("malformed") > 0, counters.toString());
        assertEquals(0L, counters.get("errors"), counters.toString());
    }

    @Test
    void connectAskingForAnswersToAnotherHostIsRefusedAndCounted()
    {
        try (RawClient raw = new RawClient(aeron, port, 202))
        {
            final long before = counters().get("bad channel");
            // a response endpoint on another address than the one the CONNECT came from: a reflection attempt
            final String elsewhere = "aeron:udp?endpoint=127.0.0.2:" + (20_000 + (port % 1000));
            raw.send(raw.encoder.connect(77, 1, 202, elsewhere));
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (counters().get("bad channel") <= before)
            {
                assertTrue(System.nanoTime() < deadlineNs, "CONNECT to another host was not refused: " + counters());
                raw.poll();
            }
            // the same client connecting with its own address is served
            raw.connect(1, "alpha-secret-1");
            assertTrue(raw.sessionId != 0);
        }
    }

    @Test
    void secondNodeOnATakenPortRefusesToStart() throws Exception
    {
        try (NodeProcess second = NodeProcess.startNode("node0-again", 0, members, tmp.resolve("other"), List.of()))
        {
            assertEquals(2, second.awaitExit(30_000), second.output());
            assertTrue(second.output().contains("not free"), second.output());
        }
    }

    private static RawClient.Received validDeposit(final RawClient raw, final long sid, final long commandId)
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[16]);
        final net.openhft.chronicle.bytes.Bytes<byte[]> bytes = net.openhft.chronicle.bytes.Bytes.allocateElasticOnHeap(16);
        new Deposit().set(901, 1).writeMarshallable(bytes);
        payload.putBytes(0, bytes.underlyingObject(), 0, (int)bytes.writePosition());
        raw.send(raw.encoder.command(sid, commandId, Ledger.DEPOSIT, 0, -1, payload, 0, (int)bytes.writePosition()));
        return raw.await(m -> m.correlationId() == commandId && (m.type() == Protocol.RESPONSE ||
            m.type() == Protocol.ERROR), 10_000);
    }
}
