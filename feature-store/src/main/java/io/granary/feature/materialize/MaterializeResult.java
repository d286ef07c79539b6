package io.granary.feature.materialize;

import java.time.Duration;

/** What materializing one feature view did. */
public record MaterializeResult(String view, String mode, long rowsRead, long entities, long newer, int snapshots,
                                long lastSnapshotId, Duration took) {}
