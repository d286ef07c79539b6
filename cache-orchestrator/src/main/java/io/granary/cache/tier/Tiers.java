package io.granary.cache.tier;

import io.granary.common.GranaryException;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Maps a file's location, as the catalog records it, to where the cache reads it: through a
 * configured mirror when one covers the location (the longest matching prefix wins), else from
 * the location itself; and picks the tier for its scheme.
 */
public final class Tiers implements Closeable {

    private final List<Map.Entry<String, String>> mirrors;
    private final RemoteTier hadoop;
    private final RemoteTier alluxio;

    public Tiers(Map<String, String> mirrors, RemoteTier hadoop) {
        this(mirrors, hadoop, new AlluxioTier());
    }

    public Tiers(Map<String, String> mirrors, RemoteTier hadoop, RemoteTier alluxio) {
        this.mirrors = mirrors.entrySet().stream()
                .map(m -> Map.entry(withoutTrailingSlash(normalize(m.getKey()).toString()), withoutTrailingSlash(normalize(m.getValue()).toString())))
                .sorted(Comparator.comparingInt((Map.Entry<String, String> m) -> m.getKey().length()).reversed())
                .toList();
        this.hadoop = hadoop;
        this.alluxio = alluxio;
    }

    /** Where to read a location from, mirrors applied. */
    public URI locate(String location) {
        String normalized = normalize(location).toString();
        for (Map.Entry<String, String> mirror : mirrors) {
            String prefix = mirror.getKey();
            if (normalized.startsWith(prefix + "/")) {
                return normalize(mirror.getValue() + normalized.substring(prefix.length()));
            }
        }
        return normalize(normalized);
    }

    private static String withoutTrailingSlash(String text) {
        String trimmed = text;
        while (trimmed.endsWith("/") && !trimmed.endsWith(":/") && !trimmed.endsWith("//")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        return trimmed;
    }

    public RemoteTier tierFor(URI file) {
        return "alluxio".equals(file.getScheme()) ? alluxio : hadoop;
    }

    /** A location as a URI: a bare path is a local file; "file:/x" and "file:///x" become one form. */
    public static URI normalize(String location) {
        try {
            if (location.startsWith("/")) {
                return local(Path.of(location));
            }
            URI uri = new URI(location);
            if (uri.getScheme() == null) {
                return local(Path.of(location));
            }
            if ("file".equals(uri.getScheme())) {
                return local(Path.of(uri));
            }
            return uri.normalize();
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new GranaryException("cannot read the location '" + location + "': " + e.getMessage(),
                    "locations are paths or URIs such as hdfs://namenode:8020/warehouse", e);
        }
    }

    /** file:/absolute/path, never with a trailing slash (Path.toUri adds one for directories that exist). */
    private static URI local(Path path) throws URISyntaxException {
        return new URI("file", null, path.toAbsolutePath().normalize().toString(), null);
    }

    @Override
    public void close() throws IOException {
        try {
            alluxio.close();
        } finally {
            hadoop.close();
        }
    }
}
