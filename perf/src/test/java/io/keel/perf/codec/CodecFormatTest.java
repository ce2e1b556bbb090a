package io.keel.perf.codec;

import io.keel.engine.EventCodecs;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodecFormatTest
{
    @Test
    void everyFormatReadsBackEveryLedgerSampleAndReencodesToTheSameSize()
    {
        for (final String name : LedgerSamples.NAMES)
        {
            for (final CodecFormat.Kind kind : CodecFormat.Kind.values())
            {
                try (CodecFormat format = CodecFormat.of(kind, LedgerSamples.filled(name), LedgerSamples.empty(name)))
                {
                    for (int i = 0; i < 3; i++)
                    {
                        assertEquals(format.encodedSizeBytes(), format.encode(), kind + " " + name);
                        assertEquals(EventCodecs.fields(LedgerSamples.filled(name)), EventCodecs.fields(format.decode()),
                            kind + " " + name + ": " + format.encodedText());
                    }
                }
            }
        }
    }

    @Test
    void keelBinaryIsTheJournalFormAndTheSmallest()
    {
        for (final String name : LedgerSamples.NAMES)
        {
            try (CodecFormat keel = CodecFormat.of(CodecFormat.Kind.KEEL_BINARY, LedgerSamples.filled(name), LedgerSamples.empty(name));
                CodecFormat wire = CodecFormat.of(CodecFormat.Kind.WIRE_BINARY, LedgerSamples.filled(name), LedgerSamples.empty(name));
                CodecFormat json = CodecFormat.of(CodecFormat.Kind.JSON, LedgerSamples.filled(name), LedgerSamples.empty(name)))
            {
                final byte[] journal = EventCodecs.encode(LedgerSamples.filled(name));
                assertEquals(journal.length, keel.encodedSizeBytes());
                final byte[] encoded = new byte[(int)keel.encodedSizeBytes()];
                keel.in.read(encoded);
                assertArrayEquals(journal, encoded);
                assertTrue(keel.encodedSizeBytes() < wire.encodedSizeBytes(), name + " " + wire.encodedText());
                assertTrue(wire.encodedSizeBytes() < json.encodedSizeBytes() + 20, name + " " + json.encodedText());
                assertTrue(json.encodedText().startsWith("{\"account\":" + (LedgerSamples.ACCOUNT)) ||
                    json.encodedText().startsWith("{\"account\":" + (LedgerSamples.ACCOUNT + 1)), json.encodedText());
            }
        }
    }
}
