package io.keel.examples.ledger;

import io.keel.engine.CommandOutcome;
import io.keel.engine.Engine;
import io.keel.engine.EngineContext;
import io.keel.journal.DurabilityPolicy;
import io.keel.journal.JournalContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class LedgerSmokeTest
{
    @TempDir
    Path dir;

    EngineContext context()
    {
        return new EngineContext()
            .domain(Ledger.domain())
            .ringSize(1024)
            .idempotencyWindow(1024)
            .journalContext(new JournalContext().dir(dir.resolve("journal")).segmentSizeBytes(8 << 20).maxFrameLengthBytes(64 * 1024).stagingBufferBytes(1 << 20).readBufferBytes(256 * 1024)
                .durability(DurabilityPolicy.BATCH));
    }

    @Test
    void transferMovesMoney() throws Exception
    {
        try (Engine engine = Engine.launch(context()))
        {
            assertInstanceOf(CommandOutcome.Accepted.class,
                engine.submit(1, 1, new OpenAccount().set(1, 100)).get(10, TimeUnit.SECONDS));
            assertInstanceOf(CommandOutcome.Accepted.class,
                engine.submit(1, 2, new OpenAccount().set(2, 0)).get(10, TimeUnit.SECONDS));
            final CommandOutcome t = engine.submit(1, 3, new Transfer().set(1, 2, 40)).get(10, TimeUnit.SECONDS);
            System.out.println(t);
            final CommandOutcome r = engine.submit(1, 4, new Transfer().set(1, 2, 400)).get(10, TimeUnit.SECONDS);
            System.out.println(r);
            assertEquals(60L, engine.query(1, a -> ((Account)a).balance()).get(10, TimeUnit.SECONDS));
            System.out.println(engine.counters());
        }
        try (Engine engine = Engine.launch(context()))
        {
            assertEquals(60L, engine.query(1, a -> ((Account)a).balance()).get(10, TimeUnit.SECONDS));
            assertEquals(40L, engine.query(2, a -> ((Account)a).balance()).get(10, TimeUnit.SECONDS));
            System.out.println(engine.aggregateAt(1, 1).get(10, TimeUnit.SECONDS));
        }
    }
}
