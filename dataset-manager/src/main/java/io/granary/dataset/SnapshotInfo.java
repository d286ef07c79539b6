package io.granary.dataset;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Snapshot;

/** One commit of a dataset, as `granary dataset log` shows it. */
public record SnapshotInfo(
        long id,
        Optional<Long> parentId,
        Instant committedAt,
        String operation,
        long addedRows,
        long deletedRows,
        long totalRows,
        long totalBytes,
        long totalDataFiles,
        Optional<Provenance> provenance,
        List<String> refs) {

    static SnapshotInfo of(Snapshot snapshot, List<String> refs) {
        Map<String, String> summary = snapshot.summary() == null ? Map.of() : snapshot.summary();
        return new SnapshotInfo(
                snapshot.snapshotId(),
                Optional.ofNullable(snapshot.parentId()),
                Instant.ofEpochMilli(snapshot.timestampMillis()),
                snapshot.operation() == null ? "unknown" : snapshot.operation(),
                number(summary, "added-records"),
                number(summary, "deleted-records"),
                number(summary, "total-records"),
                number(summary, "total-files-size"),
                number(summary, "total-data-files"),
                Provenance.fromSummary(summary),
                List.copyOf(refs));
    }

    private static long number(Map<String, String> summary, String key) {
        String value = summary.get(key);
        try {
            return value == null ? 0 : Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
