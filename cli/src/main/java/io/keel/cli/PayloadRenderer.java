package io.keel.cli;

import org.agrona.DirectBuffer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns an event's type and payload bytes into a name and fields for the journal tools.
 */
interface PayloadRenderer
{
    /**
     * @param type event type id.
     * @return simple event name.
     */
    String typeName(int type);

    /**
     * @param type   event type id.
     * @param buffer holding the payload.
     * @param offset of the payload.
     * @param length of the payload.
     * @return field name to value (Number, String or Boolean), in order.
     */
    Map<String, Object> fields(int type, DirectBuffer buffer, int offset, int length);

    /**
     * Renders any payload as its raw bytes: for types no codec knows.
     */
    PayloadRenderer RAW = new PayloadRenderer()
    {
        public String typeName(final int type)
        {
            return "type-" + type;
        }

        public Map<String, Object> fields(final int type, final DirectBuffer buffer, final int offset, final int length)
        {
            final StringBuilder hex = new StringBuilder(length * 2);
            for (int i = 0; i < length; i++)
            {
                hex.append(String.format("%02x", buffer.getByte(offset + i) & 0xFF));
            }
            final Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("length", length);
            fields.put("hex", hex.toString());
            return fields;
        }
    };
}
