package io.keel.cli.ops;

import io.keel.examples.ledger.Deposit;
import io.keel.examples.ledger.Ledger;
import io.keel.examples.ledger.OpenAccount;
import io.keel.gateway.KeelNode;
import io.keel.gateway.Member;
import io.keel.journal.DurabilityPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code keel health} asks members over the protocol: role, epoch and position, and an exit code for scripts.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HealthCommandTest
{
    @TempDir
    Path tmp;

    @Test
    void healthShowsPrimaryEpochPositionAndFailsWhenAMemberDoesNotAnswer() throws Exception
    {
        final String m0 = "0=127.0.0.1:" + OpsProcessTest.freePort() + ":" + OpsProcessTest.freePort();
        final String m1 = "1=127.0.0.1:" + OpsProcessTest.freePort() + ":" + OpsProcessTest.freePort();
        final String m2 = "2=127.0.0.1:" + OpsProcessTest.freePort() + ":" + OpsProcessTest.freePort();
        final String pair = m0 + "," + m1;
        try (KeelNode primary = KeelNode.launch(new KeelNode.Context().members(Member.parseList(pair)).memberId(0)
                .dir(tmp.resolve("n0")).domain(Ledger.domain()).fsync(DurabilityPolicy.NONE));
            KeelNode standby = KeelNode.launch(new KeelNode.Context().members(Member.parseList(pair)).memberId(1)
                .dir(tmp.resolve("n1")).domain(Ledger.domain()).fsync(DurabilityPolicy.NONE).primaryMemberId(0)))
        {
            primary.engine().submit(1, 1, new OpenAccount().set(1, 0)).get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 20; i++)
            {
                primary.engine().submit(1, 10 + i, new Deposit().set(1, 1)).get(10, TimeUnit.SECONDS);
            }
            final long position = primary.engine().journal().committedPosition();
            assertTrue(position > 0);

            final OpsProcessTest.Run one = OpsProcessTest.keel("health", "--members", m0);
            assertEquals(0, one.exitCode(), one.out());
            assertTrue(one.out().matches("(?s).*\\n0 +127\\.0\\.0\\.1:\\d+ +PRIMARY +1 +" + position + " +" + position +
                " +0 +0\\n.*"), one.out());
            assertTrue(one.out().contains("healthy: primary 0, epoch 1, position " + position), one.out());

            final OpsProcessTest.Run both = OpsProcessTest.keel("health", "--members", pair);
            assertEquals(0, both.exitCode(), both.out());
            assertTrue(both.out().matches("(?s).*\\n1 +127\\.0\\.0\\.1:\\d+ +STANDBY +1 +0 +0 +0 +" + position +
                "\\n.*"), "the unreplicated standby names primary 0 and lags by everything:\n" + both.out());
            final OpsProcessTest.Run strict = OpsProcessTest.keel("health", "--members", pair, "--max-lag-bytes",
                "0");
            assertEquals(1, strict.exitCode(), strict.out());
            assertTrue(strict.out().contains("member 1 is " + position + " bytes behind"), strict.out());

            final OpsProcessTest.Run missing = OpsProcessTest.keel("health", "--members", m0 + "," + m2,
                "--timeout-ms", "1500");
            assertEquals(1, missing.exitCode(), missing.out());
            assertTrue(missing.out().contains("UNREACHABLE") && missing.out().contains("member 2 did not answer"),
                missing.out());
            assertTrue(primary.gateway().counters().toString().contains("health checks=4"),
                "each run asked the primary once: " + primary.gateway().counters());
        }
    }

    @Test
    void noPrimaryIsNotHealthy() throws Exception
    {
        final String m0 = "0=127.0.0.1:" + OpsProcessTest.freePort() + ":" + OpsProcessTest.freePort();
        final String m1 = "1=127.0.0.1:" + OpsProcessTest.freePort() + ":" + OpsProcessTest.freePort();
        try (KeelNode standby = KeelNode.launch(new KeelNode.Context().members(Member.parseList(m0 + "," + m1))
            .memberId(1).dir(tmp.resolve("n1")).domain(Ledger.domain()).fsync(DurabilityPolicy.NONE)
            .primaryMemberId(0)))
        {
            final OpsProcessTest.Run run = OpsProcessTest.keel("health", "--members", m1, "--timeout-ms", "1500");
            assertEquals(1, run.exitCode(), run.out());
            assertTrue(run.out().contains("NOT HEALTHY: no primary"), run.out());
        }
    }
}
