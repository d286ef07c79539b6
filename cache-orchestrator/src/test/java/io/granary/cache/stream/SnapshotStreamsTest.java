package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.cache.CacheFixture;
import io.granary.cache.NodeCache;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ranks of a real table snapshot streamed from a real cache: what every rank gets, together. */
class SnapshotStreamsTest {

    @TempDir
    Path temp;

    private static StreamRequest request(String json) {
        return StreamRequest.fromJson(json.getBytes(StandardCharsets.UTF_8));
    }

    /** The ids rank {@code rank} receives, in order, and the sizes of its batches. */
    private static List<Long> ids(SnapshotStreams streams, SnapshotStreams.Planned planned, int rank, List<Integer> batchSizes) {
        List<Long> ids = new ArrayList<>();
        try (BufferAllocator allocator = new RootAllocator();
             RankStream stream = streams.open(planned, rank, allocator);
             VectorSchemaRoot out = VectorSchemaRoot.create(stream.schema(), allocator)) {
            while (stream.next(out)) {
                batchSizes.add(out.getRowCount());
                BigIntVector id = (BigIntVector) out.getVector("id");
                for (int r = 0; r < out.getRowCount(); r++) {
                    ids.add(id.get(r));
                }
            }
        }
        return ids;
    }

    @Test
    void ranksOfATableGetEqualDisjointShares() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            DatasetRef table = fixture.table("demo.events", 5, 97, 1);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                for (boolean shuffled : new boolean[] {false, true}) {
                    StreamRequest pinned = streams.pin(request("{\"dataset\": \"demo.events\", \"world_size\": 3, \"batch_rows\": 40, "
                            + "\"drop_last\": true, \"shuffle\": \"" + (shuffled ? "buffer" : "none") + "\", \"shuffle_buffer\": 50, \"seed\": 4}"));
                    assertThat(pinned.dataset()).isEqualTo(table);
                    SnapshotStreams.Planned planned = streams.plan(pinned);
                    Map<Long, Integer> seen = new HashMap<>();
                    List<List<Long>> perRank = new ArrayList<>();
                    for (int rank = 0; rank < 3; rank++) {
                        List<Integer> batches = new ArrayList<>();
                        List<Long> ids = ids(streams, planned, rank, batches);
                        assertThat(ids).hasSize(485 / 3);
                        assertThat(batches).allMatch(size -> size <= 40);
                        ids.forEach(id -> seen.merge(id, 1, Integer::sum));
                        perRank.add(ids);
                    }
                    assertThat(seen.values()).allMatch(n -> n == 1);
                    assertThat(seen).hasSize(485 / 3 * 3);

                    // decoding each next unit ahead on other threads changes nothing
                    java.util.concurrent.ExecutorService prefetcher = java.util.concurrent.Executors.newFixedThreadPool(2);
                    try (BufferAllocator allocator = new RootAllocator()) {
                        // twice: the second stream decodes into the buffers the first one's row groups left behind
                        for (int round = 0; round < 2; round++) {
                            List<Long> ahead = new ArrayList<>();
                            try (RankStream stream = streams.open(planned, 2, allocator, prefetcher);
                                 VectorSchemaRoot out = VectorSchemaRoot.create(stream.schema(), allocator)) {
                                while (stream.next(out)) {
                                    for (int r = 0; r < out.getRowCount(); r++) {
                                        ahead.add(((BigIntVector) out.getVector("id")).get(r));
                                    }
                                }
                            }
                            assertThat(ahead).isEqualTo(perRank.get(2));
                        }
                        planned.units().release();
                    } finally {
                        prefetcher.shutdownNow();
                    }

                    // a resumed rank continues exactly where the uninterrupted one was
                    SnapshotStreams.Planned resumed = streams.plan(StreamRequest.fromJson(new String(pinned.toJson(), StandardCharsets.UTF_8)
                            .replace("\"start_row\":0", "\"start_row\":57").getBytes(StandardCharsets.UTF_8)));
                    assertThat(ids(streams, resumed, 1, new ArrayList<>())).isEqualTo(perRank.get(1).subList(57, perRank.get(1).size()));
                }
            }
        }
    }

    @Test
    void badRequestsNameWhatIsWrong() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 1, 10, 1);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                assertThatThrownBy(() -> streams.pin(request("{\"dataset\": \"demo.nope\"}"))).isInstanceOf(GranaryException.class)
                        .hasMessageContaining("demo.nope");
                assertThatThrownBy(() -> streams.plan(streams.pin(request("{\"dataset\": \"demo.events\", \"columns\": [\"nope\"]}"))))
                        .hasMessageContaining("'columns'").hasMessageContaining("no top-level column 'nope'");
                SnapshotStreams.Planned planned = streams.plan(streams.pin(request("{\"dataset\": \"demo.events\", \"world_size\": 2}")));
                try (BufferAllocator allocator = new RootAllocator()) {
                    assertThatThrownBy(() -> streams.open(planned, 2, allocator)).hasMessageContaining("rank 2 is out of range");
                }
                SnapshotStreams.Planned late = streams.plan(streams.pin(request("{\"dataset\": \"demo.events\", \"start_row\": 11}")));
                try (BufferAllocator allocator = new RootAllocator()) {
                    assertThatThrownBy(() -> streams.open(late, 0, allocator)).hasMessageContaining("'start_row'");
                }
            }
        }
    }

    @Test
    void aStreamedSnapshotIsPinnedUntilTheServerLetsGo() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 2, 10, 1);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                streams.plan(streams.pin(request("{\"dataset\": \"demo.events\"}")));
                // another epoch of the same snapshot reuses what was planned: no second pin
                streams.plan(streams.pin(request("{\"dataset\": \"demo.events\", \"epoch\": 1}")));
                assertThat(cache.status().snapshots()).singleElement().satisfies(s -> assertThat(s.pinnedBy()).hasSize(1)
                        .allMatch(p -> p.contains("serve data")));
                streams.close();
                assertThat(cache.status().snapshots()).singleElement().satisfies(s -> assertThat(s.pinnedBy()).isEmpty());
            }
        }
    }

    @Test
    void aLaterStreamDecodesIntoTheVectorsAnEarlierOneLeftBehind() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 1, 20_000, 1);
            java.util.concurrent.ExecutorService prefetcher = java.util.concurrent.Executors.newFixedThreadPool(2);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 BufferAllocator allocator = new RootAllocator()) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                SnapshotStreams.Planned planned = streams.plan(streams.pin(request("{\"dataset\": \"demo.events\", \"batch_rows\": 1000}")));
                List<List<Long>> rounds = new ArrayList<>();
                long kept = 0;
                for (int round = 0; round < 2; round++) {
                    List<Long> ids = new ArrayList<>();
                    try (RankStream stream = streams.open(planned, 0, allocator, prefetcher);
                         VectorSchemaRoot out = VectorSchemaRoot.create(stream.schema(), allocator)) {
                        long before = allocator.getAllocatedMemory();
                        assertThat(stream.next(out)).isTrue();
                        if (round == 1) {
                            // the row group's vectors are the ones the first stream left behind, not new ones
                            assertThat(allocator.getAllocatedMemory() - before).as("grown").isLessThan(20_000 * 8);
                        }
                        do {
                            BigIntVector id = (BigIntVector) out.getVector("id");
                            for (int r = 0; r < out.getRowCount(); r++) {
                                ids.add(id.get(r));
                            }
                        } while (stream.next(out));
                    }
                    kept = allocator.getAllocatedMemory();
                    assertThat(kept).as("the vectors kept for the next stream").isGreaterThan(20_000 * 8);
                    rounds.add(ids);
                }
                assertThat(rounds.get(1)).hasSize(20_000).isEqualTo(rounds.get(0));
                planned.units().release();
            } finally {
                prefetcher.shutdownNow();
            }
        }
    }
}
