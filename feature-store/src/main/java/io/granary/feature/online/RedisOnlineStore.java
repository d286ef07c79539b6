package io.granary.feature.online;

import io.granary.common.GranaryException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisRedirectionException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.resps.ScanResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online store in Redis, standalone or Cluster, shared by any number of serving replicas.
 *
 * <p>A row is one Redis string, {@code PREFIX:row:VIEW:ENTITY_KEY}, holding the same encoded
 * {@link OnlineRow} the RocksDB store keeps, so a reader sees a view's features for an entity all
 * from one write or not at all: no replica ever answers a torn row. A row replaces the stored one
 * only if it is newer by the one-answer order (event time, created time, write order), decided
 * inside Redis by a small Lua script, so replaying a batch after a crash changes nothing.
 * Materialization state (layouts, checkpoints) lives beside the rows under {@code PREFIX:state:};
 * a checkpoint is written only after every row it covers is acknowledged. One writer at a time:
 * it holds a lease key, renewed while it runs, that a killed writer's loses after
 * {@link #WRITER_LEASE}.
 */
public final class RedisOnlineStore implements OnlineStore {

    private static final Logger LOG = LoggerFactory.getLogger(RedisOnlineStore.class);

    /** How long a writer's lease lasts without renewal (a killed materialization blocks the next for at most this). */
    static final Duration WRITER_LEASE = Duration.ofSeconds(30);
    /** Rows per pipelined round trip when writing: large enough to stream, small enough not to hold Redis up for readers. */
    private static final int WRITE_CHUNK = 2_000;
    private static final int SCAN_COUNT = 1_000;

    /**
     * KEYS[1] the row's key; ARGV[1] the new row; ARGV[2] when it expires (Unix ms, 0: never).
     * Compares the 64-bit little-endian header fields byte by byte from the top (the sign bit
     * flipped), as Lua's numbers cannot hold them exactly; format 1 rows have no write order (0).
     */
    private static final String WRITE_NEWER = """
            local function compare(a, b, offset)
              local hasA = offset < 21 or string.byte(a, 1) == 2
              local hasB = offset < 21 or string.byte(b, 1) == 2
              for i = 8, 1, -1 do
                local x = hasA and string.byte(a, offset + i) or 0
                local y = hasB and string.byte(b, offset + i) or 0
                if i == 8 then x = (x + 128) % 256; y = (y + 128) % 256 end
                if x ~= y then if x > y then return 1 else return -1 end end
              end
              return 0
            end
            local stored = redis.call('GET', KEYS[1])
            if stored then
              local format = string.byte(stored, 1)
              if (format ~= 1 and format ~= 2) or #stored < 21 then
                return redis.error_reply('FOREIGN a key under the prefix holds a value that is not a Granary row')
              end
              local newer = false
              for _, offset in ipairs({5, 13, 21, 29}) do
                local c = compare(ARGV[1], stored, offset)
                if c ~= 0 then newer = c > 0; break end
              end
              if not newer then return 0 end
            end
            if ARGV[2] == '0' then
              redis.call('SET', KEYS[1], ARGV[1])
            else
              redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
            end
            return 1
            """;
    /** KEYS[1] the lease; ARGV[1] its holder's token; ARGV[2] new lifetime in ms (0: give it up). */
    private static final String RENEW_LEASE = """
            if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
            if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
            return 1
            """;

    private final RedisSettings settings;
    private final UnifiedJedis client;
    private final boolean writer;
    private final Map<String, Long> ttlMillisByView = new ConcurrentHashMap<>();
    private final Map<String, byte[]> rowKeyPrefixes = new ConcurrentHashMap<>();
    private final String leaseToken = UUID.randomUUID().toString();
    private ScheduledExecutorService leaseRenewal;
    private byte[] renewLeaseSha;
    private volatile boolean leaseLost;
    private byte[] writeNewerSha;

    private RedisOnlineStore(RedisSettings settings, boolean writer) {
        this.settings = settings;
        this.writer = writer;
        this.client = connect(settings);
    }

    /** Connects to write: fails if Redis cannot be reached or another process holds the writer's lease. */
    public static RedisOnlineStore openWriter(RedisSettings settings) {
        RedisOnlineStore store = new RedisOnlineStore(settings, true);
        try {
            store.takeLease();
            store.writeNewerSha = store.loadScript(WRITE_NEWER);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    /** Connects to read; Redis need not be up yet (a read then answers UNAVAILABLE until it is). */
    public static RedisOnlineStore openReader(RedisSettings settings) {
        return new RedisOnlineStore(settings, false);
    }

    private static UnifiedJedis connect(RedisSettings settings) {
        int timeout = (int) settings.timeout().toMillis();
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeout).socketTimeoutMillis(timeout)
                .ssl(settings.tls()).database(settings.database()).clientName("granary");
        if (settings.tls()) {
            // check the server's name against its certificate, as a browser would (Jedis does not unless asked)
            javax.net.ssl.SSLParameters parameters = new javax.net.ssl.SSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            config.sslParameters(parameters);
            settings.tlsCa().ifPresent(ca -> config.sslSocketFactory(trusting(ca)));
        }
        settings.user().ifPresent(config::user);
        settings.password().ifPresent(config::password);
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        // serving threads each hold a connection for the length of a lookup; never wait longer than a timeout for one
        pool.setMaxTotal(64);
        pool.setMaxIdle(64);
        pool.setMaxWait(settings.timeout());
        pool.setJmxEnabled(false);
        try {
            if (settings.cluster()) {
                Set<HostAndPort> nodes = settings.nodes().stream().map(RedisOnlineStore::hostAndPort).collect(Collectors.toSet());
                return RedisClusterClient.builder().nodes(nodes).clientConfig(config.build()).poolConfig(pool)
                        .maxAttempts(3).maxTotalRetriesDuration(settings.timeout())
                        .topologyRefreshPeriod(java.time.Duration.ofSeconds(10)).build();
            }
            return RedisClient.builder().hostAndPort(hostAndPort(settings.nodes().get(0))).clientConfig(config.build()).poolConfig(pool).build();
        } catch (JedisException e) {
            // a cluster client asks its nodes for the slot map as it starts
            throw failure("connect to", settings, e);
        }
    }

    /** Sockets that trust exactly the certificates in the PEM file {@code caFile}. */
    private static javax.net.ssl.SSLSocketFactory trusting(java.nio.file.Path caFile) {
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(caFile)) {
            java.security.KeyStore trusted = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
            trusted.load(null, null);
            int n = 0;
            for (java.security.cert.Certificate certificate : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trusted.setCertificateEntry("ca-" + n++, certificate);
            }
            if (n == 0) {
                throw new GranaryException("online_store.tls_ca " + caFile + " holds no certificate", "give the PEM file of the CA that signed Redis's certificate");
            }
            javax.net.ssl.TrustManagerFactory trust = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (java.io.IOException e) {
            throw new GranaryException("cannot read online_store.tls_ca " + caFile + ": " + e.getMessage(), "give the PEM file of the CA that signed Redis's certificate", e);
        } catch (java.security.GeneralSecurityException e) {
            throw new GranaryException("online_store.tls_ca " + caFile + " is not a PEM certificate: " + e.getMessage(),
                    "give the PEM file of the CA that signed Redis's certificate", e);
        }
    }

    private static HostAndPort hostAndPort(String node) {
        String[] parts = RedisSettings.hostAndPort(node);
        return new HostAndPort(parts[0], Integer.parseInt(parts[1]));
    }

    public RedisSettings settings() {
        return settings;
    }

    /** PREFIX:row:VIEW:ENTITY_KEY. */
    byte[] rowKey(String view, byte[] entityKey) {
        byte[] viewPrefix = rowKeyPrefixes.computeIfAbsent(view, v -> (settings.keyPrefix() + ":row:" + v + ":").getBytes(StandardCharsets.UTF_8));
        byte[] key = Arrays.copyOf(viewPrefix, viewPrefix.length + entityKey.length);
        System.arraycopy(entityKey, 0, key, viewPrefix.length, entityKey.length);
        return key;
    }

    private byte[] stateKey(String name) {
        return (settings.keyPrefix() + ":state:" + name).getBytes(StandardCharsets.UTF_8);
    }

    private byte[] leaseKey() {
        return (settings.keyPrefix() + ":writer").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Map<String, List<Optional<EncodedRow>>> read(Map<String, List<byte[]>> keysByView) {
        List<byte[]> keys = new ArrayList<>();
        keysByView.forEach((view, entityKeys) -> entityKeys.forEach(k -> keys.add(rowKey(view, k))));
        List<byte[]> values = keys.isEmpty() ? List.of() : call("read", () -> getAll(keys));
        Map<String, List<Optional<EncodedRow>>> rows = new LinkedHashMap<>();
        int next = 0;
        for (Map.Entry<String, List<byte[]>> view : keysByView.entrySet()) {
            List<Optional<EncodedRow>> viewRows = new ArrayList<>(view.getValue().size());
            for (int i = 0; i < view.getValue().size(); i++) {
                byte[] value = values.get(next++);
                viewRows.add(value == null ? Optional.empty() : Optional.of(new EncodedRow(value)));
            }
            rows.put(view.getKey(), viewRows);
        }
        return rows;
    }

    /** One MGET on a single server; on a Cluster, GETs pipelined to the nodes that own their keys. */
    private List<byte[]> getAll(List<byte[]> keys) {
        if (!settings.cluster()) {
            return client.mget(keys.toArray(new byte[0][]));
        }
        List<Response<byte[]>> responses = new ArrayList<>(keys.size());
        try (AbstractPipeline pipeline = client.pipelined()) {
            for (byte[] key : keys) {
                responses.add(pipeline.get(key));
            }
            pipeline.sync();
        }
        List<byte[]> values = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            try {
                values.add(responses.get(i).get());
            } catch (JedisRedirectionException moved) {
                // the slot moved since the client learnt the owners (a reshard, a failover): a single GET follows it and relearns them
                values.add(client.get(keys.get(i)));
            }
        }
        return values;
    }

    @Override
    public void forEachKey(String view, Consumer<byte[]> action) {
        byte[] pattern = rowKey(view, "*".getBytes(StandardCharsets.UTF_8));
        int keyStart = pattern.length - 1;
        ScanParams params = new ScanParams().match(pattern).count(SCAN_COUNT);
        call("scan", () -> {
            forEachPrimary(node -> {
                byte[] cursor = ScanParams.SCAN_POINTER_START_BINARY;
                do {
                    ScanResult<byte[]> page = node.scan(cursor, params);
                    page.getResult().forEach(key -> action.accept(Arrays.copyOfRange(key, keyStart, key.length)));
                    cursor = page.getCursorAsBytes();
                } while (!Arrays.equals(cursor, ScanParams.SCAN_POINTER_START_BINARY));
            });
            return null;
        });
    }

    /**
     * Calls {@code action} with a connection to each node that holds data, the server or each
     * Cluster primary (replicas hold copies), one at a time, each given back to its pool after.
     */
    private void forEachPrimary(Consumer<Jedis> action) {
        if (client instanceof RedisClient single) {
            try (Jedis node = new Jedis(single.getPool().getResource())) {
                action.accept(node);
            }
            return;
        }
        for (ConnectionPool pool : ((RedisClusterClient) client).getClusterNodes().values()) {
            try (Jedis node = new Jedis(pool.getResource())) {
                if ("master".equals(new String((byte[]) node.roleBinary().get(0), StandardCharsets.UTF_8))) {
                    action.accept(node);
                }
            }
        }
    }

    @Override
    public void expireAfter(String view, Duration ttl) {
        if (settings.expireAfterTtl() && !ttl.isZero() && !ttl.isNegative()) {
            ttlMillisByView.put(view, ttl.toMillis());
        }
    }

    @Override
    public int writeNewer(String view, List<byte[]> keys, List<OnlineRow> rows, Optional<StateRecord> state) {
        if (!writer) {
            throw new IllegalStateException("a reader cannot write");
        }
        if (leaseLost) {
            throw lostLease();
        }
        Long ttl = ttlMillisByView.get(view);
        int newer = 0;
        for (int from = 0; from < keys.size(); from += WRITE_CHUNK) {
            int to = Math.min(keys.size(), from + WRITE_CHUNK);
            int start = from;
            newer += call("write", () -> writeChunk(view, keys.subList(start, to), rows.subList(start, to), ttl));
        }
        // only now that every row is in: a checkpoint never runs ahead of the rows it covers
        state.ifPresent(record -> call("write", () -> client.set(stateKey(record.name()), record.value())));
        return newer;
    }

    private int writeChunk(String view, List<byte[]> keys, List<OnlineRow> rows, Long ttlMillis) {
        List<Response<Object>> responses = new ArrayList<>(keys.size());
        List<List<byte[]>> arguments = new ArrayList<>(keys.size());
        try (AbstractPipeline pipeline = client.pipelined()) {
            for (int i = 0; i < keys.size(); i++) {
                OnlineRow row = rows.get(i);
                long expireAt = ttlMillis == null ? 0 : Math.max(1, row.eventTimeMicros() / 1000 + ttlMillis);
                arguments.add(List.of(row.encode(), Long.toString(expireAt).getBytes(StandardCharsets.UTF_8)));
                responses.add(pipeline.evalsha(writeNewerSha, List.of(rowKey(view, keys.get(i))), arguments.get(i)));
            }
            pipeline.sync();
        }
        int newer = 0;
        for (int i = 0; i < responses.size(); i++) {
            try {
                newer += ((Long) responses.get(i).get()).intValue();
            } catch (JedisRedirectionException moved) {
                // the slot moved (a reshard, a failover): a single call follows it and relearns the owners
                newer += ((Long) client.evalsha(writeNewerSha, List.of(rowKey(view, keys.get(i))), arguments.get(i))).intValue();
            } catch (JedisDataException e) {
                if (String.valueOf(e.getMessage()).startsWith("NOSCRIPT")) {
                    // Redis restarted (or a node joined) since the script was loaded: load it again and replay, which is idempotent
                    writeNewerSha = loadScript(WRITE_NEWER);
                    return writeChunk(view, keys, rows, ttlMillis);
                }
                throw e;
            }
        }
        return newer;
    }

    @Override
    public Optional<byte[]> state(String name) {
        return Optional.ofNullable(call("read", () -> client.get(stateKey(name))));
    }

    /** Checks that Redis answers (the feature server's health follows it). */
    @Override
    public void catchUp() {
        call("reach", () -> {
            forEachPrimary(Jedis::ping);
            return null;
        });
    }

    /** Loads a script on every node (a Cluster runs a script on the node owning its key) and returns its SHA-1. */
    private byte[] loadScript(String script) {
        byte[][] sha = new byte[1][];
        call("prepare", () -> {
            forEachPrimary(node -> sha[0] = node.scriptLoad(script.getBytes(StandardCharsets.UTF_8)));
            return null;
        });
        return sha[0];
    }

    private void takeLease() {
        String taken = call("lock", () -> client.set(leaseKey(), leaseToken.getBytes(StandardCharsets.UTF_8),
                SetParams.setParams().nx().px(WRITER_LEASE.toMillis())));
        if (!"OK".equals(taken)) {
            throw new GranaryException(GranaryException.Kind.CONFLICT, "the online store " + settings.describe() + " is being written by another process",
                    "wait for the other materialization to finish; a killed one's lease (" + settings.keyPrefix() + ":writer) lapses after "
                            + WRITER_LEASE.toSeconds() + " s", null);
        }
        renewLeaseSha = loadScript(RENEW_LEASE);
        leaseRenewal = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "granary-redis-writer-lease");
            thread.setDaemon(true);
            return thread;
        });
        long every = WRITER_LEASE.toMillis() / 3;
        leaseRenewal.scheduleWithFixedDelay(() -> renewLease(WRITER_LEASE.toMillis()), every, every, TimeUnit.MILLISECONDS);
    }

    private void renewLease(long millis) {
        try {
            Object kept = client.evalsha(renewLeaseSha, List.of(leaseKey()), List.of(leaseToken.getBytes(StandardCharsets.UTF_8),
                    Long.toString(millis).getBytes(StandardCharsets.UTF_8)));
            if (millis > 0 && Long.valueOf(0).equals(kept)) {
                leaseLost = true;
                LOG.warn("lost the writer's lease on {}: another process took it", settings.describe());
            }
        } catch (JedisException e) {
            if (String.valueOf(e.getMessage()).startsWith("NOSCRIPT")) {
                leaseLost = true; // Redis restarted without its data: the lease is gone with it
            }
            LOG.warn(millis > 0 ? "cannot renew the writer's lease on {}: {}" : "cannot give the writer's lease on {} back (it lapses by itself): {}",
                    settings.describe(), e.getMessage());
        }
    }

    private GranaryException lostLease() {
        return new GranaryException(GranaryException.Kind.CONFLICT, "lost the writer's lease on the online store " + settings.describe()
                + " (Redis was unreachable for " + WRITER_LEASE.toSeconds() + " s, or restarted)",
                "run the materialization again: it carries on after the last batch it finished", null);
    }

    /**
     * Runs a Redis call, naming the store in what fails. A broken connection to a single server
     * empties the pool's idle connections (after a restart they are all dead) and is tried once more.
     */
    private <T> T call(String action, Supplier<T> operation) {
        try {
            try {
                return operation.get();
            } catch (JedisConnectionException e) {
                if (client instanceof RedisClient single) {
                    single.getPool().clear();
                    return operation.get();
                }
                throw e;
            }
        } catch (JedisException e) {
            throw failure(action, settings, e);
        }
    }

    private static GranaryException failure(String action, RedisSettings settings, JedisException e) {
        String where = "the online store " + settings.describe();
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof JedisAccessControlException || reason.startsWith("NOAUTH") || reason.startsWith("WRONGPASS")) {
            return new GranaryException(GranaryException.Kind.UNAVAILABLE, "Redis refused Granary's credentials for " + where + ": " + reason,
                    "check online_store.password (or GRANARY_REDIS_PASSWORD) and online_store.user", e);
        }
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof javax.net.ssl.SSLException) {
                return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot " + action + " " + where + ": the TLS handshake failed: "
                        + cause.getMessage(), "check online_store.tls_ca (the CA that signed Redis's certificate; default: the JVM's trust store)"
                        + " and that the certificate names the host Granary connects to", e);
            }
        }
        if (reason.startsWith("FOREIGN")) {
            return new GranaryException(GranaryException.Kind.CONFLICT, "cannot " + action + " " + where + ": a key under '"
                    + settings.keyPrefix() + ":' holds a value that is not a Granary row (something else writes there)",
                    "give Granary keys of its own: another online_store.key_prefix, or another Redis database", e);
        }
        if (e instanceof JedisConnectionException || e instanceof JedisClusterOperationException) {
            String cause = e.getCause() == null ? reason : reason + " (" + e.getCause().getMessage() + ")";
            return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot " + action + " " + where + ": " + cause,
                    "check that Redis is up and reachable at " + String.join(", ", settings.nodes())
                            + " (a server answers again by itself once it is; a materialization carries on when rerun)", e);
        }
        return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot " + action + " " + where + ": " + reason,
                "see the Redis server's log", e);
    }

    @Override
    public void close() {
        if (leaseRenewal != null) {
            leaseRenewal.shutdownNow();
            renewLease(0); // give it back; if Redis cannot be reached, it lapses by itself
        }
        client.close();
    }
}
