package io.keel.cli;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.keel.gateway.KeelNode;
import io.keel.gateway.Member;
import io.keel.gateway.client.HealthProbe;
import org.agrona.CloseHelper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code keel health --members ...}: asks every member (protocol HEALTH message) for role, epoch and positions.
 */
@Command(
    name = "health",
    mixinStandardHelpOptions = true,
    description = {
        "Ask every member how it is (the gateway protocol's HEALTH message: no session, no credentials): role, " +
            "epoch, journal positions, the primary it knows; print a table and whether the cluster is healthy.",
        "Healthy: every member answers, its engine runs, exactly one is PRIMARY and every member names it, epochs " +
            "agree, and (with --max-lag-bytes) no member's journal is further behind the primary's.",
        "Exit codes: 0 healthy, 1 not healthy, 2 bad arguments."
    })
public final class HealthCommand implements Callable<Integer>
{
    @Option(names = "--members", required = true, paramLabel = "LIST",
        description = "id=host:clientPort:replicationPort,... as given to keel node")
    String members;

    @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "3000",
        description = "how long to wait for the answers (default ${DEFAULT-VALUE})")
    long timeoutMs;

    @Option(names = "--max-lag-bytes", paramLabel = "N", defaultValue = "-1",
        description = "unhealthy when a standby's journal is more than N bytes behind the primary's (default: " +
            "lag is shown, not judged)")
    long maxLagBytes;

    @Option(names = "--egress", paramLabel = "CHANNEL", defaultValue = "aeron:udp?endpoint=127.0.0.1:0",
        description = "where the answers arrive (default ${DEFAULT-VALUE})")
    String egressChannel;

    @Override
    public Integer call()
    {
        final List<Member> memberList;
        try
        {
            memberList = Member.parseList(members);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("keel health: " + ex.getMessage());
            return 2;
        }
        final String driverDir = new File(new File("/dev/shm").isDirectory() ? "/dev/shm" :
            System.getProperty("java.io.tmpdir"), "keel-health-" + ProcessHandle.current().pid() + "-" +
            Long.toHexString(System.nanoTime())).getPath();
        final List<HealthProbe.Health> answers;
        try (MediaDriver driver = MediaDriver.launch(KeelNode.driverContext(driverDir, "backoff"));
            Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName())))
        {
            answers = HealthProbe.probe(aeron, memberList, egressChannel, timeoutMs);
        }
        final List<String> problems = judge(answers, maxLagBytes);
        System.out.print(table(answers));
        if (problems.isEmpty())
        {
            final HealthProbe.Health primary = answers.stream().filter(h -> "PRIMARY".equals(h.roleName()))
                .findFirst().orElseThrow();
            System.out.println("healthy: primary " + primary.member().id() + ", epoch " + primary.epoch() +
                ", position " + primary.committedPosition());
            return 0;
        }
        System.out.println("NOT HEALTHY: " + String.join("; ", problems));
        return 1;
    }

    static List<String> judge(final List<HealthProbe.Health> answers, final long maxLagBytes)
    {
        final List<String> problems = new ArrayList<>();
        HealthProbe.Health primary = null;
        for (final HealthProbe.Health h : answers)
        {
            if (!h.answered())
            {
                problems.add("member " + h.member().id() + " did not answer");
            }
            else if (h.engineFailed())
            {
                problems.add("member " + h.member().id() + " engine failed (see keel errors DIR)");
            }
            if ("PRIMARY".equals(h.roleName()))
            {
                if (null != primary)
                {
                    problems.add("two primaries: " + primary.member().id() + " and " + h.member().id());
                }
                primary = h;
            }
        }
        if (null == primary)
        {
            problems.add("no primary");
            return problems;
        }
        for (final HealthProbe.Health h : answers)
        {
            if (!h.answered() || h == primary)
            {
                continue;
            }
            if (h.primaryMemberId() != primary.member().id())
            {
                problems.add("member " + h.member().id() + " names primary " + h.primaryMemberId());
            }
            if (h.epoch() != primary.epoch())
            {
                problems.add("member " + h.member().id() + " in epoch " + h.epoch() + ", primary in " + primary.epoch());
            }
            final long lag = primary.committedPosition() - h.committedPosition();
            if (maxLagBytes >= 0 && lag > maxLagBytes)
            {
                problems.add("member " + h.member().id() + " is " + lag + " bytes behind");
            }
        }
        return problems;
    }

    static String table(final List<HealthProbe.Health> answers)
    {
        final long primaryPosition = answers.stream().filter(h -> "PRIMARY".equals(h.roleName()))
            .mapToLong(HealthProbe.Health::committedPosition).findFirst().orElse(-1);
        final StringBuilder text = new StringBuilder(String.format("%-6s %-22s %-11s %6s %14s %14s %7s %10s%n",
            "member", "endpoint", "role", "epoch", "committed", "durable", "primary", "lag bytes"));
        for (final HealthProbe.Health h : answers)
        {
            if (!h.answered())
            {
                text.append(String.format("%-6d %-22s %-11s%n", h.member().id(), h.member().clientEndpoint(),
                    h.roleName()));
                continue;
            }
            final String lag = primaryPosition < 0 ? "?" : Long.toString(primaryPosition - h.committedPosition());
            text.append(String.format("%-6d %-22s %-11s %6d %14d %14d %7s %10s%s%n", h.member().id(),
                h.member().clientEndpoint(), h.roleName(), h.epoch(), h.committedPosition(), h.durablePosition(),
                h.primaryMemberId() < 0 ? "-" : Integer.toString(h.primaryMemberId()), lag,
                h.engineFailed() ? "  ENGINE FAILED" : ""));
        }
        return text.toString();
    }
}
