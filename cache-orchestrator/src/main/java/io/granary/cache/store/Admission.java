package io.granary.cache.store;

import io.granary.common.GranaryException;
import io.granary.common.Sizes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides, inside one transaction, what a stager copies, what it waits for (another stager is
 * copying it), and what is evicted to make room: the cache never holds or reserves more than the
 * quota, and never evicts a pinned or reserved entry.
 */
public final class Admission {

    /** What a stage may go on with. */
    public record Decision(List<String> toCopy, List<String> waitFor, List<Entry> evicted, long reservedBytes) {}

    /** The limits: bytes, the share above which eviction starts, the share it evicts down to, and the order. */
    public record Limits(long quota, double highWatermark, double lowWatermark, EvictionPolicy policy) {}

    private Admission() {}

    /**
     * Reserves space for the wanted entries that are neither cached nor being copied by someone
     * else, evicting unpinned entries if the cache would go above its high watermark.
     *
     * @param wanted entry id to size, for every file of the snapshot being staged
     * @param what the snapshot being staged, for the error message
     */
    public static Decision admit(CacheStore.Txn txn, Map<String, Long> wanted, Owner owner, Limits limits, String what) {
        dropDeadHolds(txn);
        Map<String, Reservation> reserved = new LinkedHashMap<>();
        for (Reservation reservation : txn.reservations()) {
            reserved.put(reservation.entryId(), reservation);
        }
        List<String> toCopy = new ArrayList<>();
        List<String> waitFor = new ArrayList<>();
        long need = 0;
        for (Map.Entry<String, Long> file : wanted.entrySet()) {
            String id = file.getKey();
            if (txn.hasEntry(id)) {
                continue;
            }
            Reservation reservation = reserved.get(id);
            if (reservation != null && !reservation.owner().equals(owner)) {
                waitFor.add(id);
            } else if (reservation == null) {
                toCopy.add(id);
                need += file.getValue();
            }
        }
        if (toCopy.isEmpty()) {
            return new Decision(toCopy, waitFor, List.of(), 0);
        }
        long used = txn.usedBytes() + reserved.values().stream().mapToLong(Reservation::size).sum();
        List<Entry> evicted = new ArrayList<>();
        if (used + need > limits.highWatermark() * limits.quota()) {
            List<Entry> entries = txn.entries();
            Set<String> protectedIds = pinnedEntryIds(txn);
            protectedIds.addAll(wanted.keySet());
            protectedIds.addAll(reserved.keySet());
            List<Entry> candidates = withSnapshotUse(txn, entries).stream().filter(e -> !protectedIds.contains(e.id()))
                    .sorted(limits.policy().evictionOrder()).toList();
            for (Entry candidate : candidates) {
                if (used + need <= limits.lowWatermark() * limits.quota()) {
                    break;
                }
                txn.deleteEntry(candidate.id());
                evicted.add(candidate);
                used -= candidate.size();
            }
        }
        if (used + need > limits.quota()) {
            throw overQuota(txn, limits.quota(), need, used, what);
        }
        for (String id : toCopy) {
            txn.put(new Reservation(id, wanted.get(id), owner));
        }
        return new Decision(toCopy, waitFor, evicted, need);
    }

    /**
     * Entries with their last use and use count as their snapshots record them: a file's last
     * use is the latest of the snapshots that list it, its uses the sum of theirs.
     */
    static List<Entry> withSnapshotUse(CacheStore.Txn txn, List<Entry> entries) {
        Map<String, long[]> use = new java.util.HashMap<>();
        for (SnapshotRecord snapshot : txn.snapshots()) {
            for (SnapshotRecord.File file : snapshot.files()) {
                long[] seen = use.computeIfAbsent(file.entryId(), id -> new long[2]);
                seen[0] = Math.max(seen[0], snapshot.lastUsedMillis());
                seen[1] += snapshot.uses();
            }
        }
        List<Entry> effective = new ArrayList<>(entries.size());
        for (Entry entry : entries) {
            long[] seen = use.getOrDefault(entry.id(), new long[2]);
            effective.add(new Entry(entry.id(), entry.size(), entry.checksumKind(), entry.checksum(), entry.source(), entry.createdMillis(),
                    Math.max(entry.lastAccessMillis(), seen[0]), entry.hits() + seen[1]));
        }
        return effective;
    }

    /** Releases the reservations this owner still holds (on failure, or once its copies are committed). */
    public static void release(CacheStore.Txn txn, Owner owner, Collection<String> entryIds) {
        for (String id : entryIds) {
            txn.reservation(id).filter(r -> r.owner().equals(owner)).ifPresent(r -> txn.deleteReservation(id));
        }
    }

    /** Entries that a live pin keeps: every file of every pinned snapshot. */
    public static Set<String> pinnedEntryIds(CacheStore.Txn txn) {
        Set<String> ids = new HashSet<>();
        Set<String> pinnedSnapshots = txn.pins().stream().filter(p -> p.owner().alive()).map(Pin::snapshotKey).collect(Collectors.toSet());
        for (String key : pinnedSnapshots) {
            txn.snapshot(key).ifPresent(s -> s.files().forEach(f -> ids.add(f.entryId())));
        }
        return ids;
    }

    /** Pins and reservations of processes that died (kill -9 included) hold nothing. */
    public static void dropDeadHolds(CacheStore.Txn txn) {
        for (Pin pin : txn.pins()) {
            if (!pin.owner().alive()) {
                txn.deletePin(pin.id());
            }
        }
        for (Reservation reservation : txn.reservations()) {
            if (!reservation.owner().alive()) {
                txn.deleteReservation(reservation.entryId());
            }
        }
    }

    private static GranaryException overQuota(CacheStore.Txn txn, long quota, long need, long used, String what) {
        if (need > quota) {
            return new GranaryException(GranaryException.Kind.CONFLICT, "staging " + what + " needs " + Sizes.format(need)
                    + " in the cache, but its quota is " + Sizes.format(quota) + " in all", "raise cache.quota to more than " + Sizes.format(need), null);
        }
        List<String> holders = new ArrayList<>();
        long pinnedBytes = 0;
        Set<String> counted = new HashSet<>();
        for (Pin pin : txn.pins()) {
            if (!pin.owner().alive()) {
                continue;
            }
            List<SnapshotRecord.File> files = txn.snapshot(pin.snapshotKey()).map(SnapshotRecord::files).orElse(List.of());
            holders.add(pin.what() + " (" + pin.snapshotKey() + ", " + Sizes.format(files.stream().mapToLong(SnapshotRecord.File::size).sum()) + ")");
            for (SnapshotRecord.File file : files) {
                if (counted.add(file.entryId()) && txn.hasEntry(file.entryId())) {
                    pinnedBytes += file.size();
                }
            }
        }
        long reservedBytes = txn.reservations().stream().mapToLong(Reservation::size).sum();
        String message = "staging " + what + " needs " + Sizes.format(need) + " more in the cache, but its quota is "
                + Sizes.format(quota) + " and " + Sizes.format(used) + " cannot be freed: "
                + Sizes.format(pinnedBytes) + " pinned" + (holders.isEmpty() ? "" : " by " + String.join(", ", holders))
                + (reservedBytes > 0 ? ", " + Sizes.format(reservedBytes) + " being staged by others" : "");
        return new GranaryException(GranaryException.Kind.CONFLICT, message,
                "raise cache.quota, unmount what no job reads any more (`granary umount TARGET`), or stage fewer snapshots at once", null);
    }
}
