package io.keel.cli;

import io.keel.engine.EventCodecs;
import io.keel.examples.Examples;
import org.agrona.DirectBuffer;

import java.util.Map;

/**
 * The payload renderer the journal tools use: the example domains' event codecs (ledger, order book), falling
 * back to raw bytes for a type they do not know or a payload that does not decode.
 */
final class Renderers
{
    private Renderers()
    {
    }

    static PayloadRenderer forJournalTools()
    {
        final EventCodecs codecs = Examples.eventCodecs();
        return new PayloadRenderer()
        {
            public String typeName(final int type)
            {
                try
                {
                    final String name = codecs.name(type);
                    return null == name ? PayloadRenderer.RAW.typeName(type) : name;
                }
                catch (final RuntimeException ex)
                {
                    return PayloadRenderer.RAW.typeName(type);
                }
            }

            public Map<String, Object> fields(final int type, final DirectBuffer buffer, final int offset,
                final int length)
            {
                try
                {
                    return codecs.render(type, buffer, offset, length).fields();
                }
                catch (final RuntimeException ex)
                {
                    return PayloadRenderer.RAW.fields(type, buffer, offset, length);
                }
            }
        };
    }
}
