package io.keel.replication;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlotFileTest
{
    private static final long MAGIC = 0x5453455453544F4CL;

    @TempDir
    Path dir;

    @Test
    void recordsSurviveReopeningAndAlternateSlots() throws Exception
    {
        final Path file = dir.resolve("x.state");
        SlotFile slots = SlotFile.open(file, MAGIC, 1, "test state");
        assertFalse(slots.hasRecord());
        assertNull(slots.otherFormat());
        for (long v = 1; v <= 5; v++)
        {
            write(slots, v);
            assertEquals(SlotFile.FILE_BYTES, Files.size(file));
            slots = SlotFile.open(file, MAGIC, 1, "test state");
            assertTrue(slots.hasRecord());
            assertEquals(v, slots.sequence());
            assertEquals(v, slots.payload().getLong(0));
            assertEquals(16, slots.payload().capacity());
        }
        assertFalse(Files.exists(dir.resolve("x.state.tmp")));
    }

    @Test
    void aTornNewestRecordFallsBackToThePreviousOne() throws Exception
    {
        final Path file = dir.resolve("x.state");
        final SlotFile slots = SlotFile.open(file, MAGIC, 1, "test state");
        write(slots, 41);
        write(slots, 42); // sequence 2: slot 0
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.seek(SlotFile.HEADER_LENGTH + 3); // a write that stopped half way through slot 0's payload
            raf.write(0x7F);
        }
        final SlotFile reopened = SlotFile.open(file, MAGIC, 1, "test state");
        assertEquals(1, reopened.sequence());
        assertEquals(41, reopened.payload().getLong(0));
        write(reopened, 43); // goes to slot 0 again (sequence 2), over the torn one
        assertEquals(43, SlotFile.open(file, MAGIC, 1, "test state").payload().getLong(0));
    }

    @Test
    void bothRecordsDamagedIsRefusedNamingTheFileAndOffsets() throws Exception
    {
        final Path file = dir.resolve("x.state");
        final SlotFile slots = SlotFile.open(file, MAGIC, 1, "test state");
        write(slots, 1);
        write(slots, 2);
        final byte[] content = Files.readAllBytes(file);
        content[SlotFile.HEADER_LENGTH] ^= 1;
        content[SlotFile.SLOT_BYTES + SlotFile.HEADER_LENGTH] ^= 1;
        Files.write(file, content);
        final IllegalStateException ex = assertThrows(IllegalStateException.class,
            () -> SlotFile.open(file, MAGIC, 1, "test state"));
        assertTrue(ex.getMessage().contains(file.toString()) && ex.getMessage().contains("offsets 0 and 4096"),
            ex.getMessage());
        assertThrows(IllegalStateException.class, () -> SlotFile.open(file, MAGIC, 2, "test state"),
            "another format version is not read as this one");
    }

    @Test
    void aFileInAnotherFormatIsHandedToItsOwnerAndReplacedByTheFirstWrite() throws Exception
    {
        final Path file = dir.resolve("x.state");
        Files.write(file, new byte[]{1, 2, 3});
        final SlotFile slots = SlotFile.open(file, MAGIC, 1, "test state");
        assertFalse(slots.hasRecord());
        assertEquals(3, slots.otherFormat().length);
        write(slots, 7);
        assertNull(slots.otherFormat());
        assertEquals(SlotFile.FILE_BYTES, Files.size(file));
        assertEquals(7, SlotFile.open(file, MAGIC, 1, "test state").payload().getLong(0));
    }

    private static void write(final SlotFile slots, final long value)
    {
        final UnsafeBuffer record = new UnsafeBuffer(new byte[16]);
        record.putLong(0, value);
        record.putLong(8, ~value);
        slots.write(record, 0, 16);
    }
}
