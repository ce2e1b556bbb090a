package io.keel.gateway;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports on 127.0.0.1 for the nodes that tests, benchmarks and the demo start, picked so that nothing else takes
 * them while those nodes are down.
 * <p>
 * Asking the kernel for port 0 hands out a port from its ephemeral range, and every Aeron publication binds its
 * sending socket to an ephemeral port too. A node that is killed and restarted on the same ports (a failover drill)
 * can then find its port taken by some sender that started in the meantime: the restart fails with "address in
 * use". So the ports come from below the ephemeral range (read from {@code /proc/sys/net/ipv4/ip_local_port_range}
 * where the host has it), at random, are checked free for both UDP and TCP, and are never handed out twice by one
 * process.
 */
public final class LoopbackPorts
{
    /** Lowest port handed out: above the well-known and most registered service ports. */
    static final int LOWEST = 10_000;
    private static final int[] DEFAULT_EPHEMERAL = {32_768, 60_999};
    private static final int ENOUGH = 1_000;
    private static final int ATTEMPTS = 1_000;
    private static final BitSet HANDED_OUT = new BitSet(65_536);
    private static final int[] RANGE = pickable(ephemeral(Path.of("/proc/sys/net/ipv4/ip_local_port_range")));

    private LoopbackPorts()
    {
    }

    /**
     * @return a port on 127.0.0.1, free for UDP and TCP right now, outside the ephemeral range, and not returned
     * before by this process.
     * @throws IllegalStateException when no such port is found.
     */
    public static int freePort()
    {
        final int low = RANGE[0];
        final int high = RANGE[1];
        for (int attempt = 0; attempt < ATTEMPTS; attempt++)
        {
            final int port = ThreadLocalRandom.current().nextInt(low, high);
            synchronized (HANDED_OUT)
            {
                if (HANDED_OUT.get(port) || !bindable(port))
                {
                    continue;
                }
                HANDED_OUT.set(port);
                return port;
            }
        }
        throw new IllegalStateException("no free port on 127.0.0.1 between " + low + " and " + high + " after " +
            ATTEMPTS + " attempts");
    }

    /**
     * @param count how many.
     * @return that many distinct ports, each as {@link #freePort()}.
     */
    public static int[] freePorts(final int count)
    {
        final int[] ports = new int[count];
        for (int i = 0; i < count; i++)
        {
            ports[i] = freePort();
        }
        return ports;
    }

    static boolean bindable(final int port)
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, port));
            ServerSocket tcp = new ServerSocket(port, 1, loopback))
        {
            return udp.getLocalPort() == port && tcp.getLocalPort() == port;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /**
     * @param ephemeral the kernel's ephemeral range, both ends inclusive.
     * @return the range to pick from, {@code [low, high)}: below the ephemeral range, else above it, else anywhere
     * above {@link #LOWEST} when neither side is wide enough.
     */
    static int[] pickable(final int[] ephemeral)
    {
        if (ephemeral[0] - LOWEST >= ENOUGH)
        {
            return new int[]{LOWEST, ephemeral[0]};
        }
        if (65_535 - ephemeral[1] >= ENOUGH)
        {
            return new int[]{ephemeral[1] + 1, 65_536};
        }
        return new int[]{LOWEST, 65_536};
    }

    static int[] ephemeral(final Path rangeFile)
    {
        try
        {
            final String[] range = new String(Files.readAllBytes(rangeFile), StandardCharsets.US_ASCII).trim()
                .split("\\s+");
            return new int[]{Integer.parseInt(range[0]), Integer.parseInt(range[1])};
        }
        catch (final IOException | RuntimeException ex)
        {
            return DEFAULT_EPHEMERAL.clone();
        }
    }
}
