package io.granary.feature.serving;

import io.granary.common.GranaryException;
import io.granary.common.rpc.BearerTokens;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.online.OnlineStoreSettings;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online feature server: Feast's gRPC ServingService and its HTTP JSON twin, answered from the
 * online store, which it follows as a reader while materialization writes. It reloads the registry
 * when its generation changes, swapping the new one in without dropping a request. No Spark, no
 * catalog: it starts in a fraction of a second.
 */
public final class FeatureServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FeatureServer.class);
    /** Lookups waiting on Redis at once: enough callers to keep a Redis (or a Cluster's nodes) busy. */
    private static final int LOOKUP_THREADS = 32;

    private final Registry registry;
    private final AtomicReference<RegistryState> state = new AtomicReference<>();
    private final OnlineStore store;
    private final ExecutorService lookups;
    private final ServingMetrics metrics = new ServingMetrics();
    private final ScheduledExecutorService background;
    private final Server grpc;
    private final HttpApi http;
    private volatile boolean storeHealthy = true;

    /** Serves the embedded RocksDB store at {@code onlineStore}. */
    public FeatureServer(Registry registry, Path onlineStore, ServerSettings settings, String version) {
        this(registry, new OnlineStoreSettings.RocksDb(onlineStore), settings, version);
    }

    public FeatureServer(Registry registry, OnlineStoreSettings onlineStore, ServerSettings settings, String version) {
        this.registry = registry;
        this.state.set(registry.load());
        this.store = onlineStore.openReader();
        // A local lookup is short and never blocks on the network: answer it on the event loop, one thread hop less
        // per call. A lookup in Redis waits for a round trip, which must not hold an event loop up.
        this.lookups = !onlineStore.lookupsWaitOnNetwork() ? null : Executors.newFixedThreadPool(LOOKUP_THREADS, runnable -> {
            Thread thread = new Thread(runnable, "granary-feature-lookup");
            thread.setDaemon(true);
            return thread;
        });
        OnlineFeatures features = new OnlineFeatures(state::get, store, Clock.systemUTC(), metrics);
        Optional<BearerTokens> tokens = settings.token().map(BearerTokens::new);
        ServerServiceDefinition service = GrpcServingService.definition(features, metrics, version);
        try {
            NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(settings.host(), settings.grpcPort()));
            if (lookups == null) {
                builder.directExecutor();
            } else {
                builder.executor(lookups);
            }
            builder.addService(tokens.isPresent() ? ServerInterceptors.intercept(service, tokens.get()) : service);
            this.grpc = builder.build().start();
        } catch (IOException e) {
            closeStore();
            throw portInUse("gRPC", settings.host(), settings.grpcPort(), e);
        }
        try {
            this.http = new HttpApi(settings.host(), settings.httpPort(), features, metrics, tokens, () -> storeHealthy, lookups);
        } catch (IOException e) {
            grpc.shutdownNow();
            closeStore();
            throw portInUse("HTTP", settings.host(), settings.httpPort(), e);
        }
        this.background = Executors.newScheduledThreadPool(1, runnable -> {
            Thread thread = new Thread(runnable, "granary-feature-server-follow");
            thread.setDaemon(true);
            return thread;
        });
        background.scheduleWithFixedDelay(this::followStore, settings.storeCatchUp().toMillis(), settings.storeCatchUp().toMillis(),
                TimeUnit.MILLISECONDS);
        background.scheduleWithFixedDelay(this::followRegistry, settings.registryPoll().toMillis(), settings.registryPoll().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private static GranaryException portInUse(String what, String host, int port, IOException e) {
        boolean inUse = e instanceof BindException || (e.getCause() instanceof BindException);
        return new GranaryException(GranaryException.Kind.UNAVAILABLE,
                "cannot listen for " + what + " on " + host + ":" + port + (inUse ? ": the port is in use" : ": " + e.getMessage()),
                "choose another port (--port / --http-port), or stop what listens there", e);
    }

    private void followStore() {
        try {
            store.catchUp();
            storeHealthy = true;
        } catch (RuntimeException e) {
            storeHealthy = false;
            LOG.warn("cannot follow the online store: {}", e.getMessage());
        }
    }

    private void followRegistry() {
        try {
            long generation = registry.generation();
            if (generation != state.get().generation()) {
                RegistryState loaded = registry.load();
                state.set(loaded);
                LOG.info("registry reloaded: generation {} ({} feature views)", loaded.generation(), loaded.featureViews().size());
            }
        } catch (RuntimeException e) {
            LOG.warn("cannot reload the registry, still serving generation {}: {}", state.get().generation(), e.getMessage());
        }
    }

    public int grpcPort() {
        return grpc.getPort();
    }

    public int httpPort() {
        return http.port();
    }

    public RegistryState registry() {
        return state.get();
    }

    /** Blocks until the server is shut down (by close(), or the JVM stopping). */
    public void awaitTermination() throws InterruptedException {
        grpc.awaitTermination();
    }

    @Override
    public void close() {
        background.shutdownNow();
        try {
            background.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        http.close();
        grpc.shutdown();
        try {
            if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) {
                grpc.shutdownNow();
            }
        } catch (InterruptedException e) {
            grpc.shutdownNow();
            Thread.currentThread().interrupt();
        }
        closeStore();
    }

    private void closeStore() {
        if (lookups != null) {
            lookups.shutdownNow();
        }
        store.close();
    }
}
