package io.granary.feature.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import feast.proto.types.ValueProto.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksDbOnlineStoreTest {

    @TempDir
    Path dir;

    private static List<OnlineRow> round(int round, int count) {
        List<OnlineRow> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            rows.add(new OnlineRow(1, round, 0, List.of(Value.newBuilder().setInt64Val(round * 1000L + i).build(), Value.getDefaultInstance())));
        }
        return rows;
    }

    @Test
    void aFollowingReaderSeesEveryRoundAsTheWriterFlushesAndCompacts() throws Exception {
        Path path = dir.resolve("online");
        List<byte[]> keys = new ArrayList<>();
        for (long id = 0; id < 200; id++) {
            keys.add(EntityKeys.encode(List.of(id)));
        }
        try (RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(path)) {
            writer.writeNewer("v", keys, round(1, keys.size()), Optional.empty());
            writer.finishWrites("v", keys.size());
            try (RocksDbOnlineStore reader = RocksDbOnlineStore.openReader(path)) {
                // a server follows the writer all the time, so its catch-ups fall between any two steps of a write
                AtomicBoolean writing = new AtomicBoolean(true);
                Thread follower = new Thread(() -> {
                    while (writing.get()) {
                        reader.catchUp();
                    }
                });
                follower.start();
                try {
                    followRounds(writer, reader, keys);
                } finally {
                    writing.set(false);
                    follower.join();
                }
                Map<String, List<Optional<EncodedRow>>> encoded = reader.read(Map.of("v", List.of(keys.get(3)), "absent", List.of(keys.get(3))));
                EncodedRow row = encoded.get("v").get(0).orElseThrow();
                assertThat(row.eventTimeMicros()).isEqualTo(30);
                assertThat(row.valueCount()).isEqualTo(2);
                assertThat(row.isNull(0)).isFalse();
                assertThat(row.isNull(1)).isTrue();
                assertThat(encoded.get("absent").get(0)).isEmpty();
            }
        }
    }

    private static void followRounds(RocksDbOnlineStore writer, RocksDbOnlineStore reader, List<byte[]> keys) {
        for (int round = 2; round <= 30; round++) {
            // every other round a bulk load (compacted), else a partial update (flushed only)
            int count = round % 2 == 0 ? keys.size() : 10;
            writer.writeNewer("v", keys.subList(0, count), round(round, count), Optional.empty());
            writer.finishWrites("v", count);
            reader.catchUp();
            List<Optional<OnlineRow>> rows = reader.read("v", List.of(keys.get(0), keys.get(150)));
            assertThat(rows.get(0).orElseThrow().values().get(0).getInt64Val()).as("round %d, key 0", round).isEqualTo(round * 1000L);
            int lastFull = round % 2 == 0 ? round : round - 1;
            assertThat(rows.get(1).orElseThrow().values().get(0).getInt64Val()).as("round %d, key 150", round)
                    .isEqualTo(lastFull * 1000L + 150);
        }
    }

    @Test
    void aLargeReadReturnsEveryViewsRowsInRequestOrder() {
        Path path = dir.resolve("online");
        List<byte[]> written = new ArrayList<>();
        for (long id = 0; id < 1000; id += 2) {
            written.add(EntityKeys.encode(List.of(id)));
        }
        List<OnlineRow> rows = new ArrayList<>();
        for (long id = 0; id < 1000; id += 2) {
            rows.add(new OnlineRow(1, id, 0, List.of(Value.newBuilder().setInt64Val(id).build())));
        }
        try (RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(path)) {
            writer.writeNewer("a", written, rows, Optional.empty());
            writer.writeNewer("b", written, rows, Optional.empty());
        }
        // more keys than one part of a split read, odd ones absent, in a shuffled order, over two views and one unknown view
        List<byte[]> asked = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        for (long id = 999; id >= 0; id--) {
            ids.add((id * 7919) % 1000);
        }
        ids.forEach(id -> asked.add(EntityKeys.encode(List.of(id))));
        try (RocksDbOnlineStore reader = RocksDbOnlineStore.openReader(path)) {
            Map<String, List<Optional<EncodedRow>>> found = reader.read(Map.of("a", asked, "b", asked.subList(0, 300), "c", asked));
            for (String view : List.of("a", "b")) {
                List<Optional<EncodedRow>> viewRows = found.get(view);
                for (int i = 0; i < viewRows.size(); i++) {
                    long id = ids.get(i);
                    assertThat(viewRows.get(i).map(EncodedRow::eventTimeMicros)).as("view %s, id %d", view, id)
                            .isEqualTo(id % 2 == 0 ? Optional.of(id) : Optional.empty());
                }
            }
            assertThat(found.get("b")).hasSize(300);
            assertThat(found.get("c")).hasSize(1000).allMatch(Optional::isEmpty);
        }
    }

    @Test
    void aStoreInTheOlderTableFormatIsNamedWithTheWayOut() throws Exception {
        Path path = dir.resolve("online");
        // what Granary wrote before its store held plain tables: RocksDB's default block-based tables
        try (org.rocksdb.Options options = new org.rocksdb.Options().setCreateIfMissing(true);
             org.rocksdb.RocksDB db = org.rocksdb.RocksDB.open(options, path.toString());
             org.rocksdb.FlushOptions flush = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
            db.put(EntityKeys.encode(List.of(1L)), new byte[] {1});
            db.flush(flush);
        }
        for (boolean writer : new boolean[] {true, false}) {
            assertThatThrownBy(() -> (writer ? RocksDbOnlineStore.openWriter(path) : RocksDbOnlineStore.openReader(path)).close())
                    .isInstanceOf(io.granary.common.GranaryException.class)
                    .hasMessageContaining("was written in an older table format")
                    .satisfies(e -> assertThat(((io.granary.common.GranaryException) e).hint()).contains("granary feature materialize"));
        }
    }

    @Test
    void anOlderRowNeverReplacesANewerOne() {
        byte[] key = EntityKeys.encode(List.of("u1"));
        try (RocksDbOnlineStore store = RocksDbOnlineStore.openWriter(dir.resolve("online"))) {
            OnlineRow newer = new OnlineRow(1, 200, 5, List.of(Value.newBuilder().setStringVal("new").build()));
            OnlineRow older = new OnlineRow(1, 100, 9, List.of(Value.newBuilder().setStringVal("old").build()));
            OnlineRow sameTimeLaterCreated = new OnlineRow(1, 200, 6, List.of(Value.newBuilder().setStringVal("recomputed").build()));

            assertThat(store.writeNewer("v", List.of(key), List.of(newer), Optional.empty())).isEqualTo(1);
            assertThat(store.writeNewer("v", List.of(key), List.of(older), Optional.empty())).isZero();
            assertThat(store.read("v", List.of(key)).get(0).orElseThrow().values().get(0).getStringVal()).isEqualTo("new");
            assertThat(store.writeNewer("v", List.of(key), List.of(sameTimeLaterCreated), Optional.empty())).isEqualTo(1);
            assertThat(store.read("v", List.of(key)).get(0).orElseThrow().values().get(0).getStringVal()).isEqualTo("recomputed");
        }
    }

    @Test
    void writesLeaveNoLogForAServerToReplay() throws Exception {
        Path path = dir.resolve("online");
        try (RocksDbOnlineStore store = RocksDbOnlineStore.openWriter(path)) {
            store.writeNewer("v", List.of(EntityKeys.encode(List.of(1L))), round(1, 1), Optional.of(new OnlineStore.StateRecord("s", new byte[] {1})));
            try (Stream<Path> files = Files.list(path)) {
                assertThat(files.filter(f -> f.toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum())
                        .as("rows and state are in tables, not only in the write-ahead log").isZero();
            }
            assertThat(store.state("s")).contains(new byte[] {1});
        }
    }

    @Test
    void everyKeyOfAViewIsListedOnceAcrossFlushedTablesAndFromAFollowingReader() {
        Path path = dir.resolve("online");
        List<byte[]> keys = new ArrayList<>();
        for (long id = 0; id < 300; id++) {
            keys.add(EntityKeys.encode(List.of(id, "k" + id)));
        }
        try (RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(path)) {
            // three flushes: three tables, with keys 100-199 in two of them
            writer.writeNewer("v", keys.subList(0, 200), round(1, 200), Optional.empty());
            writer.writeNewer("v", keys.subList(100, 300), round(2, 200), Optional.empty());
            writer.writeNewer("other", keys.subList(0, 5), round(1, 5), Optional.empty());
            try (RocksDbOnlineStore reader = RocksDbOnlineStore.openReader(path)) {
                for (RocksDbOnlineStore store : List.of(writer, reader)) {
                    List<List<Object>> listed = new ArrayList<>();
                    store.forEachKey("v", key -> listed.add(EntityKeys.decode(key)));

                    assertThat(listed).hasSize(300).doesNotHaveDuplicates().contains(List.of(0L, "k0"), List.of(299L, "k299"));
                    List<byte[]> none = new ArrayList<>();
                    store.forEachKey("absent", none::add);
                    assertThat(none).isEmpty();
                }
            }
        }
    }

    @Test
    void keysDecodeToTheValuesTheyWereMadeOf() {
        List<Object> values = List.of(-7L, "ünï", java.nio.ByteBuffer.wrap(new byte[] {1, 2}), true);

        assertThat(EntityKeys.decode(EntityKeys.encode(values))).isEqualTo(values);
        assertThat(EntityKeys.decode(EntityKeys.encode(List.of(3)))).containsExactly(3L);
    }

    @Test
    void aRowWrittenLaterWinsAFullTieAndRowsOfTheFirstFormatAreStillRead() {
        Value old = Value.newBuilder().setStringVal("old").build();
        OnlineRow first = new OnlineRow(1, 100, 5, 3, 7, List.of(old));
        OnlineRow laterRowOfTheCommit = new OnlineRow(1, 100, 5, 3, 8, List.of(old));
        OnlineRow laterCommit = new OnlineRow(1, 100, 5, 4, 0, List.of(old));

        assertThat(laterRowOfTheCommit.isNewerThan(first)).isTrue();
        assertThat(laterCommit.isNewerThan(laterRowOfTheCommit)).isTrue();
        assertThat(first.isNewerThan(laterCommit)).isFalse();
        assertThat(first.isNewerThan(first)).isFalse();
        assertThat(new OnlineRow(1, 100, 6, 0, 0, List.of(old)).isNewerThan(laterCommit)).as("created time first").isTrue();
        EncodedRow stored = new EncodedRow(laterCommit.encode());
        assertThat(stored.sequenceNumber()).isEqualTo(4);
        assertThat(stored.rowOrder()).isZero();
        assertThat(stored.decode()).isEqualTo(laterCommit);

        // format 1: format, layout, event time, created time, then the values; no write order
        byte[] format1 = new byte[1 + 4 + 8 + 8 + 1 + old.getSerializedSize()];
        java.nio.ByteBuffer out = java.nio.ByteBuffer.wrap(format1).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.put((byte) 1).putInt(1).putLong(100).putLong(5).put((byte) old.getSerializedSize()).put(old.toByteArray());
        EncodedRow legacy = new EncodedRow(format1);
        assertThat(legacy.eventTimeMicros()).isEqualTo(100);
        assertThat(legacy.sequenceNumber()).isZero();
        assertThat(legacy.valueCount()).isEqualTo(1);
        assertThat(legacy.decode().values()).containsExactly(old);
        assertThat(first.isNewerThan(legacy)).as("a row with a write order beats one without").isTrue();
    }
}
