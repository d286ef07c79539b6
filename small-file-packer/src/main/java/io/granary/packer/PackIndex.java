package io.granary.packer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The index of a shard set in memory: every member row in shard order, and per sample key the
 * position of its first row (a sample's rows are adjacent, as its members are in the shard).
 */
public final class PackIndex {

    private final List<IndexRow> rows;
    private final Map<String, Integer> firstRowByKey;

    private PackIndex(List<IndexRow> rows) {
        this.rows = rows;
        this.firstRowByKey = new HashMap<>(Math.max(16, rows.size() * 2));
        for (int i = rows.size() - 1; i >= 0; i--) {
            firstRowByKey.put(rows.get(i).key(), i);
        }
    }

    static PackIndex load(Path dir, Manifest manifest) {
        List<IndexRow> rows = new ArrayList<>();
        for (Manifest.Shard shard : manifest.shards()) {
            IndexFiles.read(dir.resolve(shard.index()), rows::add);
        }
        return new PackIndex(rows);
    }

    public List<IndexRow> rows() {
        return rows;
    }

    public int sampleCount() {
        return firstRowByKey.size();
    }

    public boolean contains(String key) {
        return firstRowByKey.containsKey(key);
    }

    /** The rows of one sample, in shard order; empty for an unknown key. */
    public List<IndexRow> sample(String key) {
        Integer first = firstRowByKey.get(key);
        if (first == null) {
            return List.of();
        }
        int end = first;
        while (end < rows.size() && rows.get(end).key().equals(key)) {
            end++;
        }
        return rows.subList(first, end);
    }

    /** Keys in shard order. */
    public List<String> keys() {
        List<String> keys = new ArrayList<>(firstRowByKey.size());
        String previous = null;
        for (IndexRow row : rows) {
            if (!row.key().equals(previous)) {
                keys.add(row.key());
                previous = row.key();
            }
        }
        return keys;
    }

}
