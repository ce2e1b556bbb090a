/**
 * Benchmarks: open-loop latency harness, throughput sweeps, side-by-side baselines, reports and plots.
 */
package io.keel.perf;
