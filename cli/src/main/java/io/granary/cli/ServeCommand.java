package io.granary.cli;

import io.granary.feature.serving.FeatureServer;
import io.granary.feature.serving.ServerSettings;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `granary serve ...`: long-running servers. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run a server until stopped (Ctrl-C).",
        subcommands = {ServeCommand.Features.class, ServeCommand.Cache.class, ServeCommand.Data.class})
public final class ServeCommand {

    /** Closes {@code servers} in order when the JVM stops (Ctrl-C, SIGTERM); the latch opens once they are closed. */
    static CountDownLatch closedOnShutdown(AutoCloseable... servers) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (AutoCloseable server : servers) {
                try {
                    server.close();
                } catch (Exception e) {
                    System.err.println("granary: stopping " + server.getClass().getSimpleName() + " failed: " + e);
                }
            }
            stopped.countDown();
        }, "granary-serve-shutdown"));
        return stopped;
    }

    @Command(name = "features", mixinStandardHelpOptions = true,
            description = {
                "Serve online features: Feast's gRPC ServingService and HTTP JSON (POST /get-online-features, GET /health, GET /metrics).",
                "Follows the online store while materialization writes, and reloads the registry when it changes.",
            })
    public static final class Features extends Subcommand {

        @Option(names = "--host", paramLabel = "HOST", description = "Address to bind (default: feature_server.host, 127.0.0.1).")
        String host;

        @Option(names = "--port", paramLabel = "PORT", description = "gRPC port (default: feature_server.port, 6566; 0 picks one).")
        Integer port;

        @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP port (default: feature_server.http_port, 6567; 0 picks one).")
        Integer httpPort;

        @Override
        protected void run() throws InterruptedException {
            long start = System.nanoTime();
            var config = context().config().featureStore();
            ServerSettings settings = config.server();
            settings = settings.withPorts(host != null ? host : settings.host(), port != null ? port : settings.grpcPort(),
                    httpPort != null ? httpPort : settings.httpPort());
            FeatureServer server = new FeatureServer(context().registry(), config.onlineStore(), settings, "granary " + Versions.granary());
            CountDownLatch stopped = closedOnShutdown(server);
            out().printf("serving features: gRPC %s:%d (feast.serving.ServingService), HTTP http://%s:%d/get-online-features; "
                            + "online store %s; registry generation %d, %d feature views; %s; started in %d ms%n",
                    settings.host(), server.grpcPort(), settings.host(), server.httpPort(), config.onlineStore().describe(),
                    server.registry().generation(),
                    server.registry().featureViews().size(), settings.token().isPresent() ? "bearer token required" : "no token",
                    (System.nanoTime() - start) / 1_000_000);
            out().flush();
            stopped.await();
        }
    }

    @Command(name = "cache", mixinStandardHelpOptions = true,
            description = {
                "Run the node's cache daemon: granary.cache.v1.NodeCacheService over gRPC (stage, mount, umount, status, evict, verify, gc, jobs)",
                "and HTTP GET /metrics (Prometheus) and /health. Every `granary cache` and `granary mount` on the node then goes through it.",
            })
    public static final class Cache extends Subcommand {

        @Option(names = "--host", paramLabel = "HOST", description = "Address to bind (default: cache.daemon.host, 127.0.0.1; 0.0.0.0 for pods on the node).")
        String host;

        @Option(names = "--port", paramLabel = "PORT", description = "gRPC port (default: cache.daemon.port, 7070; 0 picks one).")
        Integer port;

        @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP port for /metrics and /health (default: cache.daemon.http_port, 7071; 0 picks one).")
        Integer httpPort;

        @Override
        protected void run() throws InterruptedException {
            long start = System.nanoTime();
            io.granary.cache.daemon.DaemonSettings settings = context().config().cache().daemon();
            settings = settings.withListen(host != null ? host : settings.host(), port != null ? port : settings.port(),
                    httpPort != null ? httpPort : settings.httpPort());
            io.granary.cache.NodeCache cache = context().cache();
            io.granary.cache.daemon.CacheDaemon daemon;
            try {
                daemon = new io.granary.cache.daemon.CacheDaemon(cache, settings);
            } catch (RuntimeException e) {
                cache.close();
                throw e;
            }
            CountDownLatch stopped = closedOnShutdown(daemon, cache);
            out().printf("serving the cache %s: gRPC %s:%d (granary.cache.v1.NodeCacheService), metrics http://%s:%d/metrics; "
                            + "quota %s; %s; started in %d ms%n",
                    cache.settings().root(), settings.host(), daemon.port(), settings.host(), daemon.httpPort(),
                    io.granary.common.Sizes.format(cache.quota()), settings.token().isPresent() ? "bearer token required" : "no token",
                    (System.nanoTime() - start) / 1_000_000);
            out().flush();
            stopped.await();
        }
    }

    @Command(name = "data", mixinStandardHelpOptions = true,
            description = {
                "Stream dataset snapshots to training workers as Arrow record batches over Arrow Flight, from the node's cache",
                "(staged on demand): a command descriptor names the stream (JSON: dataset, world_size, epoch, seed, shuffle, ...).",
            })
    public static final class Data extends Subcommand {

        @Option(names = "--host", paramLabel = "HOST", description = "Address to bind (default: stream.host, 127.0.0.1).")
        String host;

        @Option(names = "--port", paramLabel = "PORT", description = "Arrow Flight port (default: stream.port, 8815; 0 picks one).")
        Integer port;

        @Option(names = "--http-port", paramLabel = "PORT",
                description = "HTTP port for GET /v1/stream (Arrow IPC streams), /metrics and /health (default: stream.http_port, 8816; 0 picks one).")
        Integer httpPort;

        @Override
        protected void run() throws InterruptedException {
            long start = System.nanoTime();
            io.granary.cache.stream.StreamSettings configured = context().config().stream();
            io.granary.cache.stream.StreamSettings settings = configured.withListen(host != null ? host : configured.host(),
                    port != null ? port : configured.port(), httpPort != null ? httpPort : configured.httpPort());
            io.granary.cache.NodeCache cache = context().cache();
            io.granary.cache.stream.DataServer server;
            try {
                server = new io.granary.cache.stream.DataServer(cache, settings);
            } catch (RuntimeException e) {
                cache.close();
                throw e;
            }
            CountDownLatch stopped = closedOnShutdown(server, cache);
            out().printf("serving data: Arrow Flight grpc+tcp://%s:%d (a command descriptor names each stream), HTTP http://%s:%d/v1/stream "
                            + "(Arrow IPC) and /metrics; %s; cache %s; started in %d ms%n",
                    settings.host(), server.port(), settings.host(), server.httpPort(),
                    settings.token().isPresent() ? "bearer token required" : "no token", cache.settings().root(), (System.nanoTime() - start) / 1_000_000);
            out().flush();
            stopped.await();
        }
    }
}
