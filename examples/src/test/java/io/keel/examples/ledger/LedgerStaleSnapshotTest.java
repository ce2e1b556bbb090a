package io.keel.examples.ledger;

import io.keel.engine.CommandOutcome;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.journal.DurabilityPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.keel.examples.ledger.LedgerTestSupport.balance;
import static io.keel.examples.ledger.LedgerTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * A snapshot that covers journal bytes which were later lost (an unsynced tail after a power loss with
 * fsync none; later, a tail truncated on failover) must never be used once the journal has grown past its position
 * again with different commands.
 */
class LedgerStaleSnapshotTest
{
    @TempDir
    Path dir;

    private EngineContext context()
    {
        final EngineContext ctx = LedgerTestSupport.context(dir);
        ctx.journalContext().durability(DurabilityPolicy.NONE);
        return ctx;
    }

    @Test
    void snapshotBeyondALostTailIsNotLoadedAfterTheJournalRegrowsPastIt() throws IOException
    {
        final long p0;
        final long p1;
        try (Engine engine = Engine.launch(context()))
        {
            p0 = ((CommandOutcome.Accepted)run(engine, 1, 1, new OpenAccount().set(1, 1_000))).position();
            p1 = ((CommandOutcome.Accepted)run(engine, 1, 2, new Deposit().set(1, 500))).position();
            LedgerTestSupport.await(engine.snapshot()); // snapshot at p1: balance 1500, remembers 1:2
        }

        // the machine loses power: the written but never fsynced tail (the deposit 1:2) is gone
        final Path segment = onlySegment();
        try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE))
        {
            channel.truncate(channel.size() - (p1 - p0));
        }

        final long p2;
        try (Engine engine = Engine.launch(context()))
        {
            assertEquals(1_000, balance(engine, 1), "the lost deposit is gone");
            p2 = ((CommandOutcome.Accepted)run(engine, 1, 3, new Deposit().set(1, 7))).position();
            assertEquals(1_007, balance(engine, 1));
        }
        assertEquals(p1, p2, "precondition: the journal grew back to exactly the stale snapshot's position");

        try (Engine engine = Engine.launch(context()))
        {
            assertEquals(1_007, balance(engine, 1), "state after restart equals the journal's state");
            final CommandOutcome retry = run(engine, 1, 3, new Deposit().set(1, 7));
            assertInstanceOf(CommandOutcome.Accepted.class, retry);
            assertEquals(true, ((CommandOutcome.Accepted)retry).duplicate(), "a retry of 1:3 is not applied again");
            assertEquals(1_007, balance(engine, 1));
            final CommandOutcome lost = run(engine, 1, 2, new Deposit().set(1, 500));
            assertFalse(((CommandOutcome.Accepted)lost).duplicate(), "1:2 is not in the journal: not a duplicate");
        }
    }

    private Path onlySegment() throws IOException
    {
        try (Stream<Path> files = Files.list(dir.resolve("journal")))
        {
            final List<Path> segments = files.filter(Files::isRegularFile)
                .filter(p -> !p.getFileName().toString().startsWith("journal.lock"))
                .collect(Collectors.toList());
            assertEquals(1, segments.size(), "one segment file: " + segments);
            return segments.get(0);
        }
    }
}
