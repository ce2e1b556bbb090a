package io.keel.perf.ring;

import io.keel.perf.SystemUnderTest;

/**
 * A producer → business-thread pipeline that can be driven for latency (as a {@link SystemUnderTest}) and for
 * maximum throughput.
 */
interface RingPipeline extends SystemUnderTest
{
    /**
     * Sends untimed commands as fast as the pipeline takes them for about {@code iterationNs}, then waits until
     * the business thread has applied all of them.
     *
     * @param iterationNs how long to keep sending.
     * @return commands sent and applied.
     */
    long throughputIteration(long iterationNs);

    /**
     * Sum of the ledger, for the end-of-run check that every command was applied exactly once.
     *
     * @return the ledger total.
     */
    long ledgerTotal();

    /**
     * Sends {@code count} untimed commands, for the shared throughput loop.
     *
     * @param count commands to send.
     */
    void sendUntimed(int count);

    /**
     * Throughput loop shared by the pipelines, so both are driven identically.
     *
     * @param pipeline    the pipeline.
     * @param iterationNs how long to keep sending.
     * @return commands sent and applied.
     */
    static long runThroughputIteration(final RingPipeline pipeline, final long iterationNs)
    {
        final int batch = 256;
        final long base = pipeline.completedCount();
        final long deadlineNs = System.nanoTime() + iterationNs;
        long sent = 0;
        do
        {
            pipeline.sendUntimed(batch);
            sent += batch;
        }
        while (System.nanoTime() - deadlineNs < 0);

        while (pipeline.completedCount() - base < sent)
        {
            Thread.onSpinWait();
        }
        return sent;
    }
}
