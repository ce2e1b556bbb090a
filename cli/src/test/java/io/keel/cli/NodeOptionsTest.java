package io.keel.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code keel node} refuses settings it cannot honour with exit code 2 and a message naming the option. */
class NodeOptionsTest
{
    @TempDir
    Path dir;

    @Test
    void unknownJournalRetentionIsRefused()
    {
        assertRefused("--journal-retention 'weekly'", "--members", "0=127.0.0.1:9100:9200", "--journal-retention",
            "weekly");
    }

    @Test
    void promoteBehindBelowTheFailureTimeoutIsRefused()
    {
        final int[] ports = io.keel.gateway.LoopbackPorts.freePorts(4);
        assertRefused("promoteBehindAfterMs = 10 must be -1 (never) or in [the failure timeout 50", "--members",
            "0=127.0.0.1:" + ports[0] + ":" + ports[1] + ",1=127.0.0.1:" + ports[2] + ":" + ports[3], "--ack", "async",
            "--promote-behind-after", "10");
    }

    private void assertRefused(final String expected, final String... options)
    {
        final String[] args = new String[options.length + 5];
        args[0] = "node";
        args[1] = "--id";
        args[2] = "0";
        args[3] = "--dir";
        args[4] = dir.toString();
        System.arraycopy(options, 0, args, 5, options.length);
        final PrintStream err = System.err;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        final int exit;
        try
        {
            exit = KeelCli.newCommandLine().execute(args);
        }
        finally
        {
            System.setErr(err);
        }
        final String output = captured.toString(StandardCharsets.UTF_8);
        assertEquals(2, exit, output);
        assertTrue(output.contains(expected), output);
    }
}
