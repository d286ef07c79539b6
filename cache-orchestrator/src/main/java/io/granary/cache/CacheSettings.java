package io.granary.cache;

import io.granary.cache.daemon.DaemonSettings;
import io.granary.cache.store.EvictionPolicy;
import io.granary.common.GranaryException;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;

/**
 * How a node's cache is set up: where it lives, how much of the disk it may take, when it evicts
 * and what first, how many files it copies at once, and which remote mirrors stand in for which
 * dataset locations.
 *
 * @param quota bytes the cache may hold; empty means 80% of what the cache's file system can hold
 *     (its free space plus what the cache holds already), decided when the cache opens
 * @param highWatermark eviction starts when a stage would take the cache above this share of the quota
 * @param lowWatermark eviction stops once the cache is at or below this share of the quota
 * @param mirrors location prefix (as the catalog records it) to the prefix to read it from instead
 * @param daemon where the node's cache daemon listens, and whether the CLI goes through it
 */
public record CacheSettings(Path root, OptionalLong quota, double highWatermark, double lowWatermark,
                            EvictionPolicy policy, int parallel, Map<String, String> mirrors, DaemonSettings daemon) {

    public static final double DEFAULT_HIGH_WATERMARK = 0.95;
    public static final double DEFAULT_LOW_WATERMARK = 0.80;
    public static final int DEFAULT_PARALLEL = 8;

    public CacheSettings {
        root = root.toAbsolutePath().normalize();
        if (quota.isPresent() && quota.getAsLong() <= 0) {
            throw new GranaryException("cache.quota must be positive, not " + quota.getAsLong(), "write a size such as 200g");
        }
        if (!(lowWatermark > 0 && lowWatermark <= highWatermark && highWatermark <= 1)) {
            throw new GranaryException("cache watermarks must satisfy 0 < low <= high <= 1, not low " + lowWatermark + ", high " + highWatermark,
                    "the defaults are high_watermark 0.95 and low_watermark 0.8");
        }
        if (parallel < 1) {
            throw new GranaryException("cache.parallel must be at least 1, not " + parallel, "copy 8 files at once with parallel: 8");
        }
        mirrors = Map.copyOf(mirrors);
    }

    public static CacheSettings defaults(Path root) {
        return new CacheSettings(root, OptionalLong.empty(), DEFAULT_HIGH_WATERMARK, DEFAULT_LOW_WATERMARK,
                EvictionPolicy.LRU, DEFAULT_PARALLEL, Map.of(), DaemonSettings.defaults());
    }

    public CacheSettings withQuota(long bytes) {
        return new CacheSettings(root, OptionalLong.of(bytes), highWatermark, lowWatermark, policy, parallel, mirrors, daemon);
    }

    public CacheSettings withPolicy(EvictionPolicy value) {
        return new CacheSettings(root, quota, highWatermark, lowWatermark, value, parallel, mirrors, daemon);
    }

    public CacheSettings withWatermarks(double high, double low) {
        return new CacheSettings(root, quota, high, low, policy, parallel, mirrors, daemon);
    }

    public CacheSettings withRoot(Path value) {
        return new CacheSettings(value, quota, highWatermark, lowWatermark, policy, parallel, mirrors, daemon);
    }

    public CacheSettings withDaemon(DaemonSettings value) {
        return new CacheSettings(root, quota, highWatermark, lowWatermark, policy, parallel, mirrors, value);
    }

    public CacheSettings withMirrors(Map<String, String> value) {
        return new CacheSettings(root, quota, highWatermark, lowWatermark, policy, parallel, value, daemon);
    }
}
