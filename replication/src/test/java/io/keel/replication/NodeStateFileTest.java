package io.keel.replication;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeStateFileTest
{
    @TempDir
    Path dir;

    @Test
    void storedStateSurvivesReopeningAndEpochsNeverGoBack()
    {
        NodeStateFile state = NodeStateFile.open(dir);
        assertEquals(0, state.epoch());
        assertEquals(Role.STANDBY, state.role());
        state.store(2, Role.STANDBY, 0);
        state.store(3, Role.PRIMARY, 1);
        state = NodeStateFile.open(dir);
        assertEquals(3, state.epoch());
        assertEquals(Role.PRIMARY, state.role());
        assertEquals(1, state.votedFor());
        final NodeStateFile reopened = state;
        assertThrows(IllegalStateException.class, () -> reopened.store(2, Role.STANDBY, 0));
    }

    @Test
    void aFormatOneFileIsReadAndReplacedAtTheFirstStore() throws Exception
    {
        Files.write(dir.resolve(NodeStateFile.FILE_NAME), version1(Role.PRIMARY, 7, 0));
        NodeStateFile state = NodeStateFile.open(dir);
        assertEquals(7, state.epoch());
        assertEquals(Role.PRIMARY, state.role());
        assertEquals(0, state.votedFor());
        state.store(8, Role.STANDBY, 1);
        assertEquals(SlotFile.FILE_BYTES, Files.size(state.file()));
        state = NodeStateFile.open(dir);
        assertEquals(8, state.epoch());
        assertEquals(1, state.votedFor());
    }

    @Test
    void damagedFilesAreRefusedNamingThem() throws Exception
    {
        final Path file = dir.resolve(NodeStateFile.FILE_NAME);
        final byte[] v1 = version1(Role.PRIMARY, 7, 0);
        v1[16] ^= 1;
        Files.write(file, v1);
        IllegalStateException ex = assertThrows(IllegalStateException.class, () -> NodeStateFile.open(dir));
        assertTrue(ex.getMessage().contains(file.toString()), ex.getMessage());

        Files.write(file, new byte[100]);
        ex = assertThrows(IllegalStateException.class, () -> NodeStateFile.open(dir));
        assertTrue(ex.getMessage().contains(file.toString()) && ex.getMessage().contains("100 bytes"), ex.getMessage());

        Files.delete(file);
        NodeStateFile.open(dir).store(4, Role.STANDBY, 1);
        final byte[] v2 = Files.readAllBytes(file);
        v2[SlotFile.SLOT_BYTES + SlotFile.HEADER_LENGTH + 8] ^= 1; // the epoch of the only record (slot 1)
        Files.write(file, v2);
        ex = assertThrows(IllegalStateException.class, () -> NodeStateFile.open(dir));
        assertTrue(ex.getMessage().contains(file.toString()), ex.getMessage());
    }

    private static byte[] version1(final Role role, final long epoch, final int votedFor)
    {
        final byte[] content = new byte[NodeStateFile.V1_LENGTH];
        final UnsafeBuffer buffer = new UnsafeBuffer(content);
        buffer.putLong(0, NodeStateFile.MAGIC, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(8, 1, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(12, role.code(), ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(16, epoch, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(24, votedFor, ByteOrder.LITTLE_ENDIAN);
        final CRC32C crc = new CRC32C();
        crc.update(content, 0, 28);
        buffer.putInt(28, (int)crc.getValue(), ByteOrder.LITTLE_ENDIAN);
        return content;
    }
}
