package io.granary.dataset;

import io.granary.common.GranaryException;
import java.util.Optional;

/**
 * A dataset with an optional version: "ns.clicks", "ns.clicks@42" (snapshot id), "ns.clicks@v1"
 * (tag or branch), "ns.clicks@ts=2026-11-28T10:00:00Z" (the snapshot current at that time).
 */
public record DatasetRef(DatasetName dataset, Optional<Version> version) {

    public static DatasetRef parse(String text) {
        if (text == null || text.isBlank()) {
            throw new GranaryException("empty dataset ref", "write NS.NAME, optionally with @SNAPSHOT, @TAG, @BRANCH or @ts=TIME");
        }
        int at = text.indexOf('@');
        if (at < 0) {
            return new DatasetRef(DatasetName.parse(text), Optional.empty());
        }
        String versionText = text.substring(at + 1).trim();
        if (versionText.isEmpty()) {
            throw new GranaryException("missing version after '@' in '" + text + "'",
                    "write NS.NAME@SNAPSHOT_ID, NS.NAME@TAG, NS.NAME@BRANCH or NS.NAME@ts=2026-11-28T10:00:00Z");
        }
        return new DatasetRef(DatasetName.parse(text.substring(0, at)), Optional.of(Version.parse(versionText)));
    }

    public static DatasetRef latest(DatasetName dataset) {
        return new DatasetRef(dataset, Optional.empty());
    }

    public static DatasetRef at(DatasetName dataset, long snapshotId) {
        return new DatasetRef(dataset, Optional.of(new Version.SnapshotId(snapshotId)));
    }

    @Override
    public String toString() {
        return version.map(v -> dataset + "@" + v).orElse(dataset.toString());
    }
}
