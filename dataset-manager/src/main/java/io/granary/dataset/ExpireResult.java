package io.granary.dataset;

import java.util.List;

/** The snapshots an expire removed, and those it kept. */
public record ExpireResult(DatasetName dataset, List<SnapshotInfo> expired, List<SnapshotInfo> kept) {}
