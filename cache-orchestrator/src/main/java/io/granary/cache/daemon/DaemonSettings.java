package io.granary.cache.daemon;

import io.granary.common.GranaryException;
import java.util.Optional;

/**
 * The node's cache daemon: where `granary serve cache` listens (gRPC, and HTTP for /metrics and
 * /health), the bearer token it requires, and how the CLI finds it.
 *
 * @param connect {@code auto} (use the daemon recorded under the cache root while it runs, else
 *     work in process), {@code off} (always in process) or {@code HOST:PORT} (always that daemon,
 *     as a pod reaches its node's)
 */
public record DaemonSettings(String host, int port, int httpPort, Optional<String> token, String connect) {

    public static final int DEFAULT_PORT = 7070;
    public static final int DEFAULT_HTTP_PORT = 7071;
    public static final String AUTO = "auto";
    public static final String OFF = "off";

    public DaemonSettings {
        token = token.filter(t -> !t.isBlank());
        if (!connect.equals(AUTO) && !connect.equals(OFF)) {
            int colon = connect.lastIndexOf(':');
            if (colon <= 0 || !connect.substring(colon + 1).matches("\\d{1,5}")) {
                throw new GranaryException("cache.daemon.connect must be auto, off or HOST:PORT, not '" + connect + "'",
                        "e.g. connect: 10.0.0.7:" + DEFAULT_PORT + ", or auto to find the daemon on this machine");
            }
        }
    }

    public static DaemonSettings defaults() {
        return new DaemonSettings("127.0.0.1", DEFAULT_PORT, DEFAULT_HTTP_PORT, Optional.empty(), AUTO);
    }

    public DaemonSettings withListen(String newHost, int newPort, int newHttpPort) {
        return new DaemonSettings(newHost, newPort, newHttpPort, token, connect);
    }

    public DaemonSettings withToken(Optional<String> value) {
        return new DaemonSettings(host, port, httpPort, value, connect);
    }

    public DaemonSettings withConnect(String value) {
        return new DaemonSettings(host, port, httpPort, token, value);
    }
}
