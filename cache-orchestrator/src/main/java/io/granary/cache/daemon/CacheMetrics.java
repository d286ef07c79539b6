package io.granary.cache.daemon;

import io.granary.cache.CacheStatus;
import io.granary.cache.stage.StageResult;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.Supplier;

/**
 * The cache daemon's Prometheus metrics: hits and misses (files found cached or copied when a
 * stage or mount asked for them), bytes staged, evictions, calls, and the quota's use, read from
 * the cache when scraped (so stages by other processes on the node count too).
 */
final class CacheMetrics {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter hits = Counter.builder()
            .name("granary_cache_hits_total").help("Files a stage or mount found in the cache").register(registry);
    private final Counter misses = Counter.builder()
            .name("granary_cache_misses_total").help("Files a stage or mount had to copy from their remote tier").register(registry);
    private final Counter hitBytes = Counter.builder()
            .name("granary_cache_hit_bytes_total").help("Bytes a stage or mount found in the cache").register(registry);
    private final Counter stagedBytes = Counter.builder()
            .name("granary_cache_staged_bytes_total").help("Bytes copied into the cache from remote tiers").register(registry);
    private final Counter evictions = Counter.builder()
            .name("granary_cache_evictions_total").help("Entries dropped from the cache, by cause (quota or evict)")
            .labelNames("cause").register(registry);
    private final Counter evictedBytes = Counter.builder()
            .name("granary_cache_evicted_bytes_total").help("Bytes dropped from the cache, by cause (quota or evict)")
            .labelNames("cause").register(registry);
    private final Counter calls = Counter.builder()
            .name("granary_cache_calls_total").help("Calls to the daemon, by method and outcome")
            .labelNames("method", "outcome").register(registry);

    private final Supplier<CacheStatus> status;
    /** Read once per scrape, for all the gauges. */
    private volatile CacheStatus current;

    CacheMetrics(Supplier<CacheStatus> status) {
        this.status = status;
        GaugeWithCallback.builder().name("granary_cache_used_bytes").help("Bytes the cache holds")
                .callback(callback -> callback.call(current.usedBytes())).register(registry);
        GaugeWithCallback.builder().name("granary_cache_quota_bytes").help("Bytes the cache may hold")
                .callback(callback -> callback.call(current.quota())).register(registry);
        GaugeWithCallback.builder().name("granary_cache_reserved_bytes").help("Bytes reserved by stages under way")
                .callback(callback -> callback.call(current.reservedBytes())).register(registry);
        GaugeWithCallback.builder().name("granary_cache_entries").help("Files the cache holds")
                .callback(callback -> callback.call(current.entries())).register(registry);
        GaugeWithCallback.builder().name("granary_cache_pinned_snapshots").help("Snapshots pinned by a mount or a stage under way")
                .callback(callback -> callback.call(current.snapshots().stream().filter(s -> !s.pinnedBy().isEmpty()).count()))
                .register(registry);
    }

    void staged(StageResult result) {
        hits.inc(result.filesCached());
        misses.inc(result.filesCopied());
        hitBytes.inc(Math.max(0, result.bytes() - result.bytesCopied()));
        stagedBytes.inc(result.bytesCopied());
        evicted("quota", result.evicted(), result.bytesEvicted());
    }

    void evicted(String cause, long entries, long bytes) {
        evictions.labelValues(cause).inc(entries);
        evictedBytes.labelValues(cause).inc(bytes);
    }

    void called(String method, boolean ok) {
        calls.labelValues(method, ok ? "ok" : "error").inc();
    }

    /** The metrics in Prometheus' text format. */
    synchronized byte[] scrape() {
        current = status.get();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
