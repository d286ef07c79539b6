package io.granary.feature.serving;

import java.time.Duration;
import java.util.Optional;

/**
 * How the feature server listens: host (127.0.0.1 unless asked), the gRPC port (Feast's 6566) and
 * the HTTP port, an optional bearer token required of every caller, how often it follows the
 * online store and the registry.
 */
public record ServerSettings(String host, int grpcPort, int httpPort, Optional<String> token,
                             Duration storeCatchUp, Duration registryPoll) {

    public static ServerSettings defaults() {
        return new ServerSettings("127.0.0.1", 6566, 6567, Optional.empty(), Duration.ofMillis(100), Duration.ofSeconds(1));
    }

    public ServerSettings withPorts(String newHost, int grpc, int http) {
        return new ServerSettings(newHost, grpc, http, token, storeCatchUp, registryPoll);
    }

    public ServerSettings withToken(Optional<String> newToken) {
        return new ServerSettings(host, grpcPort, httpPort, newToken, storeCatchUp, registryPoll);
    }
}
