package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.time.Duration;
import java.util.Optional;

/**
 * How `granary serve data` listens and what it may use (granary.yaml's {@code stream:} section).
 *
 * @param token the bearer token clients must send, if any
 * @param memory bytes all streams' decoded units and batches may take together; a stream that would go past it fails alone
 * @param leaseTimeout how long a dynamic-mode worker may make no progress before its unit goes to another worker
 */
public record StreamSettings(String host, int port, int httpPort, Optional<String> token, long memory, Duration leaseTimeout) {

    public static final int DEFAULT_PORT = 8815;
    public static final int DEFAULT_HTTP_PORT = 8816;
    public static final long DEFAULT_MEMORY = 4L << 30;
    public static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofSeconds(30);

    public StreamSettings {
        token = token.filter(t -> !t.isBlank());
        if (memory < 16L << 20) {
            throw new GranaryException("stream.memory must be at least 16m, not " + memory + " bytes", "write a size such as 4g");
        }
        if (leaseTimeout.isNegative() || leaseTimeout.isZero()) {
            throw new GranaryException("stream.lease_timeout must be positive, not " + leaseTimeout, "write a duration such as 30s");
        }
    }

    public static StreamSettings defaults() {
        return new StreamSettings("127.0.0.1", DEFAULT_PORT, DEFAULT_HTTP_PORT, Optional.empty(), DEFAULT_MEMORY, DEFAULT_LEASE_TIMEOUT);
    }

    public StreamSettings withListen(String newHost, int newPort, int newHttpPort) {
        return new StreamSettings(newHost, newPort, newHttpPort, token, memory, leaseTimeout);
    }

    public StreamSettings withToken(Optional<String> value) {
        return new StreamSettings(host, port, httpPort, value, memory, leaseTimeout);
    }

    public StreamSettings withLeaseTimeout(Duration value) {
        return new StreamSettings(host, port, httpPort, token, memory, value);
    }

    public StreamSettings withMemory(long value) {
        return new StreamSettings(host, port, httpPort, token, value, leaseTimeout);
    }
}
