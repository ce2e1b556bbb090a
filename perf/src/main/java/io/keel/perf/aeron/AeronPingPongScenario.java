package io.keel.perf.aeron;

import io.keel.perf.BenchContext;
import io.keel.perf.LatencyRecorder;
import io.keel.perf.LatencyRun;
import io.keel.perf.Role;
import io.keel.perf.Scenario;
import io.keel.perf.report.RunReport;

/**
 * Raw Aeron UDP ping-pong on loopback, open loop at fixed rates and closed loop (RTT): the transport floor that
 * the gateway round-trip scenario will stand beside. Embedded driver, SHARED threading, idle strategy and
 * message size are settings.
 */
public final class AeronPingPongScenario implements Scenario
{
    /**
     * Round trips sent before the first run so the JIT has compiled the path: a one-second warm-up at a low
     * open-loop rate is not enough and shows up as allocation from not-yet-compiled code.
     */
    static final int PRIMING_ROUND_TRIPS = 20_000;

    @Override
    public String name()
    {
        return "aeron";
    }

    @Override
    public String description()
    {
        return "raw Aeron UDP ping-pong on 127.0.0.1 (embedded driver, SHARED): the transport floor for gateway round trips";
    }

    @Override
    public long[] defaultRatesPerSecond(final BenchContext context)
    {
        return context.isFull() ? new long[]{ 1_000, 10_000, 50_000, 100_000 } : new long[]{ 10_000 };
    }

    @Override
    public void run(final BenchContext context, final RunReport report) throws Exception
    {
        final int hotThreads = context.pongThread() ? 3 : 2;
        context.checkSpinningThreads(context.idleMode().isSpinning() ? hotThreads : 0, "aeron ping-pong");
        final String series = "aeron-udp-" + context.messageSizeBytes() + "B";
        report.setting("idle", context.idleMode().label())
            .setting("messageSizeBytes", context.messageSizeBytes())
            .setting("threads", context.pongThread() ? "driver+client+echo" : "driver+client(with echo)")
            .setting("channel", "udp 127.0.0.1, SHARED driver");

        final LatencyRecorder recorder = LatencyRecorder.singleWriter();
        try (AeronPingPong pingPong = AeronPingPong.launch(
            context.messageSizeBytes(), context.idleMode(), context.pongThread(), recorder))
        {
            pingPong.prime(PRIMING_ROUND_TRIPS);
            for (final long rate : context.ratesOrDefault(defaultRatesPerSecond(context)))
            {
                final LatencyRun.Spec spec = context.latencySpec().name(series).role(Role.BASELINE).openLoop(rate);
                spec.hlogFile(report.hlogFile(series, spec.group()));
                report.add(LatencyRun.run(spec, pingPong, recorder));
            }
            if (context.closedLoop())
            {
                final LatencyRun.Spec spec = context.latencySpec().name(series).role(Role.BASELINE).closedLoop();
                spec.hlogFile(report.hlogFile(series, spec.group()));
                report.add(LatencyRun.run(spec, pingPong, recorder));
            }
            if (pingPong.droppedCount() > 0)
            {
                report.note(pingPong.droppedCount() + " pongs dropped (subscription not connected)");
            }
        }
    }
}
