package io.keel.perf.codec;

import io.keel.perf.report.JsonReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodecBenchTest
{
    @Test
    void runsEveryFormatAndOpAndWritesRatiosToKeelBinary(@TempDir final Path dir) throws Exception
    {
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        final File folder = CodecBench.run(new CodecBench.Settings()
            .forks(0) // in this JVM: proves the JMH wiring, not the numbers
            .warmup(0, 1)
            .measurement(1, 20)
            .events(List.of("Deposited"))
            .outputDirectory(dir.toFile()), new PrintStream(text, true, StandardCharsets.UTF_8));

        assertTrue(folder.getName().endsWith("-codec"), folder.getName());
        assertTrue(new File(folder, "jmh.json").isFile());
        assertTrue(new File(folder, "table.md").isFile());
        final Map<String, Object> summary =
            JsonReader.parseObject(Files.readString(new File(folder, "summary.json").toPath()));
        final List<?> results = (List<?>)summary.get("results");
        assertEquals(6, results.size(), "3 formats x encode/decode");
        for (final Object result : results)
        {
            final Map<?, ?> row = (Map<?, ?>)result;
            assertTrue(((Number)row.get("opsPerSecond")).doubleValue() > 0, row.toString());
            if ("keel-binary".equals(row.get("format")))
            {
                assertEquals(1.0, ((Number)row.get("opsPerSecondVsKeelBinary")).doubleValue(), 1e-9);
                assertEquals(5L, ((Number)row.get("encodedBytes")).longValue(), "Deposited: 3 + 2 stop-bit bytes");
            }
        }
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("ops/s vs keel"));
    }
}
