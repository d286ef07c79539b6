package io.granary.cache.store;

/** Space held for an entry being copied, so that concurrent stagers never overrun the quota together. */
public record Reservation(String entryId, long size, Owner owner) {}
