package io.keel.gateway;

import io.keel.gateway.client.KeelClient;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Helpers for gateway tests that drive a {@link KeelClient} without its own thread. */
public final class ClientTestSupport
{
    private ClientTestSupport()
    {
    }

    /** Poll the client until the future completes (20 s at most), then return its value. */
    public static <T> T await(final KeelClient client, final CompletableFuture<T> future) throws Exception
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!future.isDone() && System.nanoTime() < deadlineNs)
        {
            if (0 == client.poll())
            {
                Thread.yield();
            }
        }
        return future.get(1, TimeUnit.MILLISECONDS);
    }

    /** @return a free port on 127.0.0.1 ({@link LoopbackPorts}). */
    static int freePort()
    {
        return LoopbackPorts.freePort();
    }
}
