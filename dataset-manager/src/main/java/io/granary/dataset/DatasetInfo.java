package io.granary.dataset;

import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;

/** A dataset at a version, as `granary dataset show` prints it. */
public record DatasetInfo(
        DatasetRef ref,
        String location,
        int formatVersion,
        Schema schema,
        PartitionSpec partitionSpec,
        Optional<SnapshotInfo> snapshot,
        Map<String, Long> tags,
        Map<String, Long> branches,
        Map<String, String> properties,
        int snapshotCount) {}
