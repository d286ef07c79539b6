package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.cache.CacheFixture;
import io.granary.cache.NodeCache;
import io.granary.dataset.DatasetName;
import io.granary.packer.PackOptions;
import io.granary.packer.Packer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real packed media set streamed from a real cache: samples as rows, members as bytes, ranks disjoint and complete. */
class PackedStreamsTest {

    @TempDir
    Path temp;

    private static StreamRequest request(String json) {
        return StreamRequest.fromJson(json.getBytes(StandardCharsets.UTF_8));
    }

    /** Packs speakers x utterances samples (a .wav with random bytes, a .json, and every third one a .txt) with a metadata sidecar. */
    private static Path source(Path dir, int speakers, int utterances) throws Exception {
        java.util.Random random = new java.util.Random(7);
        StringBuilder metadata = new StringBuilder("key,speaker,minutes\n");
        for (int s = 0; s < speakers; s++) {
            for (int u = 0; u < utterances; u++) {
                String key = "spk" + s + "/utt" + u;
                byte[] wav = new byte[500 + random.nextInt(5_000)];
                random.nextBytes(wav);
                Files.createDirectories(dir.resolve("spk" + s));
                Files.write(dir.resolve(key + ".wav"), wav);
                Files.writeString(dir.resolve(key + ".json"), "{\"speaker\": " + s + "}");
                if (u % 3 == 0) {
                    Files.writeString(dir.resolve(key + ".txt"), "words of " + key);
                }
                metadata.append(key).append(",spk").append(s).append(',').append(u * 10 + s).append('\n');
            }
        }
        Path sidecar = dir.resolveSibling("metadata.csv");
        Files.writeString(sidecar, metadata.toString());
        return sidecar;
    }

    private record Received(List<String> keys, List<Integer> batchSizes) {}

    private static Received read(SnapshotStreams streams, SnapshotStreams.Planned planned, int rank, Path source) throws Exception {
        List<String> keys = new ArrayList<>();
        List<Integer> batches = new ArrayList<>();
        try (BufferAllocator allocator = new RootAllocator();
             RankStream stream = streams.open(planned, rank, allocator);
             VectorSchemaRoot out = VectorSchemaRoot.create(stream.schema(), allocator)) {
            while (stream.next(out)) {
                batches.add(out.getRowCount());
                VarCharVector key = (VarCharVector) out.getVector(ShardUnits.KEY);
                VarBinaryVector wav = (VarBinaryVector) out.getVector("wav");
                VarBinaryVector txt = (VarBinaryVector) out.getVector("txt");
                for (int r = 0; r < out.getRowCount(); r++) {
                    String k = new String(key.get(r), StandardCharsets.UTF_8);
                    keys.add(k);
                    assertThat(wav.get(r)).as(k).isEqualTo(Files.readAllBytes(source.resolve(k + ".wav")));
                    Path text = source.resolve(k + ".txt");
                    if (Files.exists(text)) {
                        assertThat(txt.get(r)).isEqualTo(Files.readAllBytes(text));
                    } else {
                        assertThat(txt.isNull(r)).as(k + " has no .txt").isTrue();
                    }
                    int speaker = Integer.parseInt(k.substring(3, k.indexOf('/')));
                    int utterance = Integer.parseInt(k.substring(k.indexOf("utt") + 3));
                    assertThat(new String(((VarCharVector) out.getVector("speaker")).get(r), StandardCharsets.UTF_8)).isEqualTo("spk" + speaker);
                    assertThat(((BigIntVector) out.getVector("minutes")).get(r)).isEqualTo(utterance * 10L + speaker);
                }
            }
        }
        return new Received(keys, batches);
    }

    @Test
    void ranksOfAPackedSetGetEqualDisjointSharesOfWholeSamples() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            Path source = temp.resolve("speech");
            Path metadata = source(source, 7, 11);
            new Packer(fixture.datasets, false).pack(PackOptions.builder(source, temp.resolve("shards"))
                    .dataset(DatasetName.parse("demo.speech")).metadata(metadata).samplesPerShard(9).build());
            int samples = 7 * 11;
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                SnapshotStreams.Planned all = streams.plan(streams.pin(request("{\"dataset\": \"demo.speech\"}")));
                assertThat(all.schema().getFields()).extracting(f -> f.getName())
                        .containsExactly("__key__", "json", "txt", "wav", "speaker", "minutes");
                assertThat(all.schema().findField("wav").getType()).isEqualTo(ArrowType.Binary.INSTANCE);
                assertThat(all.epoch().totalRows()).isEqualTo(samples);
                for (int worldSize : new int[] {1, 2, 3, 8}) {
                    for (boolean dropLast : new boolean[] {false, true}) {
                        SnapshotStreams.Planned planned = streams.plan(streams.pin(request("{\"dataset\": \"demo.speech\", \"world_size\": "
                                + worldSize + ", \"drop_last\": " + dropLast + ", \"batch_rows\": 5, \"shuffle\": \"units\", \"seed\": 3}")));
                        long perRank = dropLast ? samples / worldSize : (samples + worldSize - 1) / worldSize;
                        Map<String, Integer> seen = new HashMap<>();
                        for (int rank = 0; rank < worldSize; rank++) {
                            Received received = read(streams, planned, rank, source);
                            assertThat(received.keys()).as("rank %d of %d", rank, worldSize).hasSize((int) perRank);
                            assertThat(received.batchSizes()).allMatch(size -> size <= 5);
                            received.keys().forEach(key -> seen.merge(key, 1, Integer::sum));
                        }
                        if (dropLast) {
                            assertThat(seen).hasSize((int) (perRank * worldSize));
                            assertThat(seen.values()).allMatch(n -> n == 1);
                        } else {
                            assertThat(seen).hasSize(samples);
                            assertThat(seen.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(perRank * worldSize);
                        }
                    }
                }
            }
        }
    }

    @Test
    void projectionAndUnknownColumnsOfAPackedSet() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            Path shards = temp.resolve("shards");
            fixture.packed("demo.speech", shards, 2, 5, 1);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                SnapshotStreams.Planned planned = streams.plan(streams.pin(request("{\"dataset\": \"demo.speech\", \"columns\": [\"wav\", \"__key__\"]}")));
                assertThat(planned.schema().getFields()).extracting(f -> f.getName()).containsExactly("wav", "__key__");
                int rows = 0;
                try (BufferAllocator allocator = new RootAllocator();
                     RankStream stream = streams.open(planned, 0, allocator);
                     VectorSchemaRoot out = VectorSchemaRoot.create(stream.schema(), allocator)) {
                    while (stream.next(out)) {
                        rows += out.getRowCount();
                        assertThat(((VarBinaryVector) out.getVector(0)).get(0).length).isGreaterThanOrEqualTo(2000);
                    }
                }
                assertThat(rows).isEqualTo(10);
                assertThatThrownBy(() -> streams.plan(streams.pin(request("{\"dataset\": \"demo.speech\", \"columns\": [\"flac\"]}"))))
                        .hasMessageContaining("'columns'").hasMessageContaining("no column 'flac'")
                        .satisfies(e -> assertThat(((io.granary.common.GranaryException) e).hint()).contains("__key__, json, wav"));
            }
        }
    }

    @Test
    void batchesOfBigMembersStopAtAboutEightMegabytes() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            Path source = temp.resolve("big");
            Files.createDirectories(source);
            for (int s = 0; s < 7; s++) {
                Files.write(source.resolve("utt" + s + ".wav"), new byte[3 << 20]);
            }
            new Packer(fixture.datasets, false).pack(PackOptions.builder(source, temp.resolve("shards")).dataset(DatasetName.parse("demo.big")).build());
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                for (String shuffle : new String[] {"none", "buffer"}) {
                    SnapshotStreams.Planned planned = streams.plan(streams.pin(request("{\"dataset\": \"demo.big\", \"batch_rows\": 100, "
                            + "\"shuffle\": \"" + shuffle + "\", \"shuffle_buffer\": 4}")));
                    List<Integer> batches = new ArrayList<>();
                    try (BufferAllocator allocator = new RootAllocator();
                         RankStream stream = streams.open(planned, 0, allocator);
                         VectorSchemaRoot out = VectorSchemaRoot.create(stream.schema(), allocator)) {
                        while (stream.next(out)) {
                            batches.add(out.getRowCount());
                        }
                    }
                    assertThat(batches).as(shuffle).allMatch(rows -> rows <= 2);
                    assertThat(batches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(7);
                }
            }
        }
    }

    @Test
    void aTableOfIndexRowsLikeAMediaSamplesOutputGetsItsMembersBytes() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            Path source = temp.resolve("speech");
            source(source, 3, 4);
            new Packer(fixture.datasets, false).pack(PackOptions.builder(source, temp.resolve("shards"))
                    .dataset(DatasetName.parse("demo.speech")).samplesPerShard(5).build());
            long packed = fixture.datasets.resolve(io.granary.dataset.DatasetRef.latest(DatasetName.parse("demo.speech"))).snapshot().orElseThrow().snapshotId();
            // the .wav rows of the index with a label, committed as made from demo.speech (as a media-samples run commits its splits)
            org.apache.iceberg.Schema schema = new org.apache.iceberg.Schema(
                    org.apache.iceberg.types.Types.NestedField.required(1, "key", org.apache.iceberg.types.Types.StringType.get()),
                    org.apache.iceberg.types.Types.NestedField.required(2, "ext", org.apache.iceberg.types.Types.StringType.get()),
                    org.apache.iceberg.types.Types.NestedField.required(3, "shard", org.apache.iceberg.types.Types.StringType.get()),
                    org.apache.iceberg.types.Types.NestedField.required(4, "offset", org.apache.iceberg.types.Types.LongType.get()),
                    org.apache.iceberg.types.Types.NestedField.required(5, "size", org.apache.iceberg.types.Types.LongType.get()),
                    org.apache.iceberg.types.Types.NestedField.optional(6, "label", org.apache.iceberg.types.Types.IntegerType.get()));
            DatasetName train = DatasetName.parse("demo.speech_train");
            fixture.datasets.createEmpty(train, schema, Map.of());
            List<Object[]> rows = new ArrayList<>();
            for (io.granary.packer.IndexRow row : io.granary.packer.ShardSet.open(fixture.datasets, DatasetName.parse("demo.speech")).index().rows()) {
                if (row.extension().equals("wav")) {
                    rows.add(new Object[] {row.key(), row.extension(), row.shard(), row.offset(), row.size(), row.key().length()});
                }
            }
            io.granary.dataset.testing.TestTables.appendFiles(fixture.datasets, train, List.of(rows),
                    new io.granary.dataset.Provenance("sample run speech", "run-1", "test", List.of("demo.speech@" + packed)));
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                SnapshotStreams.Planned planned = streams.plan(streams.pin(request("{\"dataset\": \"demo.speech_train\", \"columns\": [\"key\", \"label\"], "
                        + "\"world_size\": 2, \"batch_rows\": 4}")));
                assertThat(planned.schema().getFields()).extracting(f -> f.getName()).containsExactly("key", "label", "wav");
                Map<String, Integer> seen = new HashMap<>();
                for (int rank = 0; rank < 2; rank++) {
                    try (BufferAllocator allocator = new RootAllocator();
                         RankStream stream = streams.open(planned, rank, allocator);
                         VectorSchemaRoot out = VectorSchemaRoot.create(stream.schema(), allocator)) {
                        while (stream.next(out)) {
                            for (int r = 0; r < out.getRowCount(); r++) {
                                String key = new String(((VarCharVector) out.getVector("key")).get(r), StandardCharsets.UTF_8);
                                assertThat(((VarBinaryVector) out.getVector("wav")).get(r)).as(key).isEqualTo(Files.readAllBytes(source.resolve(key + ".wav")));
                                assertThat(((org.apache.arrow.vector.IntVector) out.getVector("label")).get(r)).isEqualTo(key.length());
                                seen.merge(key, 1, Integer::sum);
                            }
                        }
                    }
                }
                assertThat(seen).hasSize(12);
                // the shard set is pinned beside the table while streams may read it
                assertThat(cache.status().snapshots()).hasSize(2).allSatisfy(s -> assertThat(s.pinnedBy()).isNotEmpty());
                streams.close();
                assertThat(cache.status().snapshots()).allSatisfy(s -> assertThat(s.pinnedBy()).isEmpty());
            }
        }
    }
}
