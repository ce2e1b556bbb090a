package io.keel.gateway;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopbackPortsTest
{
    @TempDir
    Path tmp;

    @Test
    void portsComeFromOutsideTheEphemeralRangeAreDistinctAndFree() throws Exception
    {
        final int[] ephemeral = LoopbackPorts.ephemeral(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
        final Set<Integer> seen = new HashSet<>();
        for (final int port : LoopbackPorts.freePorts(200))
        {
            assertTrue(port < ephemeral[0] || port > ephemeral[1], port + " is in the ephemeral range");
            assertTrue(seen.add(port), port + " handed out twice");
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                port)))
            {
                assertEquals(port, socket.getLocalPort());
            }
        }
    }

    @Test
    void aPortInUseIsNotBindable() throws Exception
    {
        final int port = LoopbackPorts.freePort();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)))
        {
            assertFalse(LoopbackPorts.bindable(port));
        }
        assertTrue(LoopbackPorts.bindable(port));
    }

    @Test
    void theRangeIsBelowTheEphemeralOneElseAboveElseWide() throws Exception
    {
        final Path file = tmp.resolve("range");
        Files.writeString(file, "32768\t60999\n");
        assertArrayEquals(new int[]{32768, 60999}, LoopbackPorts.ephemeral(file));
        assertArrayEquals(new int[]{LoopbackPorts.LOWEST, 32768}, LoopbackPorts.pickable(new int[]{32768, 60999}));
        assertArrayEquals(new int[]{50001, 65536}, LoopbackPorts.pickable(new int[]{1024, 50000}));
        assertArrayEquals(new int[]{LoopbackPorts.LOWEST, 65536}, LoopbackPorts.pickable(new int[]{1024, 65000}));
        assertArrayEquals(new int[]{32768, 60999}, LoopbackPorts.ephemeral(tmp.resolve("absent")));
        Files.writeString(file, "garbage");
        assertArrayEquals(new int[]{32768, 60999}, LoopbackPorts.ephemeral(file));
    }
}
