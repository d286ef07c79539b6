package io.granary.cli.config;

import io.granary.cache.CacheSettings;
import io.granary.cache.daemon.DaemonSettings;
import io.granary.cache.stream.StreamSettings;
import io.granary.cache.store.EvictionPolicy;
import io.granary.common.GranaryException;
import io.granary.common.Sizes;
import io.granary.common.yaml.YamlNode;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.spark.SparkSettings;
import io.granary.feature.online.OnlineStoreSettings;
import io.granary.feature.online.RedisSettings;
import io.granary.feature.serving.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything granary.yaml can set, with its defaults. Every key is optional, so no file is
 * needed to start; unknown keys and wrong types are errors naming file:line and the valid keys.
 *
 * <pre>
 * data_dir: ./granary-data            # where embedded state lives
 * catalog:
 *   type: hadoop                      # hadoop | jdbc | rest
 *   warehouse: ./granary-data/warehouse
 *   uri: jdbc:sqlite:/srv/catalog.db  # jdbc and rest catalogs
 *   properties: {}                    # passed to the Iceberg catalog
 *   hadoop: {}                        # Hadoop configuration (fs.s3a.*, ...)
 * spark:
 *   master: local[*]                  # or yarn, k8s://..., spark://...
 *   conf: {}                          # any spark.* setting
 * registry:
 *   path: ./granary-data/registry     # the feature registry
 * online_store:
 *   type: rocksdb                     # rocksdb (embedded, the default) | redis
 *   path: ./granary-data/online       # rocksdb: its directory
 *   url: redis://127.0.0.1:6379/0     # redis: one server (rediss:// for TLS; user:password@ allowed)
 *   cluster: [10.0.0.1:6379, ...]     # redis: a Redis Cluster, any of its nodes (instead of url)
 *   user: default                     # redis ACL user
 *   password: ...                     # GRANARY_REDIS_PASSWORD overrides it
 *   tls: false
 *   tls_ca: ca.pem                    # the CA of Redis's certificate (default: the JVM's trust store)
 *   key_prefix: granary               # every key starts PREFIX:
 *   expire_after_ttl: false           # rows' keys expire once older than their view's ttl
 *   timeout: 2s                       # connect and reply timeout
 * feature_server:
 *   host: 127.0.0.1
 *   port: 6566                        # Feast gRPC
 *   http_port: 6567
 *   token: ...                        # bearer token; GRANARY_FEATURE_TOKEN overrides it
 * samples:
 *   path: ./granary-data/samples      # sample pipelines' templates, run history, locks
 *   plugins: []                       # directories of component jars
 * cache:
 *   root: ./granary-data/cache        # the node-local cache (an SSD on GPU nodes); GRANARY_CACHE_ROOT overrides it
 *   quota: 200g                       # default: 80% of what its disk can hold
 *   high_watermark: 0.95              # evict when a stage would go above this share of the quota
 *   low_watermark: 0.8                # ... down to this share
 *   policy: lru                       # lru | lfu
 *   parallel: 8                       # files copied at once
 *   mirrors: {}                       # location prefix -> where to read it instead (hdfs://, alluxio://)
 *   daemon:                           # `granary serve cache`, the node's cache daemon
 *     host: 127.0.0.1
 *     port: 7070                      # gRPC (granary.cache.v1.NodeCacheService)
 *     http_port: 7071                 # /metrics, /health
 *     token: ...                      # bearer token; GRANARY_CACHE_TOKEN overrides it
 *     connect: auto                   # auto | off | HOST:PORT; GRANARY_CACHE_DAEMON overrides it
 * stream:                             # `granary serve data`, streams of Arrow batches to training workers
 *   host: 127.0.0.1
 *   port: 8815                        # Arrow Flight
 *   http_port: 8816                   # GET /v1/stream (Arrow IPC), /metrics, /health
 *   token: ...                        # bearer token; GRANARY_STREAM_TOKEN overrides it
 *   memory: 4g                        # Arrow memory all streams may take together
 *   lease_timeout: 30s                # dynamic mode: a worker with no progress this long loses its unit
 * </pre>
 */
public record GranaryConfig(Path dataDir, CatalogSettings catalog, SparkSettings spark, FeatureStoreConfig featureStore,
                            SamplesConfig samples, CacheSettings cache, StreamSettings stream, Optional<Path> source) {

    /** Where sample pipelines keep their template directory, run history and locks, and where plugin components are found. */
    public record SamplesConfig(Path path, List<Path> plugins) {
        public SamplesConfig {
            plugins = List.copyOf(plugins);
        }
    }

    /** Where the feature registry and the online store live, and how the feature server listens. */
    public record FeatureStoreConfig(Path registry, OnlineStoreSettings onlineStore, ServerSettings server) {
        static FeatureStoreConfig defaults(Path dataDir) {
            return new FeatureStoreConfig(dataDir.resolve("registry"), new OnlineStoreSettings.RocksDb(dataDir.resolve("online")),
                    withEnvironmentToken(ServerSettings.defaults()));
        }
    }

    /** The environment's GRANARY_FEATURE_TOKEN, when set, wins over the config file's token. */
    static ServerSettings withEnvironmentToken(ServerSettings settings) {
        String token = System.getenv("GRANARY_FEATURE_TOKEN");
        return token == null || token.isBlank() ? settings : settings.withToken(Optional.of(token));
    }

    public static final String FILE_NAME = "granary.yaml";
    private static final List<String> TOP_KEYS = List.of("data_dir", "catalog", "spark", "registry", "online_store", "feature_server", "samples", "cache", "stream");
    private static final List<String> STREAM_KEYS = List.of("host", "port", "http_port", "token", "memory", "lease_timeout");
    private static final List<String> CACHE_KEYS = List.of("root", "quota", "high_watermark", "low_watermark", "policy", "parallel", "mirrors", "daemon");
    private static final List<String> CACHE_DAEMON_KEYS = List.of("host", "port", "http_port", "token", "connect");
    private static final List<String> ONLINE_KEYS = List.of("type", "path", "url", "cluster", "user", "password", "tls", "tls_ca", "key_prefix",
            "expire_after_ttl", "timeout");
    private static final List<String> SERVER_KEYS = List.of("host", "port", "http_port", "token");
    private static final List<String> CATALOG_KEYS = List.of("type", "warehouse", "uri", "properties", "hadoop");
    private static final List<String> SPARK_KEYS = List.of("master", "conf");

    /** The defaults: everything under {@code dataDir}. */
    public static GranaryConfig defaults(Path dataDir) {
        Path absolute = dataDir.toAbsolutePath().normalize();
        return new GranaryConfig(absolute, CatalogSettings.localHadoop(absolute.resolve("warehouse")),
                SparkSettings.local(), FeatureStoreConfig.defaults(absolute), new SamplesConfig(absolute.resolve("samples"), List.of()),
                withEnvironment(CacheSettings.defaults(absolute.resolve("cache"))), withStreamToken(StreamSettings.defaults()), Optional.empty());
    }

    /**
     * Loads the config: {@code explicit} if given (it must exist), else granary.yaml in the working
     * directory if there is one, else the defaults. {@code dataDirOverride} (--data-dir) wins over
     * the file's data_dir.
     */
    public static GranaryConfig load(Optional<Path> explicit, Optional<Path> dataDirOverride, Path workingDir) {
        Optional<Path> file = explicit;
        if (explicit.isPresent() && !Files.isRegularFile(explicit.get())) {
            throw GranaryException.notFound("config file not found: " + explicit.get(),
                    "check the path given to --config, or leave it out to use the defaults");
        }
        if (file.isEmpty() && Files.isRegularFile(workingDir.resolve(FILE_NAME))) {
            file = Optional.of(workingDir.resolve(FILE_NAME));
        }
        if (file.isEmpty()) {
            return defaults(dataDirOverride.orElse(workingDir.resolve("granary-data")));
        }
        return parse(file.get(), dataDirOverride);
    }

    static GranaryConfig parse(Path file, Optional<Path> dataDirOverride) {
        YamlNode root = YamlNode.parse(file);
        Path base = file.toAbsolutePath().getParent();
        Map<String, YamlNode> top = root.asMapWithKeys(TOP_KEYS);

        Path dataDir = dataDirOverride.map(p -> p.toAbsolutePath().normalize())
                .orElseGet(() -> YamlNode.optional(top, "data_dir").map(n -> resolve(base, n.asString()))
                        .orElse(base.resolve("granary-data").normalize()));

        CatalogSettings catalog = CatalogSettings.localHadoop(dataDir.resolve("warehouse"));
        Optional<YamlNode> catalogNode = YamlNode.optional(top, "catalog");
        if (catalogNode.isPresent()) {
            Map<String, YamlNode> entries = catalogNode.get().asMapWithKeys(CATALOG_KEYS);
            String type = YamlNode.optional(entries, "type").map(YamlNode::asString).orElse("hadoop");
            String warehouse = YamlNode.optional(entries, "warehouse").map(YamlNode::asString)
                    .map(w -> w.contains("://") ? w : resolve(base, w).toString())
                    .orElse(dataDir.resolve("warehouse").toString());
            try {
                catalog = new CatalogSettings(type, warehouse,
                        YamlNode.optional(entries, "uri").map(YamlNode::asString),
                        YamlNode.optional(entries, "properties").map(YamlNode::asStringMap).orElse(Map.of()),
                        YamlNode.optional(entries, "hadoop").map(YamlNode::asStringMap).orElse(Map.of()));
            } catch (GranaryException e) {
                throw catalogNode.get().error(e.getMessage(), e.hint());
            }
        }

        SparkSettings spark = SparkSettings.local();
        Optional<YamlNode> sparkNode = YamlNode.optional(top, "spark");
        if (sparkNode.isPresent()) {
            Map<String, YamlNode> entries = sparkNode.get().asMapWithKeys(SPARK_KEYS);
            Map<String, String> conf = YamlNode.optional(entries, "conf").map(YamlNode::asStringMap).orElse(Map.of());
            for (String key : conf.keySet()) {
                if (!key.startsWith("spark.")) {
                    throw entries.get("conf").error("spark.conf key '" + key + "' does not start with 'spark.'",
                            "write the full Spark setting name, e.g. spark.executor.memory");
                }
            }
            spark = new SparkSettings(YamlNode.optional(entries, "master").map(YamlNode::asString).orElse("local[*]"), conf);
        }
        Path registryPath = YamlNode.optional(top, "registry")
                .map(n -> n.asMapWithKeys(List.of("path")).get("path"))
                .filter(n -> n != null && !n.isNull()).map(n -> resolve(base, n.asString())).orElse(dataDir.resolve("registry"));
        OnlineStoreSettings onlineStore = onlineStore(YamlNode.optional(top, "online_store"), base, dataDir);
        ServerSettings server = ServerSettings.defaults();
        Optional<YamlNode> serverNode = YamlNode.optional(top, "feature_server");
        if (serverNode.isPresent()) {
            Map<String, YamlNode> entries = serverNode.get().asMapWithKeys(SERVER_KEYS);
            server = new ServerSettings(
                    YamlNode.optional(entries, "host").map(YamlNode::asString).orElse(server.host()),
                    YamlNode.optional(entries, "port").map(n -> port(n)).orElse(server.grpcPort()),
                    YamlNode.optional(entries, "http_port").map(n -> port(n)).orElse(server.httpPort()),
                    YamlNode.optional(entries, "token").map(YamlNode::asString),
                    server.storeCatchUp(), server.registryPoll());
        }
        Map<String, YamlNode> samplesEntries = YamlNode.optional(top, "samples")
                .map(n -> n.asMapWithKeys(List.of("path", "plugins"))).orElse(Map.of());
        SamplesConfig samples = new SamplesConfig(
                YamlNode.optional(samplesEntries, "path").map(n -> resolve(base, n.asString())).orElse(dataDir.resolve("samples")),
                YamlNode.optional(samplesEntries, "plugins").map(n -> n.asStringList().stream().map(p -> resolve(base, p)).toList())
                        .orElse(List.of()));
        return new GranaryConfig(dataDir, catalog, spark,
                new FeatureStoreConfig(registryPath, onlineStore, withEnvironmentToken(server)), samples,
                cache(YamlNode.optional(top, "cache"), base, dataDir), stream(YamlNode.optional(top, "stream")), Optional.of(file.toAbsolutePath()));
    }

    private static OnlineStoreSettings onlineStore(Optional<YamlNode> node, Path base, Path dataDir) {
        if (node.isEmpty()) {
            return new OnlineStoreSettings.RocksDb(dataDir.resolve("online"));
        }
        Map<String, YamlNode> entries = node.get().asMapWithKeys(ONLINE_KEYS);
        String type = YamlNode.optional(entries, "type").map(YamlNode::asString).orElse("rocksdb");
        List<String> redisKeys = List.of("url", "cluster", "user", "password", "tls", "tls_ca", "key_prefix", "expire_after_ttl", "timeout");
        switch (type) {
            case "rocksdb" -> {
                for (String key : redisKeys) {
                    if (entries.containsKey(key)) {
                        throw node.get().error("online_store." + key + " is a Redis setting, but online_store.type is rocksdb",
                                "set type: redis to use Redis, or remove " + key);
                    }
                }
                return new OnlineStoreSettings.RocksDb(
                        YamlNode.optional(entries, "path").map(n -> resolve(base, n.asString())).orElse(dataDir.resolve("online")));
            }
            case "redis" -> {
                if (entries.containsKey("path")) {
                    throw entries.get("path").error("online_store.path is the RocksDB directory, but online_store.type is redis",
                            "remove path, or set type: rocksdb");
                }
                Optional<YamlNode> url = YamlNode.optional(entries, "url");
                Optional<YamlNode> cluster = YamlNode.optional(entries, "cluster");
                if (url.isPresent() == cluster.isPresent()) {
                    throw node.get().error("online_store of type redis needs exactly one of url and cluster",
                            "url: redis://HOST:PORT for one server, or cluster: [HOST:PORT, ...] for a Redis Cluster");
                }
                RedisSettings redis = url.isPresent() ? at(url.get(), n -> RedisSettings.fromUrl(n.asString()))
                        : at(cluster.get(), n -> RedisSettings.cluster(n.asStringList()));
                Optional<String> user = YamlNode.optional(entries, "user").map(YamlNode::asString).or(redis::user);
                Optional<String> password = Optional.ofNullable(System.getenv("GRANARY_REDIS_PASSWORD")).filter(p -> !p.isEmpty())
                        .or(() -> YamlNode.optional(entries, "password").map(YamlNode::asString)).or(redis::password);
                boolean tls = YamlNode.optional(entries, "tls").map(YamlNode::asBoolean).orElse(redis.tls());
                String prefix = YamlNode.optional(entries, "key_prefix").map(YamlNode::asString).orElse(redis.keyPrefix());
                boolean expire = YamlNode.optional(entries, "expire_after_ttl").map(YamlNode::asBoolean).orElse(false);
                java.time.Duration timeout = YamlNode.optional(entries, "timeout")
                        .map(n -> at(n, v -> io.granary.common.Durations.parse(v.asString(), "online_store.timeout"))).orElse(redis.timeout());
                Optional<Path> tlsCa = YamlNode.optional(entries, "tls_ca").map(n -> resolve(base, n.asString()));
                if (tlsCa.isPresent() && entries.containsKey("tls") && !tls) {
                    throw entries.get("tls").error("online_store.tls is false, but tls_ca is set", "set tls: true, or remove tls_ca");
                }
                RedisSettings configured = redis.withCredentials(user, password);
                return at(node.get(), n -> configured.withOptions(tls || tlsCa.isPresent(), prefix, expire, timeout).withTlsCa(tlsCa));
            }
            default -> throw entries.get("type").error("unknown online_store.type '" + type + "'",
                    "use rocksdb (embedded, the default) or redis");
        }
    }

    private static CacheSettings cache(Optional<YamlNode> node, Path base, Path dataDir) {
        CacheSettings defaults = CacheSettings.defaults(dataDir.resolve("cache"));
        if (node.isEmpty()) {
            return withEnvironment(defaults);
        }
        Map<String, YamlNode> entries = node.get().asMapWithKeys(CACHE_KEYS);
        Path root = YamlNode.optional(entries, "root").map(n -> resolve(base, n.asString())).orElse(defaults.root());
        OptionalLong quota = YamlNode.optional(entries, "quota").map(n -> at(n, v -> OptionalLong.of(Sizes.parse(v.asString(), "cache.quota"))))
                .orElse(OptionalLong.empty());
        double high = YamlNode.optional(entries, "high_watermark").map(YamlNode::asDouble).orElse(defaults.highWatermark());
        double low = YamlNode.optional(entries, "low_watermark").map(YamlNode::asDouble).orElse(defaults.lowWatermark());
        EvictionPolicy policy = YamlNode.optional(entries, "policy").map(n -> at(n, v -> EvictionPolicy.parse(v.asString(), "cache.policy")))
                .orElse(defaults.policy());
        int parallel = YamlNode.optional(entries, "parallel").map(YamlNode::asInt).orElse(defaults.parallel());
        Map<String, String> mirrors = YamlNode.optional(entries, "mirrors").map(YamlNode::asStringMap).orElse(Map.of());
        DaemonSettings daemon = YamlNode.optional(entries, "daemon").map(GranaryConfig::cacheDaemon).orElse(defaults.daemon());
        return withEnvironment(at(node.get(), n -> new CacheSettings(root, quota, high, low, policy, parallel, mirrors, daemon)));
    }

    private static DaemonSettings cacheDaemon(YamlNode node) {
        DaemonSettings defaults = DaemonSettings.defaults();
        Map<String, YamlNode> entries = node.asMapWithKeys(CACHE_DAEMON_KEYS);
        return at(node, n -> new DaemonSettings(
                YamlNode.optional(entries, "host").map(YamlNode::asString).orElse(defaults.host()),
                YamlNode.optional(entries, "port").map(GranaryConfig::port).orElse(defaults.port()),
                YamlNode.optional(entries, "http_port").map(GranaryConfig::port).orElse(defaults.httpPort()),
                YamlNode.optional(entries, "token").map(YamlNode::asString),
                YamlNode.optional(entries, "connect").map(YamlNode::asString).orElse(defaults.connect())));
    }

    /**
     * GRANARY_CACHE_ROOT, GRANARY_CACHE_TOKEN and GRANARY_CACHE_DAEMON, when set, win over the config
     * file (a pod gets its node's daemon, and the daemon its node's directory, this way).
     */
    static CacheSettings withEnvironment(CacheSettings settings) {
        String root = System.getenv("GRANARY_CACHE_ROOT");
        if (root != null && !root.isBlank()) {
            settings = settings.withRoot(Path.of(root.strip()));
        }
        DaemonSettings daemon = settings.daemon();
        String token = System.getenv("GRANARY_CACHE_TOKEN");
        if (token != null && !token.isBlank()) {
            daemon = daemon.withToken(Optional.of(token));
        }
        String connect = System.getenv("GRANARY_CACHE_DAEMON");
        if (connect != null && !connect.isBlank()) {
            try {
                daemon = daemon.withConnect(connect.strip());
            } catch (GranaryException e) {
                throw new GranaryException("GRANARY_CACHE_DAEMON: " + e.getMessage(), e.hint());
            }
        }
        return settings.withDaemon(daemon);
    }

    private static StreamSettings stream(Optional<YamlNode> node) {
        StreamSettings defaults = StreamSettings.defaults();
        if (node.isEmpty()) {
            return withStreamToken(defaults);
        }
        Map<String, YamlNode> entries = node.get().asMapWithKeys(STREAM_KEYS);
        long memory = YamlNode.optional(entries, "memory").map(n -> at(n, v -> Sizes.parse(v.asString(), "stream.memory"))).orElse(defaults.memory());
        java.time.Duration lease = YamlNode.optional(entries, "lease_timeout")
                .map(n -> at(n, v -> io.granary.common.Durations.parse(v.asString(), "stream.lease_timeout"))).orElse(defaults.leaseTimeout());
        return withStreamToken(at(node.get(), n -> new StreamSettings(
                YamlNode.optional(entries, "host").map(YamlNode::asString).orElse(defaults.host()),
                YamlNode.optional(entries, "port").map(GranaryConfig::port).orElse(defaults.port()),
                YamlNode.optional(entries, "http_port").map(GranaryConfig::port).orElse(defaults.httpPort()),
                YamlNode.optional(entries, "token").map(YamlNode::asString), memory, lease)));
    }

    /** The environment's GRANARY_STREAM_TOKEN, when set, wins over the config file's token. */
    static StreamSettings withStreamToken(StreamSettings settings) {
        String token = System.getenv("GRANARY_STREAM_TOKEN");
        return token == null || token.isBlank() ? settings : settings.withToken(Optional.of(token));
    }

    /** Parses one value, so that an error names its own line. */
    private static <T> T at(YamlNode node, java.util.function.Function<YamlNode, T> parse) {
        try {
            return parse.apply(node);
        } catch (GranaryException e) {
            throw node.error(e.getMessage(), e.hint());
        }
    }

    private static int port(YamlNode node) {
        int port = node.asInt();
        if (port < 0 || port > 65535) {
            throw node.error("port " + port + " is out of range", "use 0..65535 (0 picks a free port)");
        }
        return port;
    }

    private static Path resolve(Path base, String path) {
        Path given = Path.of(path.startsWith("~/") ? System.getProperty("user.home") + path.substring(1) : path);
        return base.resolve(given).normalize();
    }
}
