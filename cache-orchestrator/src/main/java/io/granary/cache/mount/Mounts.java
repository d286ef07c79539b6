package io.granary.cache.mount;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.granary.cache.NodeCache;
import io.granary.cache.stage.ProgressSink;
import io.granary.cache.stage.SnapshotFiles;
import io.granary.cache.stage.StageResult;
import io.granary.cache.store.Owner;
import io.granary.cache.store.Pin;
import io.granary.cache.store.SnapshotRecord;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Read-only views of staged snapshots for training pods: the snapshot's files under stable
 * names, hard-linked to the cache's entries (symbolic links where the view is on another file
 * system), and its entries pinned until the view is unmounted.
 */
public final class Mounts {

    /** The hidden file that marks a directory as a Granary view, and says of which snapshot. */
    public static final String MARKER = ".granary-mount";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the marker records. */
    public record Marker(String snapshotKey, String ref, String pinId, String cacheRoot) {}

    /** A finished mount: where, of what, how its files were linked, and the stage behind it. */
    public record MountResult(Path target, String snapshotKey, int files, long bytes, String linkKind, StageResult stage) {}

    private final NodeCache cache;

    public Mounts(NodeCache cache) {
        this.cache = cache;
    }

    /**
     * Stages the snapshot if needed and builds its view at {@code target}, which must not exist,
     * be empty, or be this snapshot's view already (then this only repairs it).
     */
    public MountResult mount(DatasetRef ref, Path target, int parallel, boolean showProgress) {
        return mount(ref, target, parallel, ProgressSink.of(showProgress));
    }

    public MountResult mount(DatasetRef ref, Path target, int parallel, ProgressSink progress) {
        Path view = target.toAbsolutePath().normalize();
        SnapshotFiles snapshot = cache.resolve(ref);
        Optional<Marker> existing = readMarker(view);
        if (existing.isPresent() && !existing.get().snapshotKey().equals(snapshot.key())) {
            throw new GranaryException(GranaryException.Kind.CONFLICT, view + " already shows " + existing.get().snapshotKey() + ", not " + snapshot.key(),
                    "unmount it first (`granary umount " + view + "`), or mount into another directory", null);
        }
        if (existing.isEmpty()) {
            requireEmptyOrAbsent(view);
        }
        if (view.startsWith(cache.settings().root())) {
            throw new GranaryException("cannot mount into the cache's own directory " + cache.settings().root(), "pick a directory outside cache.root");
        }
        String pinId = "mount-" + view;
        Pin pin = new Pin(pinId, snapshot.key(), "mount", "mount " + view, Owner.persistent(pinId), System.currentTimeMillis());
        StageResult staged = cache.stage(snapshot, parallel, progress, Optional.of(pin));
        try {
            SnapshotRecord record = cache.store().transact(txn -> txn.snapshot(snapshot.key())).orElseThrow();
            String linkKind = build(view, record, new Marker(snapshot.key(), ref.toString(), pinId, cache.settings().root().toString()));
            return new MountResult(view, snapshot.key(), record.files().size(), record.bytes(), linkKind, staged);
        } catch (IOException | RuntimeException e) {
            removeView(view);
            cache.store().transact(txn -> {
                txn.deletePin(pinId);
                return null;
            });
            if (e instanceof GranaryException granary) {
                throw granary;
            }
            throw new GranaryException("cannot build the view at " + view + ": " + e.getMessage(), "check that the directory is writable", e);
        }
    }

    /** Removes a view and unpins its snapshot. */
    public Marker umount(Path target) {
        Path view = target.toAbsolutePath().normalize();
        Marker marker = readMarker(view).orElseThrow(() -> new GranaryException(
                view + " is not a Granary mount (no " + MARKER + " in it)", "give a directory made by `granary mount`"));
        removeView(view);
        cache.store().transact(txn -> {
            txn.deletePin(marker.pinId());
            return null;
        });
        return marker;
    }

    private String build(Path view, SnapshotRecord record, Marker marker) throws IOException {
        Files.createDirectories(view);
        makeWritable(view);
        Files.write(view.resolve(MARKER), JSON.writeValueAsBytes(marker));
        String linkKind = "hard links";
        List<Path> directories = new ArrayList<>();
        for (SnapshotRecord.File file : record.files()) {
            Path link = view.resolve(file.name()).normalize();
            if (!link.startsWith(view)) {
                throw new GranaryException("the snapshot lists a file outside its view: " + file.name(), "this is a bug: please report it");
            }
            Path parent = link.getParent();
            if (!parent.equals(view) && !Files.isDirectory(parent)) {
                Files.createDirectories(parent);
            }
            Path entry = cache.entryFiles().path(file.entryId());
            if (Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                if (Files.isSameFile(link, entry)) {
                    continue;
                }
                Files.delete(link);
            }
            try {
                Files.createLink(link, entry);
            } catch (FileAlreadyExistsException e) {
                throw e;
            } catch (IOException | UnsupportedOperationException e) {
                // another file system, or one without hard links: a symbolic link works as long as the cache is visible too
                Files.createSymbolicLink(link, entry);
                linkKind = "symbolic links";
            }
        }
        try (Stream<Path> tree = Files.walk(view)) {
            tree.filter(Files::isDirectory).forEach(directories::add);
        }
        for (Path directory : directories) {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("r-xr-xr-x"));
        }
        return linkKind;
    }

    private static void requireEmptyOrAbsent(Path view) {
        if (!Files.exists(view)) {
            return;
        }
        if (!Files.isDirectory(view)) {
            throw new GranaryException(view + " is a file, not a directory", "give an empty or missing directory as the mount target");
        }
        try (Stream<Path> children = Files.list(view)) {
            if (children.findAny().isPresent()) {
                throw new GranaryException(view + " is not empty and is not a Granary mount",
                        "give an empty or missing directory: granary mount never writes over other files");
            }
        } catch (IOException e) {
            throw new GranaryException("cannot read " + view + ": " + e.getMessage(), "check its permissions", e);
        }
    }

    private static Optional<Marker> readMarker(Path view) {
        Path file = view.resolve(MARKER);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), Marker.class));
        } catch (IOException e) {
            throw new GranaryException("cannot read " + file + ": " + e.getMessage(), "remove the directory by hand if it is a broken view", e);
        }
    }

    private static void removeView(Path view) {
        if (!Files.exists(view)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(view)) {
            List<Path> paths = tree.sorted(Comparator.reverseOrder()).toList();
            for (Path path : paths) {
                if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    makeWritable(path);
                }
            }
            for (Path path : paths) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new GranaryException("cannot remove the view " + view + ": " + e.getMessage(), "check its permissions", e);
        }
    }

    private static void makeWritable(Path directory) throws IOException {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
