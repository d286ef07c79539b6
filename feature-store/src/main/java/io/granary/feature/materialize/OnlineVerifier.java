package io.granary.feature.materialize;

import feast.proto.serving.ServingAPIProto.FeatureList;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.dataset.Datasets;
import io.granary.feature.offline.PointInTimeValues;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.FeatureValues;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.registry.Feature;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import io.granary.feature.serving.OnlineFeatures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.function.BiFunction;
import java.util.zip.CRC32C;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Proves that the online store serves what training saw: for the entities of each online view (a
 * sample, or all), the answer a Feast client gets from the store at the materialization's end time
 * against the point-in-time answer of an offline engine at that time, from the source snapshot the
 * store was materialized from. Entities come from both sides (the keys the store holds and the keys
 * the source has rows for in the view's ttl), so a missing entity is found as well as a wrong value.
 */
public final class OnlineVerifier {

    /** Entities a request to the store carries. */
    private static final int ENTITIES_PER_REQUEST = 1_000;

    private final Datasets datasets;
    private final RegistryState registry;
    private final OnlineStore store;
    private final BiFunction<FeatureView, Optional<Long>, PointInTimeValues> engineFor;

    /**
     * @param engineFor the offline engine to ask for a view at a source snapshot (the in-process one,
     *                  or Spark where it cannot read the view)
     */
    public OnlineVerifier(Datasets datasets, RegistryState registry, OnlineStore store,
                          BiFunction<FeatureView, Optional<Long>, PointInTimeValues> engineFor) {
        this.datasets = datasets;
        this.registry = registry;
        this.store = store;
        this.engineFor = engineFor;
    }

    /** A feature of an entity whose online value is not the offline one. */
    public record Mismatch(String view, String entity, String feature, Value online, FieldStatus onlineStatus, Value offline) {}

    /**
     * One view's check: at which time, against which source snapshot, how many entities, how many
     * of them the store has a row for and the offline answer has a value for, and how many differ.
     */
    public record ViewCheck(String view, Instant at, long sourceSnapshot, long entities, long online, long offline, long mismatched,
                            List<Mismatch> mismatches) {}

    /**
     * Checks the online views named (all of them when none is), each at {@code at} if given, else
     * just before its materialization's end (materialization reads event times before its end).
     *
     * @param sample how many entities of each view to check (the same ones every run, chosen by a hash of the key); empty: all
     */
    public List<ViewCheck> verify(List<String> viewNames, OptionalInt sample, Optional<Instant> at) {
        List<FeatureView> views = new Materializer(datasets, registry, store).views(viewNames);
        List<ViewCheck> checks = new ArrayList<>();
        for (FeatureView view : views) {
            checks.add(verify(view, sample, at));
        }
        return checks;
    }

    private ViewCheck verify(FeatureView view, OptionalInt sample, Optional<Instant> at) {
        Checkpoint checkpoint = store.state(Checkpoint.key(view.name())).map(Checkpoint::decode).orElseThrow(() ->
                GranaryException.notFound("feature view " + view.name() + " has not been materialized into the online store",
                        "run `granary feature materialize-incremental` (or `materialize --start ... --end ...`) first"));
        if (!checkpoint.dataset().equals(view.source().dataset().toString())) {
            throw new GranaryException("feature view " + view.name() + " was materialized from " + checkpoint.dataset() + ", but its source is now "
                    + view.source().dataset(), "materialize it again: `granary feature materialize-incremental --views " + view.name() + "`");
        }
        long atMicros = at.map(Materializer::toMicros).orElse(checkpoint.endMicros() - 1);
        Optional<Long> snapshot = checkpoint.snapshotId() < 0 ? Optional.empty() : Optional.of(checkpoint.snapshotId());
        List<List<Object>> keys = entities(view, snapshot, atMicros, sample);

        List<Object[]> offline = snapshot.isEmpty() ? nulls(keys.size(), view.features().size())
                : engineFor.apply(view, snapshot).valuesAt(view, snapshot, keys, atMicros);
        OnlineFeatures onlineFeatures = new OnlineFeatures(() -> registry, store,
                Clock.fixed(Instant.EPOCH.plus(atMicros, ChronoUnit.MICROS), ZoneOffset.UTC), (v, n) -> { });
        List<Mismatch> mismatches = new ArrayList<>();
        long online = 0;
        long withOffline = 0;
        long mismatched = 0;
        int keyCount = registry.joinKeys(view).size();
        for (int from = 0; from < keys.size(); from += ENTITIES_PER_REQUEST) {
            List<List<Object>> batch = keys.subList(from, Math.min(keys.size(), from + ENTITIES_PER_REQUEST));
            GetOnlineFeaturesResponse response = onlineFeatures.get(request(view, batch));
            for (int row = 0; row < batch.size(); row++) {
                boolean found = false;
                boolean offlineValue = false;
                boolean differs = false;
                for (int f = 0; f < view.features().size(); f++) {
                    Feature feature = view.features().get(f);
                    GetOnlineFeaturesResponse.FeatureVector vector = response.getResults(keyCount + f);
                    FieldStatus status = vector.getStatuses(row);
                    found |= status == FieldStatus.PRESENT || status == FieldStatus.NULL_VALUE;
                    Value served = status == FieldStatus.PRESENT ? vector.getValues(row) : Value.getDefaultInstance();
                    Value trained = FeatureValues.toValue(offline.get(from + row)[f], feature.dtype());
                    offlineValue |= trained.getValCase() != Value.ValCase.VAL_NOT_SET;
                    if (!served.equals(trained)) {
                        differs = true;
                        mismatches.add(new Mismatch(view.name(), entityText(view, batch.get(row)), feature.name(), served, status, trained));
                    }
                }
                online += found ? 1 : 0;
                withOffline += offlineValue ? 1 : 0;
                mismatched += differs ? 1 : 0;
            }
        }
        return new ViewCheck(view.name(), Instant.EPOCH.plus(atMicros, ChronoUnit.MICROS), checkpoint.snapshotId(), keys.size(), online,
                withOffline, mismatched, mismatches);
    }

    /**
     * The entities to check: the keys the store holds for the view and the keys its source has rows
     * for within the view's ttl before {@code atMicros}; all, or the {@code sample} whose keys hash lowest.
     */
    private List<List<Object>> entities(FeatureView view, Optional<Long> snapshot, long atMicros, OptionalInt sample) {
        Map<ByteBuffer, Boolean> keys = new LinkedHashMap<>();
        PriorityQueue<Hashed> lowest = new PriorityQueue<>(Comparator.<Hashed>naturalOrder().reversed());
        java.util.function.Consumer<byte[]> take = key -> {
            ByteBuffer wrapped = ByteBuffer.wrap(key);
            if (keys.putIfAbsent(wrapped, Boolean.TRUE) != null || sample.isEmpty()) {
                return;
            }
            lowest.add(new Hashed(hash(key), key));
            if (lowest.size() > sample.getAsInt()) {
                keys.remove(ByteBuffer.wrap(lowest.poll().key()));
            }
        };
        store.forEachKey(view.name(), take);
        snapshot.ifPresent(id -> sourceKeys(view, id, atMicros, take));
        List<ByteBuffer> chosen = new ArrayList<>(keys.keySet());
        chosen.sort(Comparator.comparing(key -> hash(key.array())));
        return chosen.stream().map(key -> EntityKeys.decode(key.array())).toList();
    }

    private record Hashed(long hash, byte[] key) implements Comparable<Hashed> {
        @Override
        public int compareTo(Hashed other) {
            int byHash = Long.compare(hash, other.hash);
            return byHash != 0 ? byHash : Arrays.compare(key, other.key);
        }
    }

    private static long hash(byte[] key) {
        CRC32C crc = new CRC32C();
        crc.update(key);
        return crc.getValue();
    }

    /** The entity keys of the source's rows with event time within the view's ttl before {@code atMicros} (no older bound without a ttl). */
    private void sourceKeys(FeatureView view, long snapshotId, long atMicros, java.util.function.Consumer<byte[]> action) {
        Table table = datasets.load(view.source().dataset());
        if (table.snapshot(snapshotId) == null) {
            throw GranaryException.notFound("snapshot " + snapshotId + " of " + view.source().dataset() + ", which feature view " + view.name()
                    + " was materialized from, is gone", "it was expired; materialize the view again");
        }
        List<String> joinKeys = registry.joinKeys(view);
        String timeColumn = view.source().timestampField();
        long fromMicros = view.ttlSeconds() > 0 ? atMicros - view.ttlSeconds() * 1_000_000L : Long.MIN_VALUE;
        List<String> columns = new ArrayList<>(joinKeys);
        columns.add(timeColumn);
        IcebergGenerics.ScanBuilder scan = IcebergGenerics.read(table).useSnapshot(snapshotId).select(columns.toArray(String[]::new));
        Types.NestedField time = table.schema().findField(timeColumn);
        if (time != null && time.type().typeId() == Type.TypeID.TIMESTAMP) {
            scan = scan.where(Expressions.and(Expressions.lessThanOrEqual(timeColumn, atMicros),
                    Expressions.greaterThanOrEqual(timeColumn, fromMicros)));
        }
        try (Progress progress = Progress.start("reading the keys of " + view.source().dataset(), "rows", -1);
             CloseableIterable<Record> records = scan.build()) {
            List<Object> values = new ArrayList<>(joinKeys.size());
            for (Record record : records) {
                progress.advance(1, 0);
                Object event = record.getField(timeColumn);
                if (event == null) {
                    continue;
                }
                long micros = FeatureValues.epochMicros(event);
                if (micros > atMicros || micros < fromMicros) {
                    continue;
                }
                values.clear();
                for (String joinKey : joinKeys) {
                    values.add(record.getField(joinKey));
                }
                if (!values.contains(null)) {
                    action.accept(EntityKeys.encode(values));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private GetOnlineFeaturesRequest request(FeatureView view, List<List<Object>> keys) {
        GetOnlineFeaturesRequest.Builder request = GetOnlineFeaturesRequest.newBuilder().setFullFeatureNames(true)
                .setFeatures(FeatureList.newBuilder().addAllVal(view.features().stream().map(f -> view.name() + ":" + f.name()).toList()));
        List<String> joinKeys = registry.joinKeys(view);
        for (int k = 0; k < joinKeys.size(); k++) {
            RepeatedValue.Builder column = RepeatedValue.newBuilder();
            for (List<Object> key : keys) {
                column.addVal(EntityKeys.toRequestValue(key.get(k)));
            }
            request.putEntities(joinKeys.get(k), column.build());
        }
        return request.build();
    }

    private String entityText(FeatureView view, List<Object> key) {
        List<String> joinKeys = registry.joinKeys(view);
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < joinKeys.size(); k++) {
            Object value = key.get(k);
            parts.add(joinKeys.get(k) + "=" + (value instanceof ByteBuffer buffer ? "0x" + java.util.HexFormat.of().formatHex(bytes(buffer)) : value));
        }
        return String.join(",", parts);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static List<Object[]> nulls(int rows, int features) {
        List<Object[]> nulls = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            nulls.add(new Object[features]);
        }
        return nulls;
    }
}
