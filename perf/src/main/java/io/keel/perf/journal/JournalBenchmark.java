package io.keel.perf.journal;

import io.keel.journal.DurabilityPolicy;
import io.keel.journal.FrameDescriptor;
import io.keel.journal.Journal;
import io.keel.journal.JournalAppender;
import io.keel.journal.JournalContext;
import io.keel.journal.JournalReader;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Journal append and replay throughput, side by side in one run with the physical limit (raw sequential
 * {@link FileChannel} writes of the same frame bytes, in the same batch sizes, with the same fsyncs) and the peer
 * (Chronicle Queue appends of the same payloads). Prints a table and saves {@code summary.json} and
 * {@code table.txt} under {@code perf/results/<date>-journal/}.
 * <p>
 * Each case runs {@code iterations} times after one warm-up run; the median is reported, so one scheduling stall
 * on a shared 2-core machine does not decide the figure.
 */
public final class JournalBenchmark
{
    /** One measured case. */
    record Result(
        String scenario, String system, int payloadBytes, String policy, int batch, long events, long bytes,
        long medianNs, long fsyncs, double allocatedBytesPerEvent)
    {
        double eventsPerSecond()
        {
            return events * 1e9 / medianNs;
        }

        double megabytesPerSecond()
        {
            return bytes * 1e9 / medianNs / (1024.0 * 1024.0);
        }
    }

    private final Path workDir;
    private final long noneEvents;
    private final long batchEvents;
    private final long alwaysEvents;
    private final int iterations;
    private final List<Result> results = new ArrayList<>();
    private long loopAllocatedBytes = -1;
    private final PrintStream out;

    JournalBenchmark(final Path workDir, final long noneEvents, final int iterations, final PrintStream out)
    {
        this.workDir = workDir;
        this.noneEvents = noneEvents;
        this.batchEvents = Math.max(1000, noneEvents / 4);
        this.alwaysEvents = Math.max(200, noneEvents / 500);
        this.iterations = iterations;
        this.out = out;
    }

    /**
     * Run every case.
     *
     * @param args {@code [--quick] [--dir DIR] [--results DIR]}.
     */
    public static void main(final String[] args) throws Exception
    {
        boolean quick = false;
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "keel-journal-bench");
        Path resultsRoot = Paths.get("perf", "results");
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--quick" -> quick = true;
                case "--dir" -> dir = Paths.get(args[++i]);
                case "--results" -> resultsRoot = Paths.get(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] +
                    "; usage: [--quick] [--dir WORKDIR] [--results DIR]");
            }
        }
        final JournalBenchmark benchmark = new JournalBenchmark(dir, quick ? 400_000 : 2_000_000, quick ? 3 : 5,
            System.out);
        benchmark.runAll();
        final Path resultDir = resultsRoot.resolve(
            LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss")) + "-journal");
        benchmark.save(resultDir);
        System.out.println("saved " + resultDir);
    }

    void runAll() throws Exception
    {
        out.printf("journal benchmark: %d events per case (batch policy %d, always %d), median of %d runs%n",
            noneEvents, batchEvents, alwaysEvents, iterations);
        for (final int payload : new int[]{ 64, 256 })
        {
            measure("append", "raw FileChannel", payload, "none", 4096, noneEvents, this::rawWrite);
            measure("append", "keel journal", payload, "none", 4096, noneEvents, this::journalAppend);
            measure("append", "chronicle queue", payload, "none", 1, noneEvents, this::chronicleAppend);
            for (final int batch : new int[]{ 16, 256 })
            {
                measure("append", "raw FileChannel", payload, "batch", batch, batchEvents, this::rawWrite);
                measure("append", "keel journal", payload, "batch", batch, batchEvents, this::journalAppend);
            }
            measure("append", "raw FileChannel", payload, "always", 1, alwaysEvents, this::rawWrite);
            measure("append", "keel journal", payload, "always", 1, alwaysEvents, this::journalAppend);
            measure("replay", "raw FileChannel", payload, "-", 0, noneEvents, this::rawReplay);
            measure("replay", "keel journal", payload, "-", 0, noneEvents, this::journalReplay);
        }
        printTable(out);
    }

    @FunctionalInterface
    interface Case
    {
        /** @return fsyncs done. */
        long run(Path dir, int payloadBytes, String policy, int batch, long events) throws Exception;
    }

    private void measure(
        final String scenario, final String system, final int payloadBytes, final String policy, final int batch,
        final long events, final Case body) throws Exception
    {
        final long[] nanos = new long[iterations];
        long fsyncs = 0;
        double allocPerEvent = 0;
        for (int i = -1; i < iterations; i++)
        {
            final Path dir = workDir.resolve(system.replace(' ', '-') + "-" + payloadBytes + "-" + policy + "-" + batch);
            if (!"replay".equals(scenario))
            {
                deleteRecursively(dir);
                Files.createDirectories(dir);
            }
            final long allocBefore = threadAllocatedBytes();
            final long start = System.nanoTime();
            fsyncs = body.run(dir, payloadBytes, policy, batch, events);
            final long elapsed = System.nanoTime() - start;
            final long allocated = loopAllocatedBytes >= 0 ? loopAllocatedBytes : threadAllocatedBytes() - allocBefore;
            loopAllocatedBytes = -1;
            if (i >= 0)
            {
                nanos[i] = elapsed;
                allocPerEvent = (double)allocated / events;
            }
        }
        java.util.Arrays.sort(nanos);
        final long frameBytes = "chronicle queue".equals(system) ? payloadBytes :
            FrameDescriptor.alignedFrameLength(payloadBytes);
        final Result result = new Result(scenario, system, payloadBytes, policy, batch, events, events * frameBytes,
            nanos[iterations / 2], fsyncs, allocPerEvent);
        results.add(result);
        out.printf(Locale.ROOT, "  %-7s %-16s %4dB %-7s batch %-5d %,14.0f events/s %9.1f MB/s  alloc %.2f B/event%n",
            scenario, system, payloadBytes, policy, batch, result.eventsPerSecond(), result.megabytesPerSecond(),
            allocPerEvent);
    }

    // ------------------------------------------------------------------------------------------------------------
    // cases

    /**
     * The physical limit: the same frame bytes (as the journal would write them) written sequentially with
     * positional FileChannel writes from one direct buffer, fsynced as the policy says.
     */
    private long rawWrite(final Path dir, final int payloadBytes, final String policy, final int batch, final long events)
        throws IOException
    {
        final int frameLength = FrameDescriptor.alignedFrameLength(payloadBytes);
        final int perWrite = "none".equals(policy) ? Math.max(1, (4 << 20) / frameLength) : batch;
        final ByteBuffer chunk = ByteBuffer.allocateDirect(perWrite * frameLength);
        for (int i = 0; i < chunk.capacity(); i++)
        {
            chunk.put(i, (byte)i);
        }
        long fsyncs = 0;
        long fileOffset = 0;
        try (FileChannel channel = FileChannel.open(dir.resolve("raw.dat"), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE, StandardOpenOption.READ))
        {
            long written = 0;
            while (written < events)
            {
                final int n = (int)Math.min(perWrite, events - written);
                chunk.clear().limit(n * frameLength);
                while (chunk.hasRemaining())
                {
                    fileOffset += channel.write(chunk, fileOffset);
                }
                written += n;
                if (!"none".equals(policy))
                {
                    channel.force(false);
                    fsyncs++;
                }
            }
        }
        return fsyncs;
    }

    private long journalAppend(final Path dir, final int payloadBytes, final String policy, final int batch,
        final long events)
    {
        final UnsafeBuffer payload = new UnsafeBuffer(ByteBuffer.allocateDirect(payloadBytes));
        for (int i = 0; i < payloadBytes; i++)
        {
            payload.putByte(i, (byte)i);
        }
        final int flushEvery = "none".equals(policy) ? Integer.MAX_VALUE : batch;
        long fsyncs = 0;
        try (Journal journal = Journal.open(new JournalContext().dir(dir).durability(DurabilityPolicy.parse(policy))))
        {
            final JournalAppender appender = journal.appender();
            int inBatch = 0;
            long allocBefore = 0;
            for (long i = 0; i < events; i++)
            {
                if (i == events / 10)
                {
                    allocBefore = threadAllocatedBytes(); // steady state: after the first tenth
                }
                final int offset = appender.claim(1, i, 1, i, FrameDescriptor.NO_STREAM, 0, 1, payloadBytes);
                appender.buffer().putBytes(offset, payload, 0, payloadBytes);
                appender.commit(true);
                if (++inBatch == flushEvery)
                {
                    appender.flush();
                    inBatch = 0;
                    fsyncs++;
                }
            }
            appender.flush();
            loopAllocatedBytes = (long)((threadAllocatedBytes() - allocBefore) / 0.9);
            if ("always".equals(policy))
            {
                fsyncs = events;
            }
        }
        return fsyncs;
    }

    private long chronicleAppend(final Path dir, final int payloadBytes, final String policy, final int batch,
        final long events)
    {
        final byte[] payload = new byte[payloadBytes];
        for (int i = 0; i < payloadBytes; i++)
        {
            payload[i] = (byte)i;
        }
        try (ChronicleQueue queue = ChronicleQueue.singleBuilder(dir).build();
            ExcerptAppender appender = queue.createAppender())
        {
            for (long i = 0; i < events; i++)
            {
                try (DocumentContext dc = appender.writingDocument())
                {
                    dc.wire().bytes().write(payload);
                }
            }
        }
        return 0;
    }

    private long rawReplay(final Path dir, final int payloadBytes, final String policy, final int batch,
        final long events) throws IOException
    {
        final Path file = workDir.resolve("raw-FileChannel-" + payloadBytes + "-none-4096").resolve("raw.dat");
        final ByteBuffer chunk = ByteBuffer.allocateDirect(2 << 20);
        long sum = 0;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            long offset = 0;
            int read;
            while ((read = channel.read(chunk.clear(), offset)) > 0)
            {
                offset += read;
                sum += chunk.get(0);
            }
        }
        return sum == Long.MIN_VALUE ? 1 : 0;
    }

    private long journalReplay(final Path dir, final int payloadBytes, final String policy, final int batch,
        final long events)
    {
        final Path journalDir = workDir.resolve("keel-journal-" + payloadBytes + "-none-4096");
        final long[] count = new long[1];
        try (Journal journal = Journal.open(new JournalContext().dir(journalDir).readOnly(true));
            JournalReader reader = journal.reader(journal.startPosition()))
        {
            while (reader.poll(frame -> count[0]++, 4096) > 0)
            {
                // every frame's CRC is checked by the reader
            }
        }
        if (count[0] != events)
        {
            throw new IllegalStateException("replayed " + count[0] + " events, expected " + events);
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // reporting

    void printTable(final PrintStream out)
    {
        out.println();
        out.println(table());
    }

    String table()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append("| case | payload | keel events/s | keel MB/s | baseline | baseline events/s | keel / baseline |\n");
        sb.append("| --- | ---: | ---: | ---: | --- | ---: | ---: |\n");
        for (final Result keel : results)
        {
            if (!"keel journal".equals(keel.system()))
            {
                continue;
            }
            for (final Result base : results)
            {
                if (base == keel || base.payloadBytes() != keel.payloadBytes() ||
                    !base.scenario().equals(keel.scenario()))
                {
                    continue;
                }
                final boolean samePolicy = base.policy().equals(keel.policy()) && base.batch() == keel.batch();
                final boolean peer = "chronicle queue".equals(base.system()) && "none".equals(keel.policy());
                if (!samePolicy && !peer)
                {
                    continue;
                }
                final String caseName = keel.scenario() + " " + keel.policy() +
                    ("batch".equals(keel.policy()) ? " (" + keel.batch() + "/fsync)" : "");
                sb.append(String.format(Locale.ROOT, "| %s | %d B | %,.0f | %.0f | %s | %,.0f | %.2f |%n",
                    caseName, keel.payloadBytes(), keel.eventsPerSecond(), keel.megabytesPerSecond(), base.system(),
                    base.eventsPerSecond(), keel.eventsPerSecond() / base.eventsPerSecond()));
            }
        }
        return sb.toString();
    }

    void save(final Path resultDir) throws IOException
    {
        Files.createDirectories(resultDir);
        Files.writeString(resultDir.resolve("table.md"), table());
        final StringBuilder json = new StringBuilder("{\n  \"scenario\": \"journal\",\n  \"jdk\": \"")
            .append(System.getProperty("java.version")).append("\",\n  \"cpus\": ")
            .append(Runtime.getRuntime().availableProcessors()).append(",\n  \"results\": [\n");
        for (int i = 0; i < results.size(); i++)
        {
            final Result r = results.get(i);
            json.append(String.format(Locale.ROOT,
                "    {\"scenario\": \"%s\", \"system\": \"%s\", \"payloadBytes\": %d, \"policy\": \"%s\", " +
                "\"batch\": %d, \"events\": %d, \"medianNs\": %d, \"eventsPerSecond\": %.1f, " +
                "\"megabytesPerSecond\": %.2f, \"fsyncs\": %d, \"allocatedBytesPerEvent\": %.3f}%s%n",
                r.scenario(), r.system(), r.payloadBytes(), r.policy(), r.batch(), r.events(), r.medianNs(),
                r.eventsPerSecond(), r.megabytesPerSecond(), r.fsyncs(), r.allocatedBytesPerEvent(),
                i + 1 < results.size() ? "," : ""));
        }
        json.append("  ]\n}\n");
        Files.writeString(resultDir.resolve("summary.json"), json);
    }

    private static long threadAllocatedBytes()
    {
        final java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        if (bean instanceof com.sun.management.ThreadMXBean sun)
        {
            return sun.getThreadAllocatedBytes(Thread.currentThread().getId());
        }
        return 0;
    }

    static void deleteRecursively(final Path dir) throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir))
        {
            for (final Path path : paths.sorted(Comparator.reverseOrder()).toList())
            {
                Files.delete(path);
            }
        }
    }

}
