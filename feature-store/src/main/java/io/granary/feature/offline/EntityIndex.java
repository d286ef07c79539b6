package io.granary.feature.offline;

import io.granary.feature.registry.Entity;
import io.granary.feature.registry.ValueType;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.types.Type;

/**
 * The entity rows of a point-in-time join laid out for the views keyed by one set of join keys:
 * each distinct key gets an id, and the rows with that key occupy a run of slots (a bucket) in
 * event time order. A feature row then only needs the first slot of its key at or after its own
 * time: every entity row from there on may see it. Rows without a time or a key get no slot.
 */
final class EntityIndex {

    private final List<Entity> entities;
    private final LongIds longIds;
    private final Map<Object, Integer> keyIds;
    private final int[] bucketStart;
    private final long[] slotTimes;
    private final int[] slotRows;

    private EntityIndex(List<Entity> entities, LongIds longIds, Map<Object, Integer> keyIds, int[] bucketStart, long[] slotTimes,
                        int[] slotRows) {
        this.entities = entities;
        this.longIds = longIds;
        this.keyIds = keyIds;
        this.bucketStart = bucketStart;
        this.slotTimes = slotTimes;
        this.slotRows = slotRows;
    }

    /** The index of {@code rows} by the join keys in columns {@code keyFields} (the keys of {@code entities}), times in micros. */
    static EntityIndex build(EntityRows rows, int[] keyFields, List<Entity> entities, int timeField) {
        int size = rows.size();
        ColumnValues times = rows.column(timeField);
        int[] keyOf = new int[size];
        LongIds longIds = null;
        Map<Object, Integer> keyIds = null;
        ColumnValues first = rows.column(keyFields[0]);
        if (keyFields.length == 1 && integer(entities.get(0)) && integer(first.typeId())) {
            // integer keys in a range not much wider than their count take their id from a plain array
            long min = Long.MAX_VALUE;
            long max = Long.MIN_VALUE;
            for (int i = 0; i < size; i++) {
                if (!first.isNull(i)) {
                    long key = first.typeId() == Type.TypeID.LONG ? first.longAt(i) : first.intAt(i);
                    min = Math.min(min, key);
                    max = Math.max(max, key);
                }
            }
            longIds = min <= max ? LongIds.within(min, max, size) : new LongIds(16);
            for (int i = 0; i < size; i++) {
                keyOf[i] = times.isNull(i) || first.isNull(i) ? -1
                        : longIds.add(first.typeId() == Type.TypeID.LONG ? first.longAt(i) : first.intAt(i));
            }
        } else if (keyFields.length == 1 && integer(entities.get(0))) {
            longIds = new LongIds(1 << 16);
            for (int i = 0; i < size; i++) {
                Object key = times.isNull(i) ? null : LocalPointInTimeJoin.keyValue(first.get(i), entities.get(0));
                keyOf[i] = key == null ? -1 : longIds.add((Long) key);
            }
        } else {
            keyIds = new HashMap<>();
            Object[] parts = new Object[keyFields.length];
            for (int i = 0; i < size; i++) {
                Object key = times.isNull(i) ? null : entityKey(rows, i, keyFields, entities, parts);
                if (key == null) {
                    keyOf[i] = -1;
                    continue;
                }
                Integer id = keyIds.get(key);
                if (id == null) {
                    id = keyIds.size();
                    keyIds.put(key, id);
                }
                keyOf[i] = id;
            }
        }
        int keyCount = longIds != null ? longIds.size() : keyIds.size();
        int[] bucketStart = new int[keyCount + 1];
        int slotted = 0;
        for (int i = 0; i < size; i++) {
            if (keyOf[i] >= 0) {
                bucketStart[keyOf[i] + 1]++;
                slotted++;
            }
        }
        for (int k = 0; k < keyCount; k++) {
            bucketStart[k + 1] += bucketStart[k];
        }
        int[] fill = bucketStart.clone();
        long[] slotTimes = new long[slotted];
        int[] slotRows = new int[slotted];
        for (int i = 0; i < size; i++) {
            if (keyOf[i] >= 0) {
                int slot = fill[keyOf[i]]++;
                slotTimes[slot] = times.micros(i);
                slotRows[slot] = i;
            }
        }
        for (int k = 0; k < keyCount; k++) {
            TimeSort.sort(slotTimes, slotRows, bucketStart[k], bucketStart[k + 1]);
        }
        return new EntityIndex(entities, longIds, keyIds, bucketStart, slotTimes, slotRows);
    }

    private static boolean integer(Entity entity) {
        return entity.valueType() == ValueType.INT64 || entity.valueType() == ValueType.INT32;
    }

    private static boolean integer(Type.TypeID type) {
        return type == Type.TypeID.LONG || type == Type.TypeID.INTEGER;
    }

    private static Object entityKey(EntityRows rows, int row, int[] keyFields, List<Entity> entities, Object[] parts) {
        if (keyFields.length == 1) {
            return LocalPointInTimeJoin.keyValue(rows.value(row, keyFields[0]), entities.get(0));
        }
        for (int k = 0; k < keyFields.length; k++) {
            parts[k] = LocalPointInTimeJoin.keyValue(rows.value(row, keyFields[k]), entities.get(k));
            if (parts[k] == null) {
                return null;
            }
        }
        return List.of(parts.clone());
    }

    /** The id of a feature row's key (its key columns {@code keys}, one per join key), or -1 when no entity row has it. */
    int keyId(ColumnValues[] keys, int row, Object[] parts) {
        ColumnValues first = keys[0];
        if (longIds != null) {
            if (first.isNull(row)) {
                return -1;
            }
            return switch (first.typeId()) {
                case LONG -> longIds.get(first.longAt(row));
                case INTEGER -> longIds.get(first.intAt(row));
                default -> {
                    Object key = LocalPointInTimeJoin.keyValue(first.get(row), entities.get(0));
                    yield key == null ? -1 : longIds.get((Long) key);
                }
            };
        }
        Object key;
        if (keys.length == 1) {
            key = LocalPointInTimeJoin.keyValue(first.get(row), entities.get(0));
        } else {
            for (int k = 0; k < keys.length; k++) {
                parts[k] = LocalPointInTimeJoin.keyValue(keys[k].get(row), entities.get(k));
                if (parts[k] == null) {
                    return -1;
                }
            }
            key = List.of(parts.clone());
        }
        Integer id = key == null ? null : keyIds.get(key);
        return id == null ? -1 : id;
    }

    int bucketStart(int keyId) {
        return bucketStart[keyId];
    }

    int bucketEnd(int keyId) {
        return bucketStart[keyId + 1];
    }

    int keyCount() {
        return bucketStart.length - 1;
    }

    int slots() {
        return slotTimes.length;
    }

    long slotTime(int slot) {
        return slotTimes[slot];
    }

    /** The entity row in a slot. */
    int slotRow(int slot) {
        return slotRows[slot];
    }
}
