package io.keel.gateway.ops;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import org.agrona.concurrent.status.CountersReader;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds Prometheus snapshots at scrape time from the node's counters (every Keel counter becomes
 * {@code keel_<part>_<name>}, a counter or a gauge; rejections become {@code keel_engine_rejections_total{reason}})
 * and command latency as a summary ({@code keel_command_latency_seconds}: quantiles over the last 30 s, count and
 * sum since start). Nothing is recorded through the Prometheus library, so the hot path never touches it.
 */
final class PrometheusCollector implements MultiCollector
{
    static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999, 1.0};

    private final Labels nodeLabels;
    private final String nodeId;
    private final CountersReader reader;
    private final LatencyWindow latency;

    PrometheusCollector(final int nodeId, final CountersReader reader, final LatencyWindow latency)
    {
        this.nodeId = Integer.toString(nodeId);
        this.nodeLabels = Labels.of("node", this.nodeId);
        this.reader = reader;
        this.latency = latency;
    }

    static String metricName(final String part, final String label)
    {
        final int paren = label.indexOf(" (");
        final String base = paren > 0 ? label.substring(0, paren) : label;
        return "keel_" + part + "_" + base.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_")
            .replaceAll("^_|_$", "");
    }

    @Override
    public MetricSnapshots collect()
    {
        final List<MetricSnapshot> snapshots = new ArrayList<>();
        final CounterSnapshot.Builder rejections = CounterSnapshot.builder().name("keel_engine_rejections")
            .help("commands rejected, by reason");
        final boolean[] anyRejection = {false};
        for (final CountersFile.Value value : CountersFile.values(reader))
        {
            if ("rejection".equals(value.part()))
            {
                rejections.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(Labels.of("node", nodeId, "reason", value.name())).value(value.value()).build());
                anyRejection[0] = true;
                continue;
            }
            if ("node".equals(value.part()) && value.name().startsWith("latency"))
            {
                continue; // exported as the summary below
            }
            final String name = metricName(value.part(), value.name());
            if (value.gauge())
            {
                snapshots.add(GaugeSnapshot.builder().name(name).help(value.name())
                    .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(nodeLabels).value(value.value())
                        .build()).build());
            }
            else
            {
                snapshots.add(CounterSnapshot.builder().name(name).help(value.name())
                    .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(nodeLabels)
                        .value(value.value()).build()).build());
            }
        }
        if (anyRejection[0])
        {
            snapshots.add(rejections.build());
        }
        if (null != latency)
        {
            latency.sample(System.currentTimeMillis());
            latency.read((window, total) ->
            {
                final List<Quantile> quantiles = new ArrayList<>();
                for (final double q : QUANTILES)
                {
                    final double ns = window.getTotalCount() == 0 ? Double.NaN :
                        (q >= 1.0 ? window.getMaxValue() : window.getValueAtPercentile(q * 100));
                    quantiles.add(new Quantile(q, ns / 1e9));
                }
                snapshots.add(SummarySnapshot.builder().name("keel_command_latency_seconds")
                    .help("command latency in the engine, ring publish to answer release (quantiles: last 30 s)")
                    .dataPoint(SummarySnapshot.SummaryDataPointSnapshot.builder().labels(nodeLabels)
                        .quantiles(Quantiles.of(quantiles)).count(total.getTotalCount())
                        .sum(total.getMean() * total.getTotalCount() / 1e9).build())
                    .build());
            });
        }
        return new MetricSnapshots(snapshots);
    }
}
