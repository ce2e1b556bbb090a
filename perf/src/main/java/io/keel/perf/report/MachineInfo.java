package io.keel.perf.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * What the numbers were measured on: cores, CPU model, OS, JVM. Absolute figures mean little without it.
 */
public final class MachineInfo
{
    private final int cores;
    private final String cpu;
    private final String os;
    private final String jvm;

    private MachineInfo(final int cores, final String cpu, final String os, final String jvm)
    {
        this.cores = cores;
        this.cpu = cpu;
        this.os = os;
        this.jvm = jvm;
    }

    /**
     * The machine this JVM runs on.
     *
     * @return the description.
     */
    public static MachineInfo current()
    {
        return new MachineInfo(
            Runtime.getRuntime().availableProcessors(),
            cpuModel(),
            System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
            System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    }

    /**
     * Cores available to this JVM.
     *
     * @return the count.
     */
    public int cores()
    {
        return cores;
    }

    /**
     * CPU model name, or "unknown".
     *
     * @return the model.
     */
    public String cpu()
    {
        return cpu;
    }

    /**
     * Operating system name, version and architecture.
     *
     * @return the text.
     */
    public String os()
    {
        return os;
    }

    /**
     * JVM name and version.
     *
     * @return the text.
     */
    public String jvm()
    {
        return jvm;
    }

    /**
     * One line for plot subtitles and report headers.
     *
     * @return e.g. {@code 2 cores (Intel Xeon ...), Linux 6.1 amd64, OpenJDK 64-Bit Server VM 17.0.15}.
     */
    public String oneLine()
    {
        return cores + " cores (" + cpu + "), " + os + ", " + jvm;
    }

    void writeTo(final JsonWriter json)
    {
        json.name("machine").beginObject()
            .field("cores", cores)
            .field("cpu", cpu)
            .field("os", os)
            .field("jvm", jvm)
            .endObject();
    }

    private static String cpuModel()
    {
        final Path cpuInfo = Paths.get("/proc/cpuinfo");
        if (Files.isReadable(cpuInfo))
        {
            try
            {
                final List<String> lines = Files.readAllLines(cpuInfo, StandardCharsets.UTF_8);
                for (final String line : lines)
                {
                    if (line.startsWith("model name"))
                    {
                        return line.substring(line.indexOf(':') + 1).trim().replaceAll("\\s+", " ");
                    }
                }
            }
            catch (final IOException ignore)
            {
                // not Linux or not readable: fall through to "unknown"
            }
        }
        return "unknown";
    }
}
