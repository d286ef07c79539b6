package io.granary.cache.stage;

import io.granary.cache.store.Admission;
import io.granary.cache.store.CacheStore;
import io.granary.cache.store.Checksum;
import io.granary.cache.store.Entry;
import io.granary.cache.store.EntryFiles;
import io.granary.cache.store.Owner;
import io.granary.cache.store.Pin;
import io.granary.cache.store.SnapshotRecord;
import io.granary.cache.tier.Tiers;
import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.common.Sizes;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the files of a snapshot that the cache lacks, in parallel, each verified while it is
 * copied (its recorded size; its SHA-256 where the shard manifest gives one; a CRC32C is
 * computed for later checks otherwise) and committed by an atomic rename. Committed files are
 * recorded in batches as they finish, so a stage that fails or is killed keeps what it copied,
 * and a rerun copies only the rest. While it runs, the snapshot is pinned and the space of its
 * missing files reserved.
 */
public final class Stager {

    private static final Logger LOG = LoggerFactory.getLogger(Stager.class);
    private static final int BUFFER_BYTES = 1 << 20;
    private static final long COMMIT_EVERY_MILLIS = 250;
    private static final int COMMIT_EVERY_FILES = 1000;
    private static final int ATTEMPTS = 3;
    private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[BUFFER_BYTES]);
    private static final java.nio.file.attribute.FileAttribute<Set<java.nio.file.attribute.PosixFilePermission>> READ_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r--r--r--"));
    private static final ThreadLocal<ByteBuffer> DIRECT_BUFFERS = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BUFFER_BYTES));

    private final CacheStore store;
    private final EntryFiles entryFiles;
    private final Tiers tiers;
    private final Admission.Limits limits;

    public Stager(CacheStore store, EntryFiles entryFiles, Tiers tiers, Admission.Limits limits) {
        this.store = store;
        this.entryFiles = entryFiles;
        this.tiers = tiers;
        this.limits = limits;
    }

    /**
     * Stages a snapshot. {@code keep}, when given, is a pin put in place as the stage finishes
     * (a mount's), so the snapshot is never unpinned in between.
     */
    public StageResult stage(SnapshotFiles snapshot, int parallel, ProgressSink progressSink, Optional<Pin> keep) {
        long started = System.nanoTime();
        Owner owner = Owner.thisProcess();
        Pin stagePin = new Pin("stage-" + owner.token(), snapshot.key(), "stage", "stage by pid " + owner.pid(), owner, System.currentTimeMillis());
        Map<String, Long> wanted = new LinkedHashMap<>();
        Map<String, SnapshotFiles.Remote> remoteById = new HashMap<>();
        Map<String, SnapshotFiles.Generated> generatedById = new HashMap<>();
        for (SnapshotFiles.Remote file : snapshot.remote()) {
            wanted.put(file.entryId(), file.size());
            remoteById.putIfAbsent(file.entryId(), file);
        }
        for (SnapshotFiles.Generated file : snapshot.generated()) {
            wanted.put(file.entryId(), (long) file.content().length);
            generatedById.putIfAbsent(file.entryId(), file);
        }
        int copied = 0;
        long bytesCopied = 0;
        int evicted = 0;
        long bytesEvicted = 0;
        boolean first = true;
        try {
            while (true) {
                boolean firstRound = first;
                Admission.Decision decision = store.transact(txn -> {
                    if (firstRound) {
                        txn.put(stagePin);
                        if (!txn.hasSnapshot(snapshot.key())) {
                            txn.put(snapshot.record(System.currentTimeMillis()));
                        }
                    }
                    Admission.Decision admitted = Admission.admit(txn, wanted, owner, limits, snapshot.dataset() + "@" + snapshot.snapshotId());
                    List<String> evictedIds = admitted.evicted().stream().map(Entry::id).toList();
                    txn.afterCommit(() -> evictedIds.forEach(entryFiles::delete));
                    return admitted;
                });
                first = false;
                evicted += decision.evicted().size();
                bytesEvicted += decision.evicted().stream().mapToLong(Entry::size).sum();
                if (!decision.evicted().isEmpty()) {
                    LOG.info("evicted {} entries ({}) to make room for {}", decision.evicted().size(),
                            Sizes.format(decision.evicted().stream().mapToLong(Entry::size).sum()), snapshot.key());
                }
                LOG.debug("{}: admitted in {} ms: {} files to copy, {} copied by others", snapshot.key(),
                        (System.nanoTime() - started) / 1_000_000, decision.toCopy().size(), decision.waitFor().size());
                if (!decision.toCopy().isEmpty()) {
                    deleteAbandonedTemporaries();
                    checkFreeSpace(decision.reservedBytes(), snapshot);
                    long copyStarted = System.nanoTime();
                    copyAll(decision.toCopy(), remoteById, generatedById, owner, parallel, progressSink, snapshot);
                    LOG.debug("{}: copied {} files in {} ms", snapshot.key(), decision.toCopy().size(), (System.nanoTime() - copyStarted) / 1_000_000);
                    copied += decision.toCopy().size();
                    bytesCopied += decision.reservedBytes();
                }
                if (decision.waitFor().isEmpty()) {
                    break;
                }
                // another stager copies these; poll until it commits them, or takes over if it dies
                Thread.sleep(100);
            }
            int filesCopied = copied;
            store.transact(txn -> {
                long now = System.currentTimeMillis();
                SnapshotRecord record = txn.snapshot(snapshot.key()).orElse(snapshot.record(now));
                txn.put(record.staged(now));
                for (String id : wanted.keySet()) {
                    if (!txn.hasEntry(id)) {
                        throw new GranaryException(GranaryException.Kind.CONFLICT, "a file of " + snapshot.key()
                                + " was dropped from the cache while it was being staged (by `granary cache verify` in another process)",
                                "run the stage again: it fetches the file anew", null);
                    }
                }
                keep.ifPresent(txn::put);
                txn.deletePin(stagePin.id());
                return null;
            });
            int files = snapshot.fileCount();
            return new StageResult(snapshot.key(), files, snapshot.bytes(), filesCopied, bytesCopied,
                    wanted.size() - filesCopied, evicted, bytesEvicted, Duration.ofNanos(System.nanoTime() - started));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            release(owner, wanted, stagePin);
            throw new GranaryException("staging " + snapshot.key() + " was interrupted", "run it again; what was copied is kept");
        } catch (RuntimeException e) {
            release(owner, wanted, stagePin);
            throw e;
        }
    }

    /** Partial copies of killed stages take disk space no reservation accounts for: drop them before copying more. */
    private void deleteAbandonedTemporaries() {
        try {
            entryFiles.deleteAbandonedTemporaries();
        } catch (IOException e) {
            LOG.warn("cannot clean the cache's temporary files: {}", e.getMessage());
        }
    }

    private void release(Owner owner, Map<String, Long> wanted, Pin stagePin) {
        try {
            store.transact(txn -> {
                Admission.release(txn, owner, wanted.keySet());
                txn.deletePin(stagePin.id());
                return null;
            });
        } catch (RuntimeException e) {
            LOG.warn("cannot release the reservations of a failed stage ({}); they lapse when this process ends", e.getMessage());
        }
    }

    private void checkFreeSpace(long need, SnapshotFiles snapshot) {
        try {
            long free = Files.getFileStore(entryFiles.root()).getUsableSpace();
            if (free < need) {
                throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "the cache disk under " + entryFiles.root() + " has "
                        + Sizes.format(free) + " free, and staging " + snapshot.key() + " needs " + Sizes.format(need) + " more",
                        "free space on that disk, or lower cache.quota to what the disk can hold", null);
            }
        } catch (IOException e) {
            LOG.debug("cannot read the free space under {}: {}", entryFiles.root(), e.getMessage());
        }
    }

    private void copyAll(List<String> ids, Map<String, SnapshotFiles.Remote> remoteById, Map<String, SnapshotFiles.Generated> generatedById,
                         Owner owner, int parallel, ProgressSink progressSink, SnapshotFiles snapshot) throws InterruptedException {
        long bytes = ids.stream().mapToLong(id -> remoteById.containsKey(id) ? remoteById.get(id).size() : generatedById.get(id).content().length).sum();
        AtomicInteger threadNumber = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallel, ids.size()), runnable -> {
            Thread thread = new Thread(runnable, "granary-stage-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        ExecutorCompletionService<Entry> completion = new ExecutorCompletionService<>(pool);
        List<Entry> finished = new ArrayList<>();
        try (Progress progress = progressSink.start(snapshot.key(), ids.size(), bytes)) {
            for (String id : ids) {
                SnapshotFiles.Remote remote = remoteById.get(id);
                completion.submit(() -> {
                    Entry entry = remote != null ? copyWithRetries(id, remote, owner) : writeGenerated(id, generatedById.get(id), owner);
                    progress.advance(1, entry.size());
                    return entry;
                });
            }
            long lastCommit = System.nanoTime();
            for (int done = 0; done < ids.size(); ) {
                Future<Entry> next = completion.poll(COMMIT_EVERY_MILLIS, TimeUnit.MILLISECONDS);
                if (next != null) {
                    done++;
                    try {
                        finished.add(next.get());
                    } catch (ExecutionException e) {
                        commit(finished, owner);
                        throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
                    }
                }
                if (finished.size() >= COMMIT_EVERY_FILES || (!finished.isEmpty() && System.nanoTime() - lastCommit > COMMIT_EVERY_MILLIS * 1_000_000)) {
                    commit(finished, owner);
                    lastCommit = System.nanoTime();
                }
            }
            commit(finished, owner);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    /** Records copied files as entries and drops their reservations, in one transaction. */
    private void commit(List<Entry> finished, Owner owner) {
        if (finished.isEmpty()) {
            return;
        }
        List<Entry> batch = List.copyOf(finished);
        finished.clear();
        store.transact(txn -> {
            for (Entry entry : batch) {
                txn.put(entry);
                txn.deleteReservation(entry.id());
            }
            return null;
        });
    }

    private Entry copyWithRetries(String id, SnapshotFiles.Remote file, Owner owner) {
        URI source = tiers.locate(file.location());
        for (int attempt = 1; ; attempt++) {
            try {
                return copy(id, file, source, owner);
            } catch (IOException e) {
                if (isDiskFull(e) || isCacheFile(e)) {
                    throw writeFailure(e, file.name(), file.size());
                }
                if (attempt >= ATTEMPTS || e instanceof java.io.FileNotFoundException || e instanceof java.nio.file.NoSuchFileException) {
                    throw TierErrors.unreadable(source, e);
                }
                LOG.warn("copying {} failed (attempt {} of {}): {}; retrying", source, attempt, ATTEMPTS, e.getMessage());
                sleepQuietly(200L * attempt);
            } catch (DamagedCopy e) {
                if (attempt >= 2) {
                    throw new GranaryException("the remote file " + source + " does not match the catalog's record of it: " + e.getMessage(),
                            "the file was changed or damaged after it was written; restore it, or rewrite the dataset", null);
                }
                LOG.warn("copy of {} did not verify ({}); retrying once", source, e.getMessage());
            }
        }
    }

    private Entry copy(String id, SnapshotFiles.Remote file, URI source, Owner owner) throws IOException {
        Optional<Entry> adopted = adoptCommittedCopy(id, file, source);
        if (adopted.isPresent()) {
            return adopted.get();
        }
        Path temporary = entryFiles.temporary(id, owner);
        Checksum checksum = Checksum.of(file.sha256() != null);
        boolean committed = false;
        try {
            long length = "file".equals(source.getScheme()) && Files.isRegularFile(Path.of(source))
                    ? copyLocal(Path.of(source), temporary, checksum)
                    : copyStream(source, temporary, checksum);
            if (length != file.size()) {
                throw new DamagedCopy("it is " + length + " bytes, the catalog records " + file.size());
            }
            String value = checksum.hex();
            if (file.sha256() != null && !value.equals(file.sha256())) {
                throw new DamagedCopy("its SHA-256 is " + value + ", the shard manifest records " + file.sha256());
            }
            commitFile(temporary, id);
            committed = true;
            long now = System.currentTimeMillis();
            return new Entry(id, length, checksum.kind(), value, source.toString(), now, now, 0);
        } finally {
            if (!committed) {
                Files.deleteIfExists(temporary);
            }
        }
    }

    /**
     * A local file is copied inside the kernel (as cp does), then checksummed from the copy, which
     * is in the page cache by then: what is verified is what landed, and no byte passes through
     * the Java heap.
     */
    private static long copyLocal(Path source, Path temporary, Checksum checksum) throws IOException {
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(temporary, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ),
                     READ_ONLY)) {
            long size = in.size();
            if (size <= BUFFER_BYTES) {
                return copySmall(in, out, checksum);
            }
            long position = 0;
            while (position < size) {
                long moved = in.transferTo(position, size - position, out);
                if (moved <= 0) {
                    break;
                }
                position += moved;
            }
            ByteBuffer buffer = DIRECT_BUFFERS.get();
            long length = 0;
            while (true) {
                buffer.clear();
                int read = out.read(buffer, length);
                if (read < 0) {
                    break;
                }
                buffer.flip();
                checksum.update(buffer);
                length += read;
            }
            return length;
        }
    }

    /**
     * A file that fits the buffer is read once, checksummed and written from memory: two system
     * calls where the in-kernel copy and the reread of the copy take four.
     */
    private static long copySmall(FileChannel in, FileChannel out, Checksum checksum) throws IOException {
        ByteBuffer buffer = DIRECT_BUFFERS.get();
        buffer.clear();
        while (buffer.hasRemaining()) {
            if (in.read(buffer) < 0) {
                break;
            }
        }
        buffer.flip();
        long length = buffer.remaining();
        ByteBuffer hashed = buffer.duplicate();
        checksum.update(hashed);
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
        return length;
    }

    private long copyStream(URI source, Path temporary, Checksum checksum) throws IOException {
        byte[] buffer = BUFFERS.get();
        long length = 0;
        try (InputStream in = tiers.tierFor(source).open(source);
             java.io.OutputStream out = java.nio.channels.Channels.newOutputStream(FileChannel.open(temporary,
                     Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), READ_ONLY))) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                if (read == 0) {
                    continue;
                }
                checksum.update(buffer, 0, read);
                out.write(buffer, 0, read);
                length += read;
            }
        }
        return length;
    }

    /**
     * A stage killed between renaming a verified copy into place and recording it leaves the
     * whole file under its entry name; checking it locally is cheaper than fetching it again.
     */
    private Optional<Entry> adoptCommittedCopy(String id, SnapshotFiles.Remote file, URI source) throws IOException {
        Path committed = entryFiles.path(id);
        java.nio.file.attribute.BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(committed, java.nio.file.attribute.BasicFileAttributes.class);
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        }
        if (!attributes.isRegularFile() || attributes.size() != file.size()) {
            return Optional.empty();
        }
        boolean sha = file.sha256() != null;
        Checksum.OfFile found = Checksum.ofFile(committed, sha ? Checksum.SHA256 : Checksum.CRC32C);
        if (found.length() != file.size() || sha && !found.hex().equals(file.sha256())) {
            return Optional.empty();
        }
        long now = System.currentTimeMillis();
        return Optional.of(new Entry(id, file.size(), sha ? Checksum.SHA256 : Checksum.CRC32C, found.hex(), source.toString(), now, now, 0));
    }

    private Entry writeGenerated(String id, SnapshotFiles.Generated file, Owner owner) throws IOException {
        Path temporary = entryFiles.temporary(id, owner);
        try {
            try (FileChannel out = FileChannel.open(temporary, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), READ_ONLY)) {
                ByteBuffer content = ByteBuffer.wrap(file.content());
                while (content.hasRemaining()) {
                    out.write(content);
                }
            }
            commitFile(temporary, id);
        } catch (IOException e) {
            Files.deleteIfExists(temporary);
            throw writeFailure(e, file.name(), file.content().length);
        } catch (RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        long now = System.currentTimeMillis();
        return new Entry(id, file.content().length, Checksum.SHA256, id.substring("sha256-".length()), "generated:" + file.name(), now, now, 0);
    }

    /** Renames a verified copy (created read-only: mount views link to it) into place. */
    private void commitFile(Path temporary, String id) throws IOException {
        Path target = entryFiles.pathCreatingParent(id);
        try {
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new GranaryException("cannot rename into " + target + " atomically", "keep cache.root on a local POSIX file system", e);
        }
    }

    private GranaryException writeFailure(IOException e, String name, long size) {
        if (isDiskFull(e)) {
            return new GranaryException(GranaryException.Kind.UNAVAILABLE, "the cache disk under " + entryFiles.root()
                    + " is full: cannot write " + name + " (" + Sizes.format(size) + ")",
                    "free space on that disk, or lower cache.quota to what it can hold; what was staged is kept", e);
        }
        return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot write " + name + " into the cache under " + entryFiles.root()
                + ": " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()),
                "check that cache.root is a writable local directory; what was staged is kept", e);
    }

    /** Whether an I/O error is about a file of the cache (writing) rather than of the remote (reading). */
    private boolean isCacheFile(IOException e) {
        return e instanceof FileSystemException fs && fs.getFile() != null && Path.of(fs.getFile()).startsWith(entryFiles.root());
    }

    private static boolean isDiskFull(IOException e) {
        String message = e.getMessage();
        return message != null && (message.contains("No space left on device") || message.contains("Disk quota exceeded"))
                || e instanceof FileSystemException fs && fs.getReason() != null && fs.getReason().contains("No space left");
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A copy whose size or hash is not what the catalog recorded. */
    private static final class DamagedCopy extends RuntimeException {
        DamagedCopy(String message) {
            super(message, null, false, false);
        }
    }
}
