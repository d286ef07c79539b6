package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.common.IoFailures;
import io.granary.common.Progress;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Packs a source tree into WebDataset shards with an index and a manifest. Two walks of the tree:
 * the first checks every name and counts (so a bad file fails before anything is written, and the
 * progress display has a total), the second streams samples into shard plans that writer threads
 * turn into shards. Finished shards are recorded as they complete, so a rerun after a kill
 * resumes; the manifest (and the dataset snapshot, with --dataset) comes last.
 */
public final class Packer {

    private static final Logger LOG = LoggerFactory.getLogger(Packer.class);

    /** Reads in flight while packing: small files on a cold disk are latency-bound, and the disk serves many at once. */
    private static final int READER_THREADS = 64;

    private final Datasets datasets;
    private final boolean showProgress;

    /** {@code datasets} may be null when no --dataset is given. */
    public Packer(Datasets datasets, boolean showProgress) {
        this.datasets = datasets;
        this.showProgress = showProgress;
    }

    /** What a pack did. */
    public record Result(Manifest manifest, int shardsWritten, int shardsKept, long samples, long files, long bytes,
                         long alreadyPacked, List<String> duplicates, List<String> unreadable, int hiddenFiles,
                         Duration elapsed, long snapshotId) {}

    private record Totals(long samples, long files, long bytes, long alreadyPacked, List<String> duplicates,
                          Set<String> duplicateKeys) {}

    public Result pack(PackOptions options) throws IOException {
        long started = System.nanoTime();
        Path out = options.out();
        Files.createDirectories(out);
        try (PackLock lock = PackLock.acquire(out)) {
            Manifest existing = Manifest.existsIn(out) ? Manifest.read(out) : null;
            checkTarget(options, existing);
            String prefix = existing != null ? existing.prefix() : options.prefix();
            Metadata metadata = options.metadata().map(Metadata::load).orElseGet(Metadata::none);
            Schema schema = indexSchema(options, existing, metadata);
            ShardSet packedSet = existing == null ? null : ShardSet.open(out);
            try {
                PackedSamples packed = packedSet == null ? PackedSamples.none() : new PackedSamples(packedSet.index());
                ContentHashes seen = options.dedup() ? new ContentHashes() : null;
                if (seen != null) {
                    claimPacked(packedSet, seen);
                }
                List<String> unreadable = Collections.synchronizedList(new ArrayList<>());
                SourceWalker.Rules rules = new SourceWalker.Rules(options.followSymlinks(), options.skipUnreadable(), Optional.of(out));
                List<SourceSample> shuffled = options.shuffle() ? new ArrayList<>() : null;
                SourceWalker counting = new SourceWalker(options.source(), rules, unreadable::add);
                long walkStart = System.nanoTime();
                Totals totals = count(counting, packed, shuffled, seen, options, unreadable);
                LOG.debug("first walk: {} new samples, {} files, {} bytes in {} ms", totals.samples(), totals.files(), totals.bytes(),
                        (System.nanoTime() - walkStart) / 1_000_000);
                if (totals.samples() == 0 && existing == null) {
                    throw new GranaryException("no files to pack in " + options.source()
                            + (counting.hiddenFiles() > 0 ? " (only " + counting.hiddenFiles() + " hidden files)" : ""),
                            "give the directory that holds the media files");
                }
                int firstShard = existing == null ? 0 : existing.shards().size();
                Staging staging = Staging.open(out, options, firstShard);
                if (staging.resumed() && staging.run().firstShard() < firstShard) {
                    // the interrupted run got as far as its manifest: its shards are listed, only its records were left
                    staging.clear();
                    staging = Staging.open(out, options, firstShard);
                }
                Iterator<SourceSample> samples;
                if (shuffled != null) {
                    Collections.shuffle(shuffled, new Random(options.seed()));
                    samples = shuffled.iterator();
                } else {
                    SourceWalker again = new SourceWalker(options.source(), rules, skippedTwice -> { });
                    samples = new Unpacked(again, packed, totals.duplicateKeys());
                }
                ShardPlanner planner = new ShardPlanner(samples, options.shardBytes(), options.samplesPerShard(), staging.run().firstShard());
                Set<String> listed = existing == null ? Set.of()
                        : Set.copyOf(existing.shards().stream().map(Manifest.Shard::name).toList());
                Shards shards;
                try (Progress progress = showProgress ? Progress.start("packing", "files", totals.files()) : Progress.silent("packing", "files")) {
                    shards = writeShards(planner, options, prefix, schema, metadata, staging, progress, listed);
                }
                List<Staging.ShardRecord> records = shards.records();
                LOG.debug("shards written after {} ms", (System.nanoTime() - started) / 1_000_000);
                long snapshotId = -1;
                Manifest manifest = existing;
                if (!records.isEmpty() || existing == null) {
                    manifest = manifest(options, existing, prefix, schema, records);
                    if (options.dataset().isPresent()) {
                        snapshotId = new ShardDatasets(datasets).register(options.dataset().get(), out, schema,
                                records.stream().map(Staging.ShardRecord::shard).toList(), staging.run().runId(), options.source());
                    }
                    manifest.write(out);
                }
                staging.clear();
                List<String> skipped = new ArrayList<>(unreadable);
                records.forEach(r -> skipped.addAll(r.unreadable()));
                long samplesWritten = records.stream().mapToLong(r -> r.shard().samples()).sum();
                long filesWritten = records.stream().mapToLong(r -> r.shard().members()).sum();
                long bytesWritten = records.stream().mapToLong(r -> r.shard().bytes()).sum();
                return new Result(manifest, records.size() - shards.kept(), shards.kept(), samplesWritten, filesWritten, bytesWritten,
                        totals.alreadyPacked(), totals.duplicates(), skipped, counting.hiddenFiles(),
                        Duration.ofNanos(System.nanoTime() - started), snapshotId);
            } finally {
                if (packedSet != null) {
                    packedSet.close();
                }
            }
        }
    }

    /** The output directory must be empty of other shard sets, and bound to the same dataset as before. */
    private void checkTarget(PackOptions options, Manifest existing) {
        String wanted = options.dataset().map(DatasetName::toString).orElse(null);
        if (existing != null) {
            if (existing.dataset() != null && !existing.dataset().equals(wanted)) {
                throw new GranaryException(options.out() + " holds the shards of dataset " + existing.dataset(),
                        "add to it with --dataset " + existing.dataset() + ", or pack into another directory");
            }
            if (existing.dataset() == null && wanted != null) {
                throw new GranaryException(options.out() + " holds shards that are not registered as a dataset",
                        "pack into a new directory to create dataset " + wanted);
            }
            if (!options.prefix().equals(PackOptions.DEFAULT_PREFIX) && !options.prefix().equals(existing.prefix())) {
                throw new GranaryException(options.out() + " holds shards named " + existing.prefix() + "-NNNNNN.tar, not " + options.prefix(),
                        "leave out --prefix to add shards with the existing prefix");
            }
        } else if (wanted != null) {
            if (datasets == null) {
                throw new IllegalStateException("--dataset needs the catalog");
            }
            if (datasets.exists(options.dataset().get())) {
                String location = datasets.load(options.dataset().get()).properties().get(ShardDatasets.LOCATION);
                boolean resuming = options.out().toString().equals(location) && Files.isDirectory(options.out().resolve(Staging.DIRECTORY));
                if (resuming) {
                    return;
                }
                throw new GranaryException("dataset " + wanted + " already exists"
                        + (location != null ? " with its shards in " + location : " and is not a shard set"),
                        location != null ? "add to it with --out " + location : "choose another dataset name");
            }
        }
        if (existing == null && !Files.isDirectory(options.out().resolve(Staging.DIRECTORY)) && hasShards(options.out())) {
            throw new GranaryException(options.out() + " already holds .tar files but no " + Manifest.FILE_NAME,
                    "pack into an empty directory");
        }
    }

    private static boolean hasShards(Path out) {
        try (var files = Files.list(out)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".tar"));
        } catch (IOException e) {
            return false;
        }
    }

    private Schema indexSchema(PackOptions options, Manifest existing, Metadata metadata) {
        if (options.dataset().isPresent() && existing != null) {
            return new ShardDatasets(datasets).evolve(options.dataset().get(), metadata.columns());
        }
        Schema current = existing == null ? IndexFiles.BASE : existing.schema();
        return IndexFiles.withMetadata(current, metadata.columns());
    }

    /**
     * The first walk: checks every name, counts what is new, collects the samples when shuffling,
     * and with --dedup hashes every new sample, so the first of identical samples in walk order is
     * the one packed, the same way on every rerun.
     */
    private static Totals count(SourceWalker walker, PackedSamples packed, List<SourceSample> collect, ContentHashes seen,
                                PackOptions options, List<String> unreadable) {
        long samples = 0;
        long files = 0;
        long bytes = 0;
        long alreadyPacked = 0;
        List<String> duplicates = new ArrayList<>();
        Set<String> duplicateKeys = new java.util.HashSet<>();
        while (walker.hasNext()) {
            SourceSample sample = walker.next();
            if (packed.isPacked(sample)) {
                alreadyPacked++;
                continue;
            }
            if (seen != null) {
                String hash = SampleHashing.hash(sample, options.followSymlinks(), options.skipUnreadable(), unreadable);
                if (hash == null) {
                    continue;
                }
                String earlier = seen.claim(hash, sample.key());
                if (earlier != null) {
                    duplicates.add(sample.key() + " = " + earlier);
                    duplicateKeys.add(sample.key());
                    continue;
                }
            }
            samples++;
            files += sample.members().size();
            bytes += sample.bytes();
            if (collect != null) {
                collect.add(sample);
            }
        }
        return new Totals(samples, files, bytes, alreadyPacked, duplicates, duplicateKeys);
    }

    /** This run's shard records in order, and how many of them an interrupted run had already finished. */
    private record Shards(List<Staging.ShardRecord> records, int kept) {}

    private Shards writeShards(ShardPlanner planner, PackOptions options, String prefix, Schema schema, Metadata metadata,
                               Staging staging, Progress progress, Set<String> listed) throws IOException {
        Path out = options.out();
        AtomicInteger threadNumber = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(options.threads(), runnable -> {
            Thread thread = new Thread(runnable, "granary-pack-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        ExecutorService readers = Executors.newFixedThreadPool(READER_THREADS, runnable -> {
            Thread thread = new Thread(runnable, "granary-pack-read-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        ThreadLocal<ShardWriter> writers = ThreadLocal.withInitial(() ->
                new ShardWriter(out, prefix, options.followSymlinks(), options.skipUnreadable(), options.dedup(), progress, readers));
        Semaphore inFlight = new Semaphore(options.threads() + 1);
        List<Future<Staging.ShardRecord>> pending = new ArrayList<>();
        List<Staging.ShardRecord> records = new ArrayList<>();
        Set<Integer> planned = new TreeSet<>();
        int kept = 0;
        try {
            while (planner.hasNext()) {
                ShardPlan plan = planner.next();
                planned.add(plan.number());
                Optional<Staging.ShardRecord> done = staging.finished(out, plan.number(), plan.fingerprint());
                if (done.isPresent()) {
                    records.add(done.get());
                    kept++;
                    progress.advance(plan.files(), plan.bytes());
                    continue;
                }
                acquire(inFlight, pending);
                pending.add(pool.submit(() -> {
                    try {
                        return writeShard(writers.get(), plan, out, schema, metadata, staging);
                    } finally {
                        inFlight.release();
                    }
                }));
            }
            for (Future<Staging.ShardRecord> future : pending) {
                records.add(await(future));
            }
        } catch (RuntimeException | IOException e) {
            pending.forEach(future -> future.cancel(true));
            pool.shutdownNow();
            // the shards under way stop and delete their partial files: only then is the failure told
            try {
                if (!pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    LOG.warn("shard writers still running 30 s after packing failed; a rerun removes their partial files");
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            throw e;
        } finally {
            pool.shutdown();
            readers.shutdownNow();
        }
        removeStale(staging, planned, listed, out);
        records.sort(Comparator.comparingInt(Staging.ShardRecord::number));
        return new Shards(records, kept);
    }

    private static Staging.ShardRecord writeShard(ShardWriter writer, ShardPlan plan, Path out, Schema schema,
                                                  Metadata metadata, Staging staging) throws IOException {
        try {
            ShardWriter.Written written = writer.write(plan);
            IndexFiles.write(out.resolve(written.shard().index()), schema, written.rows(), metadata.byKey());
            Staging.ShardRecord record = new Staging.ShardRecord(plan.number(), plan.fingerprint(), written.shard(), written.unreadable());
            staging.record(record);
            return record;
        } catch (IOException | RuntimeException e) {
            if (e instanceof GranaryException granary) {
                throw granary;
            }
            IOException io = e instanceof IOException direct ? direct : IoFailures.rootIo(e);
            if (io == null) {
                throw (RuntimeException) e;
            }
            String reason = io.getMessage() == null ? io.getClass().getSimpleName() : io.getMessage();
            String shard = ShardWriter.shardName(writer.prefix(), plan.number());
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot write shard " + shard + " in " + out + ": " + reason,
                    (reason.contains("No space left") ? "free space at " + out : "check that " + out + " is writable")
                            + ", then run the same command again: the shards finished so far are kept", e);
        }
    }

    /** Waits for a free slot, failing fast if a shard already failed. */
    private static void acquire(Semaphore inFlight, List<Future<Staging.ShardRecord>> pending) throws IOException {
        while (true) {
            for (Future<Staging.ShardRecord> future : pending) {
                if (future.isDone()) {
                    await(future);
                }
            }
            try {
                if (inFlight.tryAcquire(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GranaryException("packing was interrupted", "rerun the same command to resume");
            }
        }
    }

    private static Staging.ShardRecord await(Future<Staging.ShardRecord> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("packing was interrupted", "rerun the same command to resume");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(cause);
        }
    }

    /**
     * Shards an earlier attempt wrote beyond what this plan has (the tree shrank meanwhile) are
     * deleted, and so are the partial shards a killed attempt left.
     */
    private static void removeStale(Staging staging, Set<Integer> planned, Set<String> listed, Path out) throws IOException {
        for (Staging.ShardRecord record : staging.records()) {
            if (!planned.contains(record.number()) && !listed.contains(record.shard().name())) {
                Files.deleteIfExists(out.resolve(record.shard().name()));
                Files.deleteIfExists(out.resolve(record.shard().index()));
            }
        }
        try (var partials = Files.newDirectoryStream(out, "*.tar.partial")) {
            for (Path partial : partials) {
                Files.deleteIfExists(partial);
            }
        }
    }

    private static Manifest manifest(PackOptions options, Manifest existing, String prefix, Schema schema,
                                     List<Staging.ShardRecord> records) {
        List<Manifest.Shard> shards = new ArrayList<>(existing == null ? List.of() : existing.shards());
        records.forEach(record -> shards.add(record.shard()));
        long samples = shards.stream().mapToLong(Manifest.Shard::samples).sum();
        long members = shards.stream().mapToLong(Manifest.Shard::members).sum();
        long bytes = shards.stream().mapToLong(Manifest.Shard::bytes).sum();
        Manifest.Settings settings = new Manifest.Settings(options.shardBytes(), options.samplesPerShard(), options.shuffle(),
                options.seed(), options.dedup(), options.followSymlinks(),
                options.metadata().map(p -> p.toAbsolutePath().toString()).orElse(null));
        return new Manifest(Manifest.FORMAT, Manifest.FORMAT_VERSION, prefix, options.source().toString(),
                options.dataset().map(DatasetName::toString).orElse(null), settings, Manifest.schemaJson(schema), shards,
                samples, members, bytes, Instant.now().toString());
    }

    /** With --dedup: the content of every sample already packed, hashing members packed without it. */
    private static void claimPacked(ShardSet set, ContentHashes seen) {
        if (set == null) {
            return;
        }
        PackIndex index = set.index();
        int rehashed = 0;
        for (String key : index.keys()) {
            List<IndexRow> rows = index.sample(key);
            List<String> extensions = rows.stream().map(IndexRow::extension).toList();
            List<String> hashes = rows.stream().map(IndexRow::sha256).toList();
            if (hashes.contains(null)) {
                hashes = set.read(rows).members().stream().map(m -> sha256(m.data())).toList();
                rehashed++;
            }
            seen.claim(ContentHashes.sampleHash(extensions, hashes), key);
        }
        if (rehashed > 0) {
            LOG.info("hashed {} samples packed before without --dedup, to compare with the new ones", rehashed);
        }
    }

    private static String sha256(byte[] data) {
        return HexFormat.of().formatHex(ShardPlan.sha256().digest(data));
    }

    /** The second walk, without the samples packed before and the duplicates the first walk found. */
    private static final class Unpacked implements Iterator<SourceSample> {
        private final Iterator<SourceSample> samples;
        private final PackedSamples packed;
        private final Set<String> duplicateKeys;
        private SourceSample next;

        Unpacked(Iterator<SourceSample> samples, PackedSamples packed, Set<String> duplicateKeys) {
            this.samples = samples;
            this.packed = packed;
            this.duplicateKeys = duplicateKeys;
        }

        @Override
        public boolean hasNext() {
            while (next == null && samples.hasNext()) {
                SourceSample sample = samples.next();
                if (!duplicateKeys.contains(sample.key()) && !packed.isPacked(sample)) {
                    next = sample;
                }
            }
            return next != null;
        }

        @Override
        public SourceSample next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            SourceSample sample = next;
            next = null;
            return sample;
        }
    }
}
