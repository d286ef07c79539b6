package io.granary.dataset.catalog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.LockManager;

/**
 * Serializes Iceberg's Hadoop-catalog commits to one table across threads and processes of this
 * machine. Iceberg's default lock is in-memory, so two granary processes could both rename a
 * metadata file for the same version and one commit would silently replace the other; an OS
 * file lock per table closes that window.
 */
public final class LocalFileLockManager implements LockManager {

    /** One permit per lock file within this JVM: the OS lock alone does not exclude our own threads. */
    private static final Map<Path, Semaphore> IN_PROCESS = new ConcurrentHashMap<>();
    private static final Map<String, Held> HELD = new ConcurrentHashMap<>();

    private record Held(Path lockFile, FileChannel channel, FileLock lock) {}

    private long timeoutMs = 120_000;

    @Override
    public void initialize(Map<String, String> properties) {
        timeoutMs = Long.parseLong(properties.getOrDefault(CatalogProperties.LOCK_ACQUIRE_TIMEOUT_MS, "120000"));
    }

    @Override
    public boolean acquire(String entityId, String ownerId) {
        Path lockFile = lockFileFor(entityId);
        Semaphore local = IN_PROCESS.computeIfAbsent(lockFile, path -> new Semaphore(1));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try {
            if (!local.tryAcquire(timeoutMs, TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            Files.createDirectories(lockFile.getParent());
            FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            while ((lock = channel.tryLock()) == null) {
                if (System.nanoTime() > deadline) {
                    channel.close();
                    local.release();
                    return false;
                }
                Thread.onSpinWait();
                TimeUnit.MILLISECONDS.sleep(5);
            }
            HELD.put(entityId + "\u0000" + ownerId, new Held(lockFile, channel, lock));
            return true;
        } catch (IOException e) {
            local.release();
            throw new UncheckedIOException("cannot lock " + lockFile, e);
        } catch (InterruptedException e) {
            local.release();
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public boolean release(String entityId, String ownerId) {
        Held held = HELD.remove(entityId + "\u0000" + ownerId);
        if (held == null) {
            return false;
        }
        try {
            held.lock().release();
            held.channel().close();
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unlock " + held.lockFile(), e);
        } finally {
            IN_PROCESS.get(held.lockFile()).release();
        }
    }

    /**
     * One lock file per table, hidden in its metadata directory: the entity is the metadata file
     * being committed, and no Iceberg reader looks at files that are not {@code v*.metadata.json}.
     */
    private static Path lockFileFor(String entityId) {
        String local = entityId.replaceFirst("^file:(//)?", "");
        return Path.of(local).toAbsolutePath().getParent().resolve(".granary-commit.lock");
    }

    @Override
    public void close() {}
}
