package io.granary.cache.store;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where entries live on the cache disk: {@code entries/<2 hex>/<id>}, read-only once committed,
 * and {@code entries/<2 hex>/<id>.<pid>.<token>.tmp} while being copied (renamed into place when
 * verified).
 */
public final class EntryFiles {

    private final Path root;
    private final Path entries;
    private static final String TEMPORARY = ".tmp";
    private final java.util.Set<Path> knownDirectories = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public EntryFiles(Path root) {
        this.root = root;
        this.entries = root.resolve("entries");
        try {
            Files.createDirectories(entries);
        } catch (IOException e) {
            throw new GranaryException("cannot create the cache directories under " + root + ": " + e.getMessage(),
                    "check cache.root and its permissions", e);
        }
    }

    public Path root() {
        return root;
    }

    public Path path(String id) {
        int dash = id.indexOf('-');
        String fan = id.substring(dash + 1, Math.min(id.length(), dash + 3));
        return entries.resolve(fan).resolve(id);
    }

    /**
     * A fresh temporary file name for this owner's copy of an entry, beside where the entry goes:
     * the rename that commits it stays inside one directory, and concurrent copies spread over
     * the fan-out directories instead of contending for one.
     */
    public Path temporary(String id, Owner owner) throws IOException {
        return pathCreatingParent(id).resolveSibling(id + "." + owner.pid() + "." + owner.token().substring(0, 8) + TEMPORARY);
    }

    /** Where an entry goes, its fan-out directory created if this process has not seen it yet. */
    public Path pathCreatingParent(String id) throws IOException {
        Path path = path(id);
        Path parent = path.getParent();
        if (!knownDirectories.contains(parent)) {
            Files.createDirectories(parent);
            knownDirectories.add(parent);
        }
        return path;
    }

    public void delete(String id) {
        try {
            Files.deleteIfExists(path(id));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete cache entry " + path(id), e);
        }
    }

    /** Deletes temporary files of processes that are gone (a stage killed mid-copy); returns how many. */
    public int deleteAbandonedTemporaries() throws IOException {
        int deleted = 0;
        for (Path file : temporaries()) {
            String[] parts = file.getFileName().toString().split("\\.");
            if (parts.length < 4) {
                continue;
            }
            long pid;
            try {
                pid = Long.parseLong(parts[parts.length - 3]);
            } catch (NumberFormatException e) {
                continue;
            }
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                continue;
            }
            try {
                Files.delete(file);
                deleted++;
            } catch (NoSuchFileException alreadyGone) {
                // another cleaner was first
            }
        }
        return deleted;
    }

    /** Every temporary file: copies in progress, or left by a stage that was killed. */
    public List<Path> temporaries() throws IOException {
        List<Path> found = new ArrayList<>();
        for (Path dir : fanDirectories()) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + TEMPORARY)) {
                files.forEach(found::add);
            } catch (NoSuchFileException gone) {
                // removed meanwhile
            }
        }
        return found;
    }

    private List<Path> fanDirectories() throws IOException {
        try (Stream<Path> fans = Files.list(entries)) {
            return fans.filter(Files::isDirectory).toList();
        }
    }

    /** The ids of every entry file on disk. */
    public List<String> idsOnDisk() throws IOException {
        List<String> ids = new ArrayList<>();
        try (Stream<Path> fans = Files.list(entries)) {
            for (Path fan : fans.toList()) {
                try (Stream<Path> files = Files.list(fan)) {
                    files.map(file -> file.getFileName().toString()).filter(name -> !name.endsWith(TEMPORARY)).forEach(ids::add);
                }
            }
        }
        return ids;
    }
}
