package io.granary.cache.store;

/**
 * One file held by the cache, stored once however many snapshots and datasets list it.
 *
 * @param id its identity: {@code sha256-<hex>} for content known by its SHA-256 (shards, generated
 *     manifests), {@code file-<hex>} for an immutable data file known by its location and size
 * @param checksumKind {@code sha256} or {@code crc32c}: what {@code checksum} is, computed while copying
 * @param source where it was copied from, to refetch it
 * @param lastAccessMillis when it was copied; eviction takes the latest use of the snapshots that list it
 * @param hits uses of the file itself; eviction adds the uses of the snapshots that list it
 */
public record Entry(String id, long size, String checksumKind, String checksum, String source,
                    long createdMillis, long lastAccessMillis, long hits) {
}
