package io.granary.cache.store;

import io.granary.common.GranaryException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;

/** Which unpinned entries go first when the cache must make room. */
public enum EvictionPolicy {
    /** Least recently used first: the usual choice when jobs move on from old snapshots. */
    LRU(Comparator.comparingLong(Entry::lastAccessMillis).thenComparing(Entry::id)),
    /** Least frequently used first (older first among equals): keeps the few datasets every job reads. */
    LFU(Comparator.comparingLong(Entry::hits).thenComparingLong(Entry::lastAccessMillis).thenComparing(Entry::id));

    private final Comparator<Entry> evictionOrder;

    EvictionPolicy(Comparator<Entry> evictionOrder) {
        this.evictionOrder = evictionOrder;
    }

    /** Sorts entries so that the first is evicted first. */
    public Comparator<Entry> evictionOrder() {
        return evictionOrder;
    }

    public static EvictionPolicy parse(String text, String where) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new GranaryException("unknown eviction policy '" + text + "' for " + where,
                    "use one of " + Arrays.stream(values()).map(p -> p.name().toLowerCase(Locale.ROOT)).toList());
        }
    }
}
