package io.keel.cli;

import io.keel.journal.DurabilityPolicy;
import io.keel.journal.Journal;
import io.keel.journal.JournalAppender;
import io.keel.journal.JournalContext;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class JournalToolsTest
{
    @TempDir
    Path dir;

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private PrintStream originalOut;
    private PrintStream originalErr;

    @BeforeEach
    void captureOutput()
    {
        originalOut = System.out;
        originalErr = System.err;
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreOutput()
    {
        System.setOut(originalOut);
        System.setErr(originalErr);
    }

    private int run(final String... args)
    {
        stdout.reset();
        stderr.reset();
        return KeelCli.newCommandLine().execute(args);
    }

    private void writeJournal(final Path journalDir, final int groups)
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[16]);
        try (Journal journal = Journal.open(new JournalContext().dir(journalDir).segmentSizeBytes(8192)
            .maxFrameLengthBytes(1024).stagingBufferBytes(4096).readBufferBytes(4096)
            .durability(DurabilityPolicy.NONE)))
        {
            final JournalAppender appender = journal.appender();
            for (int i = 0; i < groups; i++)
            {
                payload.putLong(0, i);
                appender.append(1, 1_000 + i, 42, i + 1, 1 + (i % 3), 1 + (i / 3), 7, payload, 0, 16, true);
            }
            appender.flush();
        }
    }

    private List<Path> segments(final Path journalDir) throws IOException
    {
        try (Stream<Path> files = Files.list(journalDir))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(".keel")).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void verifyAcceptsAGoodJournalGivenTheNodeDirectory()
    {
        writeJournal(dir.resolve("journal"), 300);
        assertEquals(0, run("journal", "verify", dir.toString()), stdout.toString());
        assertTrue(stdout.toString().startsWith("OK: 300 frames"), stdout.toString());
    }

    @Test
    void verifyNamesFileAndOffsetOfAFlippedBitAndExitsNonZero() throws IOException
    {
        writeJournal(dir, 300);
        final Path first = segments(dir).get(0);
        final long offset = 64 + 88 * 3 + 80; // inside the payload of the fourth frame (frames are 72 + 16 bytes)
        try (RandomAccessFile file = new RandomAccessFile(first.toFile(), "rw"))
        {
            file.seek(offset);
            final int b = file.read();
            file.seek(offset);
            file.write(b ^ 0x10);
        }
        assertEquals(1, run("journal", "verify", dir.toString()));
        final String out = stdout.toString();
        assertTrue(out.startsWith("CORRUPT: " + first + " offset " + (64 + 88 * 3)), out);
    }

    @Test
    void verifyReportsATornTailWithoutCuttingIt() throws IOException
    {
        writeJournal(dir, 10);
        final Path last = segments(dir).get(segments(dir).size() - 1);
        final long size = Files.size(last);
        try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw"))
        {
            file.setLength(size - 10);
        }
        assertEquals(1, run("journal", "verify", dir.toString()));
        assertTrue(stdout.toString().startsWith("TORN TAIL: " + last), stdout.toString());
        assertEquals(size - 10, Files.size(last), "verify must not change the journal");
    }

    @Test
    void dumpPrintsOneJsonLinePerEventWithTheContractFields()
    {
        writeJournal(dir, 5);
        assertEquals(0, run("journal", "dump", dir.toString()));
        final String[] lines = stdout.toString().split("\n");
        assertEquals(5, lines.length);
        assertTrue(lines[0].startsWith("{\"position\":0,\"epoch\":1,\"timestampNs\":1000,\"clientId\":42," +
            "\"commandId\":1,\"stream\":1,\"version\":1,\"type\":"), lines[0]);
        assertTrue(lines[0].contains("\"payload\":{"), lines[0]);
    }

    @Test
    void dumpFiltersByStreamAndStartsFromAPosition()
    {
        writeJournal(dir, 9);
        assertEquals(0, run("journal", "dump", dir.toString(), "--stream", "2"));
        final String[] lines = stdout.toString().split("\n");
        assertEquals(3, lines.length);
        for (final String line : lines)
        {
            assertTrue(line.contains("\"stream\":2,"), line);
        }
        assertEquals(0, run("journal", "dump", dir.toString(), "--from", "88", "--format", "yaml"));
        assertTrue(stdout.toString().startsWith("- position: 88\n  epoch: 1\n"), stdout.toString());
        assertEquals(8, stdout.toString().split("\n- ").length);
    }

    @Test
    void statsCountsEventsSegmentsAndTypes()
    {
        writeJournal(dir, 200);
        assertEquals(0, run("journal", "stats", dir.toString()));
        final String out = stdout.toString();
        assertTrue(out.contains("events:         200 in 200 groups"), out);
        assertTrue(out.contains("streams:        3"), out);
    }

    @Test
    void toolsRefuseADirectoryThatIsNotAJournal() throws IOException
    {
        Files.writeString(dir.resolve("notes.txt"), "hello");
        assertEquals(1, run("journal", "verify", dir.toString()));
        assertTrue(stdout.toString().contains("is not a Keel journal"), stdout.toString());
        assertEquals(1, run("journal", "dump", dir.toString()));
        assertTrue(stderr.toString().contains("is not a Keel journal"), stderr.toString());
    }

    @Test
    void unknownOptionIsAUsageError()
    {
        assertEquals(2, run("journal", "dump", dir.toString(), "--bogus"));
        assertTrue(stderr.toString().contains("Unknown option"), stderr.toString());
    }
}
