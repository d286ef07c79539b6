package io.granary.feature.online;

import io.granary.common.GranaryException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.FlushOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.PlainTableConfig;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online store in RocksDB: one column family per feature view ({@code view:NAME}), key the
 * entity key bytes, value an encoded {@link OnlineRow}. One process writes (materialization opens
 * it as the primary); servers open it as secondaries, which take no lock and follow the primary's
 * writes when they {@link #catchUp}, so materialization runs while they serve.
 *
 * <p>The tables are RocksDB's plain tables, its format for stores served from memory: each file
 * is mapped into memory and holds a hash index from key to row, so a lookup is a hash probe and
 * a key comparison, with no block to find, copy or cache (half the time of block-based tables
 * tuned for point reads, measured on the 1M-entity benchmark). The operating system's page cache
 * holds the store once for every process on the machine; give a serving machine the memory for
 * its online store, as one would for Redis. The store is scanned only to check it (`granary
 * feature verify-online`): a hashed table has no key order but its files'.
 */
public final class RocksDbOnlineStore implements OnlineStore {

    static {
        RocksDB.loadLibrary();
    }

    private static final Logger LOG = LoggerFactory.getLogger(RocksDbOnlineStore.class);
    private static final String STATE_FAMILY = "granary:state";
    private static final String VIEW_PREFIX = "view:";

    private final Path path;
    private final boolean writer;
    private final Path secondaryPath;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions familyOptions;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, ColumnFamilyHandle> families = new HashMap<>();
    private RocksDB db;
    private long familiesCheckedAt;
    private long primaryFingerprint;

    /** Requests of at least twice this many keys are split across the cores. */
    private static final int KEYS_PER_PARALLEL_PART = 64;
    /** Threads that take a share of large reads, beside the caller's: one fewer than the cores, shared by all stores. */
    private static final int READ_HELPERS = Runtime.getRuntime().availableProcessors() - 1;
    private static final ExecutorService READ_HELPER_POOL = READ_HELPERS < 1 ? null : Executors.newFixedThreadPool(READ_HELPERS, runnable -> {
        Thread thread = new Thread(runnable, "granary-online-read");
        thread.setDaemon(true);
        return thread;
    });

    /** Less free space than this where a write failed: the disk is taken to be full. */
    private static final long FULL_DISK_BYTES = 64L << 20;

    /** Keys are hashed on up to this many leading bytes (longer keys sharing them are told apart by a small sorted index). */
    private static final int KEY_PREFIX_BYTES = 24;

    private RocksDbOnlineStore(Path path, boolean writer) {
        this.path = path;
        this.writer = writer;
        this.secondaryPath = writer ? null : path.resolveSibling(path.getFileName() + "-readers").resolve(UUID.randomUUID().toString());
        // Plain tables are read through memory maps only, and every table is opened up front (secondaries need it).
        this.dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setMaxOpenFiles(-1).setKeepLogFileNum(3).setAllowMmapReads(true).setAtomicFlush(true);
        this.familyOptions = new ColumnFamilyOptions()
                .setCompressionType(CompressionType.NO_COMPRESSION)
                .useCappedPrefixExtractor(KEY_PREFIX_BYTES)
                .setTableFormatConfig(new PlainTableConfig()
                        .setKeySize(PlainTableConfig.VARIABLE_LENGTH)
                        .setBloomBitsPerKey(10)
                        .setHashTableRatio(0.75)
                        .setStoreIndexInFile(true));
    }

    /** Opens (creating if needed) the store for writing; fails if another process writes to it. */
    public static RocksDbOnlineStore openWriter(Path path) {
        RocksDbOnlineStore store = new RocksDbOnlineStore(path, true);
        store.open();
        return store;
    }

    /** Opens the store for reading alongside a writer in another process; an absent store reads empty until it appears. */
    public static RocksDbOnlineStore openReader(Path path) {
        RocksDbOnlineStore store = new RocksDbOnlineStore(path, false);
        store.open();
        return store;
    }

    private void open() {
        try {
            Files.createDirectories(path.getParent());
            List<String> existing = existingFamilies();
            if (!writer && existing.isEmpty()) {
                return; // nothing materialized yet
            }
            refuseOlderFormat();
            List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
            descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions));
            Set<String> names = new HashSet<>(existing);
            if (writer) {
                names.add(STATE_FAMILY);
            }
            for (String name : names) {
                if (!name.equals("default")) {
                    descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), familyOptions));
                }
            }
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            if (writer) {
                db = RocksDB.open(dbOptions, path.toString(), descriptors, handles);
            } else {
                Files.createDirectories(secondaryPath);
                db = RocksDB.openAsSecondary(dbOptions, path.toString(), secondaryPath.toString(), descriptors, handles);
            }
            for (int i = 0; i < descriptors.size(); i++) {
                families.put(new String(descriptors.get(i).getName(), StandardCharsets.UTF_8), handles.get(i));
            }
        } catch (RocksDBException e) {
            if (String.valueOf(e.getMessage()).contains("Bad table magic number")) {
                throw olderFormat(e);
            }
            if (writer && String.valueOf(e.getMessage()).contains("lock")) {
                throw new GranaryException(GranaryException.Kind.CONFLICT, "the online store " + path + " is being written by another process",
                        "wait for the other materialization to finish (servers do not block writers)", e);
            }
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot open the online store " + path + ": " + e.getMessage(),
                    "check online_store.path and its permissions", e);
        } catch (java.io.IOException e) {
            throw new GranaryException("cannot create " + path + ": " + e.getMessage(), "check online_store.path", e);
        }
    }

    /**
     * Refuses a store written before it held plain tables: a writer would fail to open its
     * tables, and a secondary would open without them and read nothing. The options file
     * RocksDB keeps of the last open tells the table format.
     */
    private void refuseOlderFormat() throws java.io.IOException {
        if (!Files.isDirectory(path)) {
            return;
        }
        Path newest = null;
        long newestNumber = -1;
        try (Stream<Path> files = Files.list(path)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.matches("OPTIONS-\\d+") && Long.parseLong(name.substring(8)) > newestNumber) {
                    newestNumber = Long.parseLong(name.substring(8));
                    newest = file;
                }
            }
        }
        if (newest != null && Files.readString(newest).contains("[TableOptions/BlockBasedTable")) {
            throw olderFormat(null);
        }
    }

    private GranaryException olderFormat(Exception cause) {
        return new GranaryException(GranaryException.Kind.CONFLICT,
                "the online store " + path + " was written in an older table format (before Granary stored plain tables)",
                "move or delete " + path + " and run `granary feature materialize` again: the store is rebuilt from the datasets", cause);
    }

    private List<String> existingFamilies() throws RocksDBException {
        if (!Files.exists(path.resolve("CURRENT"))) {
            return List.of();
        }
        try (Options options = new Options()) {
            List<String> names = new ArrayList<>();
            for (byte[] name : RocksDB.listColumnFamilies(options, path.toString())) {
                names.add(new String(name, StandardCharsets.UTF_8));
            }
            return names;
        }
    }

    /**
     * For a reader: takes in what the writer has written since, and reopens if the writer added
     * views (column families are fixed when a secondary opens). Safe while reads are running.
     */
    @Override
    public void catchUp() {
        if (writer) {
            return;
        }
        try {
            // Listing column families reads the MANIFEST: do it once a second, not on every catch-up.
            long now = System.nanoTime();
            if (db == null || now - familiesCheckedAt > 1_000_000_000L) {
                familiesCheckedAt = now;
                Set<String> known = new HashSet<>(families.keySet());
                Set<String> existing = new HashSet<>(existingFamilies());
                existing.add("default");
                if (db == null || !known.containsAll(existing)) {
                    reopen();
                    return;
                }
            }
            // Catching up rereads the primary's files: skip it while they are unchanged (most of the time).
            long fingerprint = primaryFingerprint();
            if (fingerprint == primaryFingerprint) {
                return;
            }
            lock.readLock().lock();
            try {
                if (db != null) {
                    db.tryCatchUpWithPrimary();
                    primaryFingerprint = fingerprint;
                }
            } finally {
                lock.readLock().unlock();
            }
        } catch (RocksDBException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot follow the online store " + path + ": " + e.getMessage(),
                    "check the store's directory", e);
        }
    }

    /** Sizes and times of the files a primary's writes change: its write-ahead logs, MANIFEST and CURRENT. */
    private long primaryFingerprint() {
        long fingerprint = 17;
        try (Stream<Path> files = Files.list(path)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(".log") || name.startsWith("MANIFEST-") || name.equals("CURRENT")) {
                    var attributes = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
                    fingerprint = 31 * fingerprint + name.hashCode();
                    fingerprint = 31 * fingerprint + attributes.size();
                    fingerprint = 31 * fingerprint + attributes.lastModifiedTime().toMillis();
                }
            }
        } catch (java.io.IOException e) {
            return System.nanoTime(); // cannot tell: catch up
        }
        return fingerprint;
    }

    private void reopen() {
        lock.writeLock().lock();
        try {
            closeHandles();
            open();
            primaryFingerprint = primaryFingerprint();
        } finally {
            lock.writeLock().unlock();
        }
    }

    private ColumnFamilyHandle family(String view, boolean create) throws RocksDBException {
        String name = VIEW_PREFIX + view;
        ColumnFamilyHandle handle = families.get(name);
        if (handle == null && create) {
            handle = db.createColumnFamily(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), familyOptions));
            families.put(name, handle);
        }
        return handle;
    }

    @Override
    public Map<String, List<Optional<EncodedRow>>> read(Map<String, List<byte[]>> keysByView) {
        lock.readLock().lock();
        try {
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            List<byte[]> keys = new ArrayList<>();
            for (Map.Entry<String, List<byte[]>> view : keysByView.entrySet()) {
                ColumnFamilyHandle handle = db == null ? null : family(view.getKey(), false);
                if (handle != null) {
                    for (byte[] key : view.getValue()) {
                        handles.add(handle);
                        keys.add(key);
                    }
                }
            }
            List<byte[]> values = multiGet(handles, keys);
            Map<String, List<Optional<EncodedRow>>> rows = new LinkedHashMap<>();
            int next = 0;
            for (Map.Entry<String, List<byte[]>> view : keysByView.entrySet()) {
                boolean present = db != null && family(view.getKey(), false) != null;
                List<Optional<EncodedRow>> viewRows = new ArrayList<>(view.getValue().size());
                for (int i = 0; i < view.getValue().size(); i++) {
                    byte[] value = present ? values.get(next++) : null;
                    viewRows.add(value == null ? Optional.empty() : Optional.of(new EncodedRow(value)));
                }
                rows.put(view.getKey(), viewRows);
            }
            return rows;
        } catch (RocksDBException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot read the online store " + path + ": " + e.getMessage(),
                    "check that " + path + " is readable; rematerialize into a fresh path if it is damaged", e);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void forEachKey(String view, java.util.function.Consumer<byte[]> action) {
        lock.readLock().lock();
        try {
            ColumnFamilyHandle handle = db == null ? null : family(view, false);
            if (handle == null) {
                return;
            }
            // a plain table is scanned in file order, without its hash index: from the first key on
            try (ReadOptions options = new ReadOptions().setTotalOrderSeek(true); RocksIterator keys = db.newIterator(handle, options)) {
                for (keys.seekToFirst(); keys.isValid(); keys.next()) {
                    action.accept(keys.key());
                }
                keys.status();
            }
        } catch (RocksDBException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot read the online store " + path + ": " + e.getMessage(),
                    "check that " + path + " is readable; rematerialize into a fresh path if it is damaged", e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Looks the keys up. A large request is split into parts for the helper threads (a lookup is
     * bound by memory latency, so the cores' lookups overlap); the calling thread reads the first
     * part, then reads itself, last first, every part no helper has started yet, so a busy helper
     * never delays a request: it waits only for parts already being read.
     */
    private List<byte[]> multiGet(List<ColumnFamilyHandle> handles, List<byte[]> keys) throws RocksDBException {
        int parts = READ_HELPERS < 1 ? 1 : Math.min(2 * (READ_HELPERS + 1), keys.size() / KEYS_PER_PARALLEL_PART);
        if (parts <= 1) {
            return keys.isEmpty() ? List.of() : db.multiGetAsList(handles, keys);
        }
        int partSize = (keys.size() + parts - 1) / parts;
        List<FutureTask<List<byte[]>>> others = new ArrayList<>(parts - 1);
        for (int from = partSize; from < keys.size(); from += partSize) {
            List<ColumnFamilyHandle> partHandles = handles.subList(from, Math.min(keys.size(), from + partSize));
            List<byte[]> partKeys = keys.subList(from, Math.min(keys.size(), from + partSize));
            FutureTask<List<byte[]>> part = new FutureTask<>(() -> db.multiGetAsList(partHandles, partKeys));
            others.add(part);
            READ_HELPER_POOL.execute(part);
        }
        List<byte[]> values = new ArrayList<>(keys.size());
        values.addAll(db.multiGetAsList(handles.subList(0, partSize), keys.subList(0, partSize)));
        for (int i = others.size() - 1; i >= 0; i--) {
            others.get(i).run(); // does nothing if a helper has started it
        }
        for (FutureTask<List<byte[]>> other : others) {
            try {
                values.addAll(other.get());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RocksDBException cause) {
                    throw cause;
                }
                throw new IllegalStateException("an online store read failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "interrupted while reading the online store", "the server is shutting down; retry the request", e);
            }
        }
        return values;
    }

    /**
     * Writes without the write-ahead log, then flushes the rows and the state record together
     * into tables (an atomic flush). Readers therefore only ever meet rows in tables: a secondary
     * that replayed log entries into its memtable would keep serving them after the primary
     * flushed newer ones (RocksDB issue 15051). A kill before the flush loses the batch and its
     * state record together, so a rerun carries on from the last flushed record.
     */
    @Override
    public int writeNewer(String view, List<byte[]> keys, List<OnlineRow> rows, Optional<StateRecord> state) {
        if (!writer) {
            throw new IllegalStateException("a reader cannot write");
        }
        try (WriteBatch batch = new WriteBatch(); WriteOptions options = new WriteOptions().setDisableWAL(true);
             FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            ColumnFamilyHandle handle = family(view, true);
            List<ColumnFamilyHandle> handles = new ArrayList<>(keys.size());
            keys.forEach(k -> handles.add(handle));
            List<byte[]> stored = keys.isEmpty() ? List.of() : db.multiGetAsList(handles, keys);
            int newer = 0;
            for (int i = 0; i < keys.size(); i++) {
                byte[] current = stored.get(i);
                if (current == null || rows.get(i).isNewerThan(new EncodedRow(current))) {
                    batch.put(handle, keys.get(i), rows.get(i).encode());
                    newer++;
                }
            }
            ColumnFamilyHandle stateFamily = families.get(STATE_FAMILY);
            if (state.isPresent()) {
                batch.put(stateFamily, state.get().name().getBytes(StandardCharsets.UTF_8), state.get().value());
            }
            db.write(options, batch);
            db.flush(flush, List.of(handle, stateFamily));
            return newer;
        } catch (RocksDBException e) {
            throw writeFailure("write", e);
        }
    }

    /**
     * After a bulk load (at least half the view's keys written in this run), compacts the view
     * into one sorted run, so that a lookup reads one table rather than each flushed one.
     */
    @Override
    public void finishWrites(String view, long rows) {
        if (!writer) {
            throw new IllegalStateException("a reader cannot write");
        }
        try {
            ColumnFamilyHandle handle = family(view, false);
            if (handle == null) {
                return;
            }
            long keys = db.getLongProperty(handle, "rocksdb.estimate-num-keys");
            if (rows > 0 && rows * 2 >= keys) {
                long start = System.nanoTime();
                try (CompactRangeOptions options = new CompactRangeOptions()) {
                    db.compactRange(handle, null, null, options);
                }
                LOG.info("compacted view {} for reading ({} keys) in {} ms", view, keys, (System.nanoTime() - start) / 1_000_000);
            }
        } catch (RocksDBException e) {
            throw writeFailure("compact", e);
        }
    }

    /**
     * Names a full disk as such: once a write has failed for want of space, RocksDB reports
     * later failures as "Writer has previous error", which would not tell the user why.
     */
    private GranaryException writeFailure(String action, RocksDBException e) {
        String reason = String.valueOf(e.getMessage());
        try {
            long free = Files.getFileStore(path).getUsableSpace();
            if (reason.contains("No space left") || free < FULL_DISK_BYTES) {
                reason = "no space left on the device (" + io.granary.common.Sizes.format(free) + " free; RocksDB: " + e.getMessage() + ")";
            }
        } catch (java.io.IOException ignored) {
            // keep RocksDB's own words
        }
        return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot " + action + " the online store " + path + ": " + reason,
                "free space at " + path + " (or move online_store.path) and run the materialization again: it carries on after the last"
                        + " batch it finished", e);
    }

    @Override
    public Optional<byte[]> state(String name) {
        lock.readLock().lock();
        try {
            ColumnFamilyHandle handle = families.get(STATE_FAMILY);
            if (db == null || handle == null) {
                return Optional.empty();
            }
            return Optional.ofNullable(db.get(handle, name.getBytes(StandardCharsets.UTF_8)));
        } catch (RocksDBException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot read the online store " + path + ": " + e.getMessage(),
                    "check that " + path + " is readable; rematerialize into a fresh path if it is damaged", e);
        } finally {
            lock.readLock().unlock();
        }
    }

    private void closeHandles() {
        families.values().forEach(ColumnFamilyHandle::close);
        families.clear();
        if (db != null) {
            db.close();
            db = null;
        }
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            closeHandles();
            familyOptions.close();
            dbOptions.close();
            if (secondaryPath != null) {
                deleteQuietly(secondaryPath);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException ignored) {
            // a reader's scratch directory; harmless if left
        }
    }
}
