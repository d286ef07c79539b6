package io.granary.cache.stage;

import io.granary.cache.store.SnapshotRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The files that make up one dataset snapshot, as the cache needs them: those to copy from a
 * remote location, and small ones generated from the catalog's metadata (a table's
 * {@code _manifest.json}, a shard set's manifest as of the snapshot).
 *
 * @param kind {@code table} or {@code shards}
 */
public record SnapshotFiles(String dataset, long snapshotId, String kind, List<Remote> remote, List<Generated> generated) {

    /**
     * A file to copy.
     *
     * @param name its path in a mount view
     * @param location where the catalog says it is
     * @param sha256 the expected SHA-256 (shards), or null when only the size is known
     * @param kind data, position_deletes, equality_deletes, shard, index
     */
    public record Remote(String name, String location, long size, String sha256, String kind, long rows, String entryId) {
        /**
         * Its entry id is computed once: content known by its hash is stored once wherever it
         * comes from; an immutable data file, by its location and size.
         */
        public Remote(String name, String location, long size, String sha256, String kind, long rows) {
            this(name, location, size, sha256, kind, rows, sha256 != null ? "sha256-" + sha256
                    : "file-" + sha256Hex((location + "\n" + size).getBytes(StandardCharsets.UTF_8)).substring(0, 40));
        }
    }

    /** A file written from metadata. */
    public record Generated(String name, byte[] content, String kind) {
        public String entryId() {
            return "sha256-" + sha256Hex(content);
        }
    }

    public SnapshotFiles {
        remote = List.copyOf(remote);
        generated = List.copyOf(generated);
    }

    public String key() {
        return SnapshotRecord.key(dataset, snapshotId);
    }

    public long bytes() {
        return remote.stream().mapToLong(Remote::size).sum() + generated.stream().mapToLong(g -> g.content().length).sum();
    }

    public int fileCount() {
        return remote.size() + generated.size();
    }

    /** The record the cache keeps of this snapshot. */
    public SnapshotRecord record(long nowMillis) {
        List<SnapshotRecord.File> files = new java.util.ArrayList<>();
        for (Remote file : remote) {
            files.add(new SnapshotRecord.File(file.name(), file.entryId(), file.size(), file.kind(), file.rows()));
        }
        for (Generated file : generated) {
            files.add(new SnapshotRecord.File(file.name(), file.entryId(), file.content().length, file.kind(), -1));
        }
        return new SnapshotRecord(key(), dataset, snapshotId, kind, files, 0, nowMillis, 0);
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
