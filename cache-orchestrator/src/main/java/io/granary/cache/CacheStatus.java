package io.granary.cache;

import io.granary.cache.store.EvictionPolicy;
import java.util.List;

/** What a node's cache holds: totals against the quota, and per staged snapshot how much of it is cached and who pins it. */
public record CacheStatus(String root, long quota, double highWatermark, double lowWatermark, EvictionPolicy policy,
                          long usedBytes, long reservedBytes, int entries, List<SnapshotStatus> snapshots) {

    /** One snapshot the cache was asked for. */
    public record SnapshotStatus(String key, String kind, int files, long bytes, int cachedFiles, long cachedBytes,
                                 List<String> pinnedBy, long stagedMillis, long lastUsedMillis) {
        public double cachedPercent() {
            return bytes == 0 ? 100 : 100.0 * cachedBytes / bytes;
        }
    }

    public CacheStatus {
        snapshots = List.copyOf(snapshots);
    }
}
