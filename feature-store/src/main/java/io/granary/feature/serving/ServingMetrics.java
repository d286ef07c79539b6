package io.granary.feature.serving;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** The feature server's Prometheus metrics: requests, latency, lookups per view, errors. */
public final class ServingMetrics implements OnlineFeatures.ViewLookups {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder()
            .name("granary_feature_requests_total").help("Online feature requests answered, by protocol and outcome")
            .labelNames("protocol", "outcome").register(registry);
    private final Histogram latency = Histogram.builder()
            .name("granary_feature_request_seconds").help("Time to answer an online feature request")
            // fine below a millisecond, where lookups are: the benchmark reads the server's own p50/p99 from these
            .classicUpperBounds(0.000025, 0.00005, 0.000075, 0.0001, 0.000125, 0.00015, 0.0002, 0.00025, 0.0003, 0.0004, 0.0005, 0.00075,
                    0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0)
            .labelNames("protocol").register(registry);
    private final Counter lookups = Counter.builder()
            .name("granary_feature_lookups_total").help("Entity keys looked up in the online store, by feature view")
            .labelNames("view").register(registry);
    private final Counter errors = Counter.builder()
            .name("granary_feature_errors_total").help("Requests that failed, by protocol and status")
            .labelNames("protocol", "status").register(registry);

    public void answered(String protocol, long nanos) {
        requests.labelValues(protocol, "ok").inc();
        latency.labelValues(protocol).observe(nanos / 1e9);
    }

    public void failed(String protocol, String status, long nanos) {
        requests.labelValues(protocol, "error").inc();
        errors.labelValues(protocol, status).inc();
        latency.labelValues(protocol).observe(nanos / 1e9);
    }

    @Override
    public void looked(String view, int keys) {
        lookups.labelValues(view).inc(keys);
    }

    /** The metrics in Prometheus' text format. */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
