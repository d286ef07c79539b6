package io.granary.cache.stream;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.LongSupplier;

/**
 * The data server's Prometheus metrics: rows, bytes and batches sent, streams open, per open
 * stream the rows it has left and the time it waited on its consumer, and dynamic mode's leases.
 */
final class StreamMetrics {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter rows = Counter.builder().name("granary_stream_rows_sent_total")
            .help("Rows sent to consumers, by mode").labelNames("mode").register(registry);
    private final Counter bytes = Counter.builder().name("granary_stream_bytes_sent_total")
            .help("Arrow buffer bytes of the batches sent, by mode").labelNames("mode").register(registry);
    private final Counter batches = Counter.builder().name("granary_stream_batches_sent_total")
            .help("Record batches sent, by mode").labelNames("mode").register(registry);
    private final Counter streams = Counter.builder().name("granary_stream_streams_total")
            .help("Streams served, by transport and outcome (completed, cancelled, error)").labelNames("transport", "outcome").register(registry);
    private final Gauge open = Gauge.builder().name("granary_stream_open")
            .help("Streams being sent now").register(registry);
    private final Gauge rowsLeft = Gauge.builder().name("granary_stream_rows_left")
            .help("Rows an open static stream has still to send in its epoch (its lag behind the end of the epoch)")
            .labelNames("dataset", "rank").register(registry);
    private final Counter consumerWait = Counter.builder().name("granary_stream_consumer_wait_seconds_total")
            .help("Time streams held a ready batch because their consumer was not taking more (the consumer is the slower side)")
            .register(registry);
    private final Counter leased = Counter.builder().name("granary_stream_units_leased_total")
            .help("Units leased to dynamic-mode workers").register(registry);
    private final Counter released = Counter.builder().name("granary_stream_units_released_total")
            .help("Units given back (a worker's stream broke) or taken back (no progress for the lease timeout) and leased again")
            .register(registry);

    StreamMetrics(LongSupplier allocatedBytes, long limit) {
        GaugeWithCallback.builder().name("granary_stream_memory_bytes").help("Bytes the open streams' decoded units and batches take")
                .callback(callback -> callback.call(allocatedBytes.getAsLong())).register(registry);
        GaugeWithCallback.builder().name("granary_stream_memory_limit_bytes").help("stream.memory: what they may take together")
                .callback(callback -> callback.call(limit)).register(registry);
    }

    void sent(String mode, int batchRows, long batchBytes) {
        rows.labelValues(mode).inc(batchRows);
        bytes.labelValues(mode).inc(batchBytes);
        batches.labelValues(mode).inc();
    }

    void opened() {
        open.inc();
    }

    void closed(String transport, String outcome) {
        open.dec();
        streams.labelValues(transport, outcome).inc();
    }

    void rowsLeft(String dataset, int rank, long left) {
        rowsLeft.labelValues(dataset, Integer.toString(rank)).set(left);
    }

    void streamEnded(String dataset, int rank) {
        rowsLeft.remove(dataset, Integer.toString(rank));
    }

    void waited(long nanos) {
        consumerWait.inc(nanos / 1e9);
    }

    void leased() {
        leased.inc();
    }

    void released(long count) {
        released.inc(count);
    }

    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
