package io.granary.cache;

import io.granary.cache.stage.ProgressSink;
import io.granary.cache.stage.SnapshotFiles;
import io.granary.cache.stage.SnapshotResolver;
import io.granary.cache.stage.StageResult;
import io.granary.cache.stage.Stager;
import io.granary.cache.store.Admission;
import io.granary.cache.store.CacheStore;
import io.granary.cache.store.Checksum;
import io.granary.cache.store.Entry;
import io.granary.cache.store.EntryFiles;
import io.granary.cache.store.Pin;
import io.granary.cache.store.Reservation;
import io.granary.cache.store.SnapshotRecord;
import io.granary.cache.tier.HadoopTier;
import io.granary.cache.tier.Tiers;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;

/**
 * A node's cache, used in process: stage snapshots, report, evict, verify and collect garbage.
 * Any number of processes may use one cache root at once; the metadata store serializes what
 * must be, and the quota holds across all of them.
 */
public final class NodeCache implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeCache.class);

    private final CacheSettings settings;
    private final Datasets datasets;
    private final CacheStore store;
    private final EntryFiles entryFiles;
    private final Tiers tiers;
    private final Admission.Limits limits;

    public NodeCache(CacheSettings settings, Datasets datasets, Configuration hadoop) {
        this.settings = settings;
        this.datasets = datasets;
        this.store = new CacheStore(settings.root().resolve("meta"));
        this.entryFiles = new EntryFiles(settings.root());
        this.tiers = new Tiers(settings.mirrors(), new HadoopTier(hadoop));
        this.limits = new Admission.Limits(quota(), settings.highWatermark(), settings.lowWatermark(), settings.policy());
    }

    public CacheSettings settings() {
        return settings;
    }

    public EntryFiles entryFiles() {
        return entryFiles;
    }

    public CacheStore store() {
        return store;
    }

    public Datasets datasets() {
        return datasets;
    }

    /** The quota in bytes: the configured one, or 80% of what the disk can give the cache (free space plus what it holds). */
    public long quota() {
        if (settings.quota().isPresent()) {
            return settings.quota().getAsLong();
        }
        try {
            long free = Files.getFileStore(settings.root()).getUsableSpace();
            long held = store.transact(CacheStore.Txn::usedBytes);
            return (long) ((free + held) * 0.8);
        } catch (IOException e) {
            throw new GranaryException("cannot read the free space of the cache disk under " + settings.root() + ": " + e.getMessage(),
                    "set cache.quota explicitly", e);
        }
    }

    /** The files of a snapshot, from the catalog. */
    public SnapshotFiles resolve(DatasetRef ref) {
        return new SnapshotResolver(datasets, tiers).resolve(ref);
    }

    public StageResult stage(DatasetRef ref, int parallel, boolean showProgress) {
        return stage(ref, parallel, ProgressSink.of(showProgress));
    }

    public StageResult stage(DatasetRef ref, int parallel, ProgressSink progress) {
        long started = System.nanoTime();
        SnapshotFiles snapshot = resolve(ref);
        LOG.debug("{}: resolved to {} files in {} ms", ref, snapshot.fileCount(), (System.nanoTime() - started) / 1_000_000);
        return stage(snapshot, parallel, progress, Optional.empty());
    }

    public StageResult stage(SnapshotFiles snapshot, int parallel, boolean showProgress, Optional<Pin> keep) {
        return stage(snapshot, parallel, ProgressSink.of(showProgress), keep);
    }

    public StageResult stage(SnapshotFiles snapshot, int parallel, ProgressSink progress, Optional<Pin> keep) {
        return new Stager(store, entryFiles, tiers, limits).stage(snapshot, parallel, progress, keep);
    }

    public CacheStatus status() {
        return store.transact(txn -> {
            Admission.dropDeadHolds(txn);
            Set<String> entries = txn.entryIds();
            long used = txn.usedBytes();
            long reserved = txn.reservations().stream().mapToLong(Reservation::size).sum();
            Map<String, List<String>> pinnedBy = txn.pins().stream()
                    .collect(Collectors.groupingBy(Pin::snapshotKey, Collectors.mapping(Pin::what, Collectors.toList())));
            List<CacheStatus.SnapshotStatus> snapshots = new ArrayList<>();
            for (SnapshotRecord snapshot : txn.snapshots()) {
                int cachedFiles = 0;
                long cachedBytes = 0;
                for (SnapshotRecord.File file : snapshot.files()) {
                    if (entries.contains(file.entryId())) {
                        cachedFiles++;
                        cachedBytes += file.size();
                    }
                }
                snapshots.add(new CacheStatus.SnapshotStatus(snapshot.key(), snapshot.kind(), snapshot.files().size(), snapshot.bytes(),
                        cachedFiles, cachedBytes, pinnedBy.getOrDefault(snapshot.key(), List.of()), snapshot.stagedMillis(), snapshot.lastUsedMillis()));
            }
            return new CacheStatus(settings.root().toString(), limits.quota(), limits.highWatermark(), limits.lowWatermark(), limits.policy(),
                    used, reserved, entries.size(), snapshots);
        });
    }

    /** What {@link #evict} removed. */
    public record EvictResult(String snapshotKey, int entries, long bytes, int kept) {}

    /**
     * Drops a snapshot from the cache: its entries that no pinned snapshot needs, and its record.
     * A pinned snapshot (mounted, being staged) is refused.
     */
    public EvictResult evict(DatasetRef ref) {
        long snapshotId = datasets.resolve(ref).snapshot().map(s -> s.snapshotId()).orElse(-1L);
        String key = SnapshotRecord.key(ref.dataset().toString(), snapshotId);
        return store.transact(txn -> {
            Admission.dropDeadHolds(txn);
            SnapshotRecord snapshot = txn.snapshot(key).orElseThrow(() -> GranaryException.notFound(
                    ref + " (snapshot " + snapshotId + ") is not in the cache", "`granary cache status` lists what is"));
            List<String> holders = txn.pins().stream().filter(p -> p.snapshotKey().equals(key)).map(Pin::what).toList();
            if (!holders.isEmpty()) {
                throw new GranaryException(GranaryException.Kind.CONFLICT, ref + " is pinned by " + String.join(", ", holders) + " and cannot be evicted",
                        "unmount it first (`granary umount TARGET`), or wait for the stage to end", null);
            }
            Set<String> keep = Admission.pinnedEntryIds(txn);
            txn.reservations().forEach(r -> keep.add(r.entryId()));
            Set<String> dropped = new HashSet<>();
            long bytes = 0;
            int kept = 0;
            for (SnapshotRecord.File file : snapshot.files()) {
                Optional<Entry> entry = txn.entry(file.entryId());
                if (entry.isEmpty()) {
                    continue;
                }
                if (keep.contains(file.entryId())) {
                    kept++;
                    continue;
                }
                txn.deleteEntry(file.entryId());
                dropped.add(file.entryId());
                bytes += entry.get().size();
            }
            txn.deleteSnapshot(key);
            txn.afterCommit(() -> dropped.forEach(entryFiles::delete));
            return new EvictResult(key, dropped.size(), bytes, kept);
        });
    }

    /** What {@link #verify} found. */
    public record VerifyResult(int checked, long bytes, List<String> damaged) {}

    /**
     * Rereads every entry and checks its size and checksum; a damaged or missing one is dropped
     * (its file deleted), so the next stage or mount of a snapshot that lists it fetches it again.
     */
    public VerifyResult verify(int parallel) {
        List<Entry> entries = store.transact(CacheStore.Txn::entries);
        ConcurrentLinkedQueue<String> damaged = new ConcurrentLinkedQueue<>();
        java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(Math.max(1, parallel));
        try {
            pool.submit(() -> entries.parallelStream().forEach(entry -> {
                if (!intact(entry)) {
                    damaged.add(entry.id());
                }
            })).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("verify was interrupted", "run it again");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdown();
        }
        List<String> dropped = List.copyOf(damaged);
        if (!dropped.isEmpty()) {
            store.transact(txn -> {
                dropped.forEach(txn::deleteEntry);
                txn.afterCommit(() -> dropped.forEach(entryFiles::delete));
                return null;
            });
        }
        return new VerifyResult(entries.size(), entries.stream().mapToLong(Entry::size).sum(), dropped);
    }

    private boolean intact(Entry entry) {
        try {
            Checksum.OfFile found = Checksum.ofFile(entryFiles.path(entry.id()), entry.checksumKind());
            return found.length() == entry.size() && found.hex().equals(entry.checksum());
        } catch (IOException e) {
            // missing or unreadable: dropped, and fetched again on next use
            return false;
        }
    }

    /** What {@link #gc} removed. */
    public record GcResult(int orphanFiles, int temporaries, int staleSnapshots, int deadHolds) {}

    /**
     * Removes what nothing accounts for: entry files without metadata (a stage killed between
     * its rename and its commit), temporary files of dead stagers, pins and reservations of dead
     * processes, and records of snapshots none of whose files is cached any more.
     */
    public GcResult gc() {
        int temporaries;
        try {
            temporaries = entryFiles.deleteAbandonedTemporaries();
        } catch (IOException e) {
            throw new GranaryException("cannot clean the partial copies under " + settings.root() + ": " + e.getMessage(), "check its permissions", e);
        }
        return store.transact(txn -> {
            int holdsBefore = txn.pins().size() + txn.reservations().size();
            Admission.dropDeadHolds(txn);
            int deadHolds = holdsBefore - txn.pins().size() - txn.reservations().size();
            Set<String> known = txn.entryIds();
            txn.reservations().forEach(r -> known.add(r.entryId()));
            List<String> orphans = new ArrayList<>();
            try {
                for (String id : entryFiles.idsOnDisk()) {
                    if (!known.contains(id)) {
                        orphans.add(id);
                    }
                }
            } catch (IOException e) {
                throw new GranaryException("cannot list the cache entries under " + settings.root() + ": " + e.getMessage(), "check its permissions", e);
            }
            Set<String> pinned = txn.pins().stream().map(Pin::snapshotKey).collect(Collectors.toSet());
            int stale = 0;
            for (SnapshotRecord snapshot : txn.snapshots()) {
                boolean anyCached = snapshot.files().stream().anyMatch(f -> known.contains(f.entryId()));
                if (!anyCached && !pinned.contains(snapshot.key())) {
                    txn.deleteSnapshot(snapshot.key());
                    stale++;
                }
            }
            txn.afterCommit(() -> orphans.forEach(entryFiles::delete));
            return new GcResult(orphans.size(), temporaries, stale, deadHolds);
        });
    }

    @Override
    public void close() {
        try {
            tiers.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot close the remote tiers", e);
        }
    }
}
