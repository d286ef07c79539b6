package io.granary.cache.stage;

import java.time.Duration;

/**
 * What a stage did: the snapshot's size, what it found cached (hits) and copied (misses), what it
 * evicted to make room, and how long it took.
 */
public record StageResult(String snapshotKey, int files, long bytes, int filesCopied, long bytesCopied, int filesCached,
                          int evicted, long bytesEvicted, Duration elapsed) {}
