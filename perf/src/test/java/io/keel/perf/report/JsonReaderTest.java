package io.keel.perf.report;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonReaderTest
{
    @Test
    void readsBackWhatTheWriterWrites()
    {
        final String text = new JsonWriter().beginObject()
            .field("name", "ring \"sp\"\n")
            .field("rate", 100_000L)
            .field("p99Us", 12.375)
            .field("missing", Double.NaN)
            .name("list").beginArray().value(1L).value(true).value("x").endArray()
            .name("empty").beginObject().endObject()
            .endObject()
            .toString();

        final Map<String, Object> json = JsonReader.parseObject(text);

        assertEquals("ring \"sp\"\n", json.get("name"));
        assertEquals(100_000.0, json.get("rate"));
        assertEquals(12.375, (Double)json.get("p99Us"), 1e-9);
        assertNull(json.get("missing"));
        assertEquals(List.of(1.0, true, "x"), json.get("list"));
        assertEquals(Map.of(), json.get("empty"));
    }

    @Test
    void reportsWhereTheDocumentIsBroken()
    {
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> JsonReader.parse("{\"a\": [1, 2}"));
        assertEquals("JSON error at offset 11: expected ',' or ']'", ex.getMessage());
    }
}
