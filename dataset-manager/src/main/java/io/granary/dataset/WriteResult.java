package io.granary.dataset;

import java.util.List;

/** What a create, append or overwrite committed. */
public record WriteResult(
        DatasetName dataset,
        String branch,
        long snapshotId,
        long rowsWritten,
        int filesWritten,
        long bytesWritten,
        List<String> schemaChanges,
        String runId) {}
