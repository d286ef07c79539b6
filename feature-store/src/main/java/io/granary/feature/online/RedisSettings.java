package io.granary.feature.online;

import io.granary.common.GranaryException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A Redis online store: one server ({@code url}) or a Redis Cluster ({@code cluster}, any of its
 * nodes), with the credentials and TLS passed to every connection. Keys start with
 * {@code keyPrefix}, so several projects can share a Redis. With {@code expireAfterTtl} a row's
 * key expires when the row gets older than its view's ttl (Redis frees it; serving would have
 * answered it as OUTSIDE_MAX_AGE anyway). With {@code tls}, the server's certificate is checked
 * against {@code tlsCa} (a PEM file of the CA that signed it) if given, else the JVM's trust store,
 * and its name against the host connected to.
 */
public record RedisSettings(List<String> nodes, boolean cluster, int database, Optional<String> user, Optional<String> password,
                            boolean tls, Optional<Path> tlsCa, String keyPrefix, boolean expireAfterTtl, Duration timeout)
        implements OnlineStoreSettings {

    public static final String DEFAULT_PREFIX = "granary";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    public RedisSettings {
        nodes = List.copyOf(nodes);
        if (nodes.isEmpty()) {
            throw new GranaryException("online_store of type redis names no server", "give url: redis://HOST:PORT or cluster: [HOST:PORT, ...]");
        }
        for (String node : nodes) {
            hostAndPort(node);
        }
        if (tlsCa.isPresent() && !tls) {
            throw new GranaryException("online_store.tls_ca is set but TLS is off", "set tls: true (or use a rediss:// url), or remove tls_ca");
        }
        if (cluster && database != 0) {
            throw new GranaryException("a Redis Cluster has only database 0, not " + database, "leave the database out of the url");
        }
        if (keyPrefix.isEmpty() || keyPrefix.contains("*") || keyPrefix.contains("?") || keyPrefix.contains("[")) {
            throw new GranaryException("online_store.key_prefix '" + keyPrefix + "' is empty or holds a glob character (* ? [)",
                    "use letters, digits, '_', '-', ':' or '.'");
        }
    }

    /**
     * One server from a URL, {@code redis://[[user]:password@]host[:port][/database]}, or
     * {@code rediss://...} for TLS (as redis-cli and Feast read them).
     */
    public static RedisSettings fromUrl(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new GranaryException("online_store.url '" + url + "' is not a URL", "write it as redis://HOST:PORT or rediss://HOST:PORT", e);
        }
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new GranaryException("online_store.url '" + url + "' is not a redis:// or rediss:// URL with a host",
                    "write it as redis://HOST:PORT (rediss:// for TLS)");
        }
        Optional<String> user = Optional.empty();
        Optional<String> password = Optional.empty();
        if (uri.getRawUserInfo() != null) {
            String info = uri.getRawUserInfo();
            int colon = info.indexOf(':');
            String name = colon < 0 ? "" : decode(info.substring(0, colon));
            user = name.isEmpty() ? Optional.empty() : Optional.of(name);
            password = Optional.of(decode(colon < 0 ? info : info.substring(colon + 1)));
        }
        int database = 0;
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        if (!path.isEmpty()) {
            try {
                database = Integer.parseInt(path);
            } catch (NumberFormatException e) {
                throw new GranaryException("online_store.url '" + url + "' names database '" + path + "', not a number",
                        "write redis://HOST:PORT/0, or leave the database out");
            }
        }
        int port = uri.getPort() < 0 ? 6379 : uri.getPort();
        return new RedisSettings(List.of(uri.getHost() + ":" + port), false, database, user, password, "rediss".equals(uri.getScheme()),
                Optional.empty(), DEFAULT_PREFIX, false, DEFAULT_TIMEOUT);
    }

    /** A Redis Cluster reached through any of {@code nodes} ("host:port"). */
    public static RedisSettings cluster(List<String> nodes) {
        return new RedisSettings(nodes, true, 0, Optional.empty(), Optional.empty(), false, Optional.empty(), DEFAULT_PREFIX, false, DEFAULT_TIMEOUT);
    }

    public RedisSettings withCredentials(Optional<String> newUser, Optional<String> newPassword) {
        return new RedisSettings(nodes, cluster, database, newUser, newPassword, tls, tlsCa, keyPrefix, expireAfterTtl, timeout);
    }

    public RedisSettings withOptions(boolean newTls, String newPrefix, boolean newExpireAfterTtl, Duration newTimeout) {
        return new RedisSettings(nodes, cluster, database, user, password, newTls, tlsCa, newPrefix, newExpireAfterTtl, newTimeout);
    }

    /** TLS on, the server's certificate checked against the CA in {@code caFile} (PEM) instead of the JVM's trust store. */
    public RedisSettings withTlsCa(Optional<Path> caFile) {
        return new RedisSettings(nodes, cluster, database, user, password, tls || caFile.isPresent(), caFile, keyPrefix, expireAfterTtl, timeout);
    }

    /** "host:port" split, checked. */
    static String[] hostAndPort(String node) {
        int colon = node.lastIndexOf(':');
        if (colon <= 0 || colon == node.length() - 1) {
            throw new GranaryException("Redis node '" + node + "' is not HOST:PORT", "write each node as HOST:PORT, e.g. 10.0.0.5:6379");
        }
        try {
            int port = Integer.parseInt(node.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new GranaryException("Redis node '" + node + "' has no valid port", "write each node as HOST:PORT, e.g. 10.0.0.5:6379");
        }
        return new String[] {node.substring(0, colon), node.substring(colon + 1)};
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }

    @Override
    public OnlineStore openWriter() {
        return RedisOnlineStore.openWriter(this);
    }

    @Override
    public OnlineStore openReader() {
        return RedisOnlineStore.openReader(this);
    }

    /** The address without the password. */
    @Override
    public String describe() {
        return cluster ? "Redis Cluster " + String.join(",", nodes) : (tls ? "rediss://" : "redis://") + nodes.get(0) + (database == 0 ? "" : "/" + database);
    }

    @Override
    public boolean lookupsWaitOnNetwork() {
        return true;
    }

    @Override
    public String toString() {
        return describe(); // never the password
    }
}
