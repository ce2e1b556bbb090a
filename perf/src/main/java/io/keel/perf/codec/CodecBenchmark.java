package io.keel.perf.codec;

import io.keel.engine.Event;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * JMH: encode and decode one ledger event in Keel's compact binary, in Chronicle Wire's self-describing binary, and
 * in JSON (Chronicle {@code JSONWire}), each into a buffer made once and reused. Run it with {@code keel bench codec}
 * ({@link CodecBench}), which adds the GC profiler for bytes allocated per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class CodecBenchmark
{
    /** Which ledger event: {@code Deposited} (2 fields), {@code Debited} or {@code Credited} (3 fields). */
    @Param({ "Deposited", "Debited" })
    public String event;

    private CodecFormat keelBinary;
    private CodecFormat wireBinary;
    private CodecFormat json;

    /**
     * Builds the three formats, each with its encoded form of the event ready to decode.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        keelBinary = CodecFormat.of(CodecFormat.Kind.KEEL_BINARY, LedgerSamples.filled(event), LedgerSamples.empty(event));
        wireBinary = CodecFormat.of(CodecFormat.Kind.WIRE_BINARY, LedgerSamples.filled(event), LedgerSamples.empty(event));
        json = CodecFormat.of(CodecFormat.Kind.JSON, LedgerSamples.filled(event), LedgerSamples.empty(event));
    }

    /**
     * Frees the buffers.
     */
    @TearDown(Level.Trial)
    public void tearDown()
    {
        keelBinary.close();
        wireBinary.close();
        json.close();
    }

    /** @return bytes written. */
    @Benchmark
    public long keelBinaryEncode()
    {
        return keelBinary.encode();
    }

    /** @return the decoded event. */
    @Benchmark
    public Event keelBinaryDecode()
    {
        return keelBinary.decode();
    }

    /** @return bytes written. */
    @Benchmark
    public long wireBinaryEncode()
    {
        return wireBinary.encode();
    }

    /** @return the decoded event. */
    @Benchmark
    public Event wireBinaryDecode()
    {
        return wireBinary.decode();
    }

    /** @return bytes written. */
    @Benchmark
    public long jsonEncode()
    {
        return json.encode();
    }

    /** @return the decoded event. */
    @Benchmark
    public Event jsonDecode()
    {
        return json.decode();
    }
}
