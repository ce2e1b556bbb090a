package io.keel.replication;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.keel.replication.WitnessMessage.*;
import static org.junit.jupiter.api.Assertions.*;

/** The witness's decisions, with a hand-driven clock, and what survives a restart. */
class WitnessStateTest
{
    static final long PAIR = 0x1234L;
    static final int LEASE_MS = 50;
    static final long LEASE_NS = TimeUnit.MILLISECONDS.toNanos(LEASE_MS);
    static final long MARGIN_NS = Witness.marginNs(LEASE_MS);

    @TempDir
    Path dir;

    final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(WitnessMessage.LENGTH));
    final WitnessMessage message = new WitnessMessage();

    WitnessState open(final long nowNs)
    {
        return WitnessState.open(dir, LEASE_NS, MARGIN_NS, nowNs);
    }

    WitnessMessage vote(final WitnessState state, final int member, final long epoch, final long nowNs)
    {
        message.encode(buffer, 0, TYPE_VOTE, PAIR, member, 0, epoch, nowNs);
        assertTrue(state.decide(message, nowNs, LEASE_MS));
        assertEquals(TYPE_REPLY, message.type());
        return message;
    }

    WitnessMessage renew(final WitnessState state, final int member, final long epoch, final boolean peerInSync,
        final long sendNs, final long nowNs)
    {
        message.encode(buffer, 0, TYPE_RENEW, PAIR, member, peerInSync ? FLAG_PEER_IN_SYNC : 0, epoch, sendNs);
        assertTrue(state.decide(message, nowNs, LEASE_MS));
        return message;
    }

    @Test
    void freshPairVotesForTheFirstCandidateWhoseInSyncSetIsItselfAlone()
    {
        final WitnessState state = open(0);
        final WitnessMessage reply = vote(state, 0, 2, 1_000);
        assertEquals(RESULT_GRANTED, reply.result());
        assertEquals(2, reply.epoch());
        assertEquals(0, reply.holder());
        assertFalse(reply.peerInSync());
        assertEquals(LEASE_MS, reply.leaseMs());
        assertEquals(RESULT_NOT_IN_SYNC, vote(state, 1, 3, 1_000 + 10 * LEASE_NS).result(),
            "the other member is not in sync until the holder adds it");
    }

    @Test
    void voteForTheStandbyWaitsForTheLeaseToLapsePlusMargin()
    {
        final WitnessState state = open(0);
        vote(state, 0, 2, 0);
        assertEquals(RESULT_GRANTED, renew(state, 0, 2, true, 10, 10).result());
        assertTrue(state.peerInSync(PAIR));
        final long lastRenew = 1_000_000;
        assertEquals(RESULT_GRANTED, renew(state, 0, 2, true, lastRenew, lastRenew).result());
        assertEquals(RESULT_LEASE_LIVE, vote(state, 1, 3, lastRenew + LEASE_NS).result());
        assertEquals(RESULT_LEASE_LIVE, vote(state, 1, 3, lastRenew + LEASE_NS + MARGIN_NS).result());
        final WitnessMessage granted = vote(state, 1, 3, lastRenew + LEASE_NS + MARGIN_NS + 1);
        assertEquals(RESULT_GRANTED, granted.result());
        assertEquals(1, granted.holder());
        assertEquals(3, granted.epoch());
        // the old primary's next renewal is refused with the new epoch: it steps down
        final WitnessMessage refused = renew(state, 0, 2, true, lastRenew + 2 * LEASE_NS, lastRenew + 2 * LEASE_NS);
        assertEquals(RESULT_NOT_HOLDER, refused.result());
        assertEquals(3, refused.epoch());
        assertEquals(1, refused.holder());
    }

    @Test
    void standbyTakenOutOfTheInSyncSetIsNeverPromotedAndALateAddDoesNotPutItBack()
    {
        final WitnessState state = open(0);
        vote(state, 0, 2, 0);
        renew(state, 0, 2, true, 100, 100);
        assertTrue(state.peerInSync(PAIR));
        renew(state, 0, 2, false, 300, 300);
        assertFalse(state.peerInSync(PAIR));
        // a datagram sent before the removal arrives after it: not applied
        final WitnessMessage late = renew(state, 0, 2, true, 200, 400);
        assertEquals(RESULT_GRANTED, late.result());
        assertFalse(late.peerInSync());
        assertEquals(RESULT_NOT_IN_SYNC, vote(state, 1, 3, 10 * LEASE_NS).result(), "primary long dead: still no vote");
        assertEquals(RESULT_STALE_EPOCH, vote(state, 1, 2, 10 * LEASE_NS).result());
    }

    @Test
    void restartedHolderGetsANewEpochAtOnce()
    {
        final WitnessState state = open(0);
        vote(state, 0, 2, 0);
        renew(state, 0, 2, false, 100, 100);
        final WitnessMessage again = vote(state, 0, 4, 200);
        assertEquals(RESULT_GRANTED, again.result());
        assertEquals(4, again.epoch());
        assertEquals(RESULT_GRANTED, vote(state, 0, 4, 300).result(), "a repeated vote (lost reply) is granted again");
    }

    @Test
    void restartedWitnessKeepsEpochHolderAndInSyncSetAndWaitsAWholeLease() throws Exception
    {
        WitnessState state = open(0);
        vote(state, 0, 2, 0);
        renew(state, 0, 2, true, 100, 100);
        renew(state, 0, 2, false, 200, 200);
        final long stores = state.stores();
        renew(state, 0, 2, false, 300, 300);
        assertEquals(stores, state.stores(), "a plain renewal writes nothing");

        final long restartNs = 5_000_000_000L;
        state = open(restartNs);
        assertEquals(2, state.epoch(PAIR));
        assertEquals(0, state.holder(PAIR));
        assertFalse(state.peerInSync(PAIR));
        assertEquals(RESULT_NOT_IN_SYNC, vote(state, 1, 3, restartNs + 10 * LEASE_NS).result());

        renew(state, 0, 2, true, restartNs + 1, restartNs + 1);
        state = open(restartNs * 2);
        assertTrue(state.peerInSync(PAIR));
        assertEquals(RESULT_LEASE_LIVE, vote(state, 1, 3, restartNs * 2 + LEASE_NS).result(),
            "a restarted witness counts every lease as renewed at its start");
        assertEquals(RESULT_GRANTED, vote(state, 1, 3, restartNs * 2 + LEASE_NS + MARGIN_NS + 1).result());
    }

    @Test
    void damagedStateFileIsRefusedNamingIt() throws Exception
    {
        final WitnessState state = open(0);
        vote(state, 0, 2, 0);
        final Path file = state.file();
        final byte[] content = Files.readAllBytes(file);
        content[HEADER_OFFSET_OF_EPOCH] ^= 1;
        Files.write(file, content);
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> open(0));
        assertTrue(ex.getMessage().contains(file.toString()), ex.getMessage());
    }

    @Test
    void aFormatOneFileIsReadAndReplacedAtTheFirstStore() throws Exception
    {
        final byte[] v1 = new byte[WitnessState.V1_HEADER_LENGTH + WitnessState.RECORD_LENGTH + 4];
        final UnsafeBuffer buffer = new UnsafeBuffer(v1);
        buffer.putLong(0, WitnessState.MAGIC, java.nio.ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(8, 1, java.nio.ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(12, 1, java.nio.ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(16, PAIR, java.nio.ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(24, 5, java.nio.ByteOrder.LITTLE_ENDIAN); // epoch
        buffer.putInt(32, 1, java.nio.ByteOrder.LITTLE_ENDIAN); // holder
        buffer.putInt(36, 1, java.nio.ByteOrder.LITTLE_ENDIAN); // peer in sync
        buffer.putLong(40, 9, java.nio.ByteOrder.LITTLE_ENDIAN);
        final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(v1, 0, v1.length - 4);
        buffer.putInt(v1.length - 4, (int)crc.getValue(), java.nio.ByteOrder.LITTLE_ENDIAN);
        Files.createDirectories(dir);
        Files.write(dir.resolve(WitnessState.FILE_NAME), v1);

        WitnessState state = open(0);
        assertEquals(5, state.epoch(PAIR));
        assertTrue(state.peerInSync(PAIR));
        assertEquals(RESULT_GRANTED, vote(state, 0, 6, 10 * LEASE_NS).result()); // member 0 voted in: stored
        assertEquals(SlotFile.FILE_BYTES, Files.size(state.file()));
        state = open(0);
        assertEquals(6, state.epoch(PAIR));
        assertFalse(state.peerInSync(PAIR));
    }

    static final int HEADER_OFFSET_OF_EPOCH = SlotFile.SLOT_BYTES + SlotFile.HEADER_LENGTH + WitnessState.RECORDS_OFFSET + 8;
}
