package io.keel.perf.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Plays the Prometheus server in the metrics-on benchmark: GETs a node's {@code /metrics} at a fixed interval on a
 * daemon thread of its own, so the scrape's cost on the node (building snapshots, writing text) is in the figures.
 */
final class MetricsScraper implements AutoCloseable
{
    private final Thread thread;
    private final String url;
    private final long intervalMs;
    private volatile boolean running = true;
    private volatile long scrapes;
    private volatile int lastBytes;

    private MetricsScraper(final int port, final long intervalMs)
    {
        this.url = "http://127.0.0.1:" + port + "/metrics";
        this.intervalMs = intervalMs;
        thread = new Thread(this::run, "keel-bench-scraper");
        thread.setDaemon(true);
    }

    static MetricsScraper start(final int port, final long intervalMs)
    {
        final MetricsScraper scraper = new MetricsScraper(port, intervalMs);
        scraper.thread.start();
        return scraper;
    }

    private void run()
    {
        final byte[] chunk = new byte[8192];
        while (running)
        {
            try
            {
                final HttpURLConnection connection = (HttpURLConnection)new URL(url).openConnection();
                connection.setConnectTimeout(2_000);
                connection.setReadTimeout(5_000);
                int bytes = 0;
                try (InputStream in = connection.getInputStream())
                {
                    int read;
                    while ((read = in.read(chunk)) > 0)
                    {
                        bytes += read;
                    }
                }
                lastBytes = bytes;
                scrapes = scrapes + 1;
            }
            catch (final IOException ex)
            {
                // the node may be stopping; the count of scrapes shows whether scraping worked
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(intervalMs));
        }
    }

    long scrapes()
    {
        return scrapes;
    }

    int lastBytes()
    {
        return lastBytes;
    }

    @Override
    public void close()
    {
        running = false;
        LockSupport.unpark(thread);
        try
        {
            thread.join(10_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
