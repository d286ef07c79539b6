package io.granary.packer;

import io.granary.common.GranaryException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The samples an incremental pack finds already in the shard set: a sample whose files all match
 * a packed member by name, size and mtime is skipped; a packed key with a new or changed file is
 * an error, since a packed sample never changes.
 */
final class PackedSamples {

    private final PackIndex index;

    PackedSamples(PackIndex index) {
        this.index = index;
    }

    static PackedSamples none() {
        return new PackedSamples(null);
    }

    boolean isPacked(SourceSample sample) {
        if (index == null) {
            return false;
        }
        List<IndexRow> rows = index.sample(sample.key());
        if (rows.isEmpty()) {
            return false;
        }
        Map<String, IndexRow> byExtension = new HashMap<>();
        rows.forEach(row -> byExtension.put(row.extension(), row));
        for (SourceMember member : sample.members()) {
            IndexRow packed = byExtension.get(member.extension());
            if (packed == null) {
                throw changed(rows, member, "is new, but sample " + sample.key() + " was packed without it");
            }
            if (packed.size() != member.size() || packed.mtimeMillis() != member.mtimeMillis()) {
                throw changed(rows, member, "changed since it was packed (size " + packed.size() + " -> " + member.size()
                        + ", mtime " + packed.mtimeMillis() + " -> " + member.mtimeMillis() + " ms)");
            }
        }
        return true;
    }

    private static GranaryException changed(List<IndexRow> rows, SourceMember member, String what) {
        return new GranaryException("file " + member.name() + " " + what + " (sample " + rows.get(0).key() + " is in shard "
                + rows.get(0).shard() + ")",
                "packed samples never change, so that every snapshot stays readable: give the new version a new name, "
                        + "or pack the changed tree into a new directory and dataset");
    }
}
