package io.granary.cache.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The cache's metadata in RocksDB: entries, snapshots, pins and reservations. Every process on
 * the node (the daemon, CLIs working in process) shares it, one transaction at a time: a
 * transaction takes a file lock, opens the database, reads, and commits its writes as one
 * atomic batch. Transactions are short (no copying inside), so holding the lock costs little,
 * and a process killed inside one leaves either all of its writes or none.
 */
public final class CacheStore {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private static final String ENTRY = "e/";
    private static final String SNAPSHOT = "s/";
    private static final String PIN = "p/";
    private static final String RESERVATION = "r/";
    private static final String USED = "u/used";

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final Path lockFile;
    private final ReentrantLock threads = new ReentrantLock();

    public CacheStore(Path dir) {
        this.dir = dir;
        this.lockFile = dir.resolve("LOCK.granary");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new GranaryException("cannot create the cache metadata directory " + dir + ": " + e.getMessage(),
                    "check cache.root and its permissions", e);
        }
    }

    /** Runs {@code work} as one transaction: it sees the committed state, and its writes land together or not at all. */
    public <T> T transact(Function<Txn, T> work) {
        threads.lock();
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = channel.lock();
             Options options = new Options().setCreateIfMissing(true).setKeepLogFileNum(2).setMaxOpenFiles(64);
             RocksDB db = RocksDB.open(options, dir.toString())) {
            Txn txn = new Txn(db);
            T result = work.apply(txn);
            txn.commit();
            txn.afterCommit.forEach(Runnable::run);
            return result;
        } catch (RocksDBException | IOException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot use the cache metadata in " + dir + ": " + e.getMessage(),
                    "check that the disk under cache.root is writable and not full", e);
        } finally {
            threads.unlock();
        }
    }

    /** Reads and writes inside one transaction; reads see its own earlier writes. */
    public static final class Txn {
        private final RocksDB db;
        private final TreeMap<String, byte[]> pending = new TreeMap<>();
        private final List<Runnable> afterCommit = new ArrayList<>();
        private static final byte[] DELETED = new byte[0];

        private Txn(RocksDB db) {
            this.db = db;
        }

        /** Runs once the writes are committed, still under the lock (e.g. deleting evicted files, which no one may recreate meanwhile). */
        public void afterCommit(Runnable action) {
            afterCommit.add(action);
        }

        public Optional<Entry> entry(String id) {
            return get(ENTRY + id, Entry.class);
        }

        /** Whether an entry is recorded, without decoding it. */
        public boolean hasEntry(String id) {
            return exists(ENTRY + id);
        }

        public boolean hasSnapshot(String key) {
            return exists(SNAPSHOT + key);
        }

        /** The ids of every entry, read from the keys alone. */
        public java.util.Set<String> entryIds() {
            java.util.Set<String> ids = new java.util.HashSet<>();
            for (String key : keys(ENTRY)) {
                ids.add(key.substring(ENTRY.length()));
            }
            return ids;
        }

        public List<Entry> entries() {
            return scan(ENTRY, Entry.class);
        }

        /** Adds or replaces an entry, keeping the total of entry sizes. */
        public void put(Entry entry) {
            long previous = entry(entry.id()).map(Entry::size).orElse(0L);
            put(ENTRY + entry.id(), entry);
            addUsed(entry.size() - previous);
        }

        public void deleteEntry(String id) {
            Optional<Entry> previous = entry(id);
            if (previous.isPresent()) {
                pending.put(ENTRY + id, DELETED);
                addUsed(-previous.get().size());
            }
        }

        /** The bytes of every entry, kept as a running total so that a stage need not read every entry. */
        public long usedBytes() {
            Optional<Long> total = get(USED, Long.class);
            if (total.isPresent()) {
                return total.get();
            }
            long counted = entries().stream().mapToLong(Entry::size).sum();
            put(USED, counted);
            return counted;
        }

        private void addUsed(long delta) {
            if (delta != 0) {
                put(USED, usedBytes() + delta);
            }
        }

        public Optional<SnapshotRecord> snapshot(String key) {
            return get(SNAPSHOT + key, SnapshotRecord.class);
        }

        public List<SnapshotRecord> snapshots() {
            return scan(SNAPSHOT, SnapshotRecord.class);
        }

        public void put(SnapshotRecord snapshot) {
            put(SNAPSHOT + snapshot.key(), snapshot);
        }

        public void deleteSnapshot(String key) {
            pending.put(SNAPSHOT + key, DELETED);
        }

        public Optional<Pin> pin(String id) {
            return get(PIN + id, Pin.class);
        }

        public List<Pin> pins() {
            return scan(PIN, Pin.class);
        }

        public void put(Pin pin) {
            put(PIN + pin.id(), pin);
        }

        public void deletePin(String id) {
            pending.put(PIN + id, DELETED);
        }

        public Optional<Reservation> reservation(String entryId) {
            return get(RESERVATION + entryId, Reservation.class);
        }

        public List<Reservation> reservations() {
            return scan(RESERVATION, Reservation.class);
        }

        public void put(Reservation reservation) {
            put(RESERVATION + reservation.entryId(), reservation);
        }

        public void deleteReservation(String entryId) {
            pending.put(RESERVATION + entryId, DELETED);
        }

        private void put(String key, Object value) {
            try {
                pending.put(key, JSON.writeValueAsBytes(value));
            } catch (IOException e) {
                throw new IllegalStateException("cannot encode " + value, e);
            }
        }

        private boolean exists(String key) {
            byte[] bytes = pending.get(key);
            if (bytes != null) {
                return bytes != DELETED;
            }
            try {
                return db.get(key.getBytes(StandardCharsets.UTF_8)) != null;
            } catch (RocksDBException e) {
                throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot read the cache metadata: " + e.getMessage(), "", e);
            }
        }

        private <T> Optional<T> get(String key, Class<T> type) {
            byte[] bytes = pending.get(key);
            if (bytes == null) {
                try {
                    bytes = db.get(key.getBytes(StandardCharsets.UTF_8));
                } catch (RocksDBException e) {
                    throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot read the cache metadata: " + e.getMessage(), "", e);
                }
            }
            return bytes == null || bytes == DELETED ? Optional.empty() : Optional.of(decode(bytes, type));
        }

        private <T> List<T> scan(String prefix, Class<T> type) {
            List<T> values = new ArrayList<>();
            for (byte[] bytes : merged(prefix).values()) {
                values.add(decode(bytes, type));
            }
            return values;
        }

        private java.util.Set<String> keys(String prefix) {
            return merged(prefix).keySet();
        }

        /** The committed records under a prefix with this transaction's writes applied, deletions removed. */
        private TreeMap<String, byte[]> merged(String prefix) {
            TreeMap<String, byte[]> merged = new TreeMap<>();
            byte[] start = prefix.getBytes(StandardCharsets.UTF_8);
            try (RocksIterator iterator = db.newIterator()) {
                for (iterator.seek(start); iterator.isValid(); iterator.next()) {
                    byte[] key = iterator.key();
                    if (key.length < start.length || !Arrays.equals(key, 0, start.length, start, 0, start.length)) {
                        break;
                    }
                    merged.put(new String(key, StandardCharsets.UTF_8), iterator.value());
                }
            }
            merged.putAll(pending.subMap(prefix, prefix + Character.MAX_VALUE));
            merged.values().removeIf(bytes -> bytes == DELETED);
            return merged;
        }

        private static <T> T decode(byte[] bytes, Class<T> type) {
            try {
                return JSON.readValue(bytes, type);
            } catch (IOException e) {
                throw new GranaryException("the cache metadata holds a damaged " + type.getSimpleName() + " record: " + e.getMessage(),
                        "run `granary cache gc`; if that fails, delete the cache root (its files are refetched on use)", e);
            }
        }

        private void commit() throws RocksDBException {
            if (pending.isEmpty()) {
                return;
            }
            try (WriteBatch batch = new WriteBatch(); WriteOptions options = new WriteOptions().setSync(true)) {
                for (Map.Entry<String, byte[]> write : pending.entrySet()) {
                    byte[] key = write.getKey().getBytes(StandardCharsets.UTF_8);
                    if (write.getValue() == DELETED) {
                        batch.delete(key);
                    } else {
                        batch.put(key, write.getValue());
                    }
                }
                db.write(options, batch);
            }
        }
    }
}
