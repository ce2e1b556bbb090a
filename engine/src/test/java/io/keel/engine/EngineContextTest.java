package io.keel.engine;

import io.keel.journal.JournalContext;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineContextTest
{
    @TempDir
    Path dir;

    static final class Noop extends Command
    {
        @Override
        public void writeMarshallable(final BytesOut<?> out)
        {
        }

        @Override
        public void readMarshallable(final BytesIn<?> in)
        {
        }
    }

    private EngineContext valid()
    {
        return new EngineContext()
            .domain(new Domain().command(1, Noop.class, Noop::new).handler((c, d) -> { }).aggregates(id -> null))
            .journalContext(new JournalContext().dir(dir));
    }

    @Test
    void concludeNamesTheBadSetting()
    {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().ringSize(1000).conclude())
            .getMessage().startsWith(EngineContext.RING_SIZE_PROP));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().ringSize(64).maxBatchSize(128).conclude())
            .getMessage().startsWith(EngineContext.MAX_BATCH_PROP));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().idempotencyWindow(0).conclude())
            .getMessage().startsWith(EngineContext.IDEMPOTENCY_WINDOW_PROP));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> valid().idleStrategyName("nap"))
            .getMessage().startsWith(EngineContext.IDLE_STRATEGY_PROP));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> valid().maxEventBytesPerCommand(2 << 20).conclude())
            .getMessage().startsWith(EngineContext.MAX_EVENT_BYTES_PER_COMMAND_PROP));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EngineContext().conclude())
            .getMessage().contains("domain"));
    }

    @Test
    void derivesDefaults()
    {
        final EngineContext ctx = valid().ringSize(64).conclude();
        assertEquals(64, ctx.maxBatchSize());
        assertEquals(128, ctx.maxPendingResponses());
        assertEquals(dir.resolve("snapshots"), ctx.snapshotDir());
    }

    @Test
    void typesAreFrozenOnceAnEngineUsesThem()
    {
        final EngineContext ctx = valid().conclude();
        assertThrows(IllegalStateException.class, () -> ctx.domain().command(2, Noop.class, Noop::new));
        assertThrows(IllegalArgumentException.class, () -> new CommandCodecs().register(0, Noop.class, Noop::new));
        assertThrows(IllegalArgumentException.class, () -> Rejection.define(5, "RESERVED"));
    }
}
