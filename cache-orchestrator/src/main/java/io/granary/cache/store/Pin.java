package io.granary.cache.store;

/**
 * Keeps a snapshot's entries from eviction while something uses them.
 *
 * @param kind {@code stage}, {@code mount}, {@code follow} or {@code stream}
 * @param what who holds it, for people: "mount /mnt/speech", "stage by pid 4242"
 */
public record Pin(String id, String snapshotKey, String kind, String what, Owner owner, long createdMillis) {}
