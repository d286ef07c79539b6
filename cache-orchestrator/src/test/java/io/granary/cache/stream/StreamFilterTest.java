package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.cache.CacheFixture;
import io.granary.cache.NodeCache;
import io.granary.common.GranaryException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamFilterTest {

    @TempDir
    Path temp;

    @Test
    void filtersReadAsIcebergExpressions() {
        assertThat(StreamFilter.parse("label = 1 and country in ('FR', 'DE')").toString())
                .isEqualTo("(ref(name=\"label\") == 1 and ref(name=\"country\") in (\"FR\", \"DE\"))");
        assertThat(StreamFilter.parse("NOT (score < 0.5 OR score IS NULL)").toString())
                .isEqualTo("not((ref(name=\"score\") < 0.5 or is_null(ref(name=\"score\"))))");
        assertThat(StreamFilter.parse("`odd name` between 1 and 3").toString())
                .isEqualTo("(ref(name=\"odd name\") >= 1 and ref(name=\"odd name\") <= 3)");
        assertThat(StreamFilter.parse("path like 'it''s/%' or flag != true").toString())
                .isEqualTo("(ref(name=\"path\") startsWith \"\"it's/\"\" or ref(name=\"flag\") != true)");
        for (String bad : new String[] {"", "label =", "label = 1 and", "(label = 1", "label ~ 2", "label = 'x", "path like '%x%'", "1 = label",
                "label in (1, 2", "label = 1 2"}) {
            assertThatThrownBy(() -> StreamFilter.parse(bad)).as(bad).isInstanceOf(GranaryException.class).hasMessageContaining("'filter'");
        }
    }

    private static List<String[]> read(SnapshotStreams streams, SnapshotStreams.Planned planned, int rank) {
        List<String[]> rows = new ArrayList<>();
        try (BufferAllocator allocator = new RootAllocator();
             RankStream stream = streams.open(planned, rank, allocator);
             VectorSchemaRoot out = VectorSchemaRoot.create(stream.schema(), allocator)) {
            while (stream.next(out)) {
                for (int r = 0; r < out.getRowCount(); r++) {
                    rows.add(new String[] {Long.toString(((BigIntVector) out.getVector("id")).get(r)),
                        new String(((VarCharVector) out.getVector("payload")).get(r), StandardCharsets.UTF_8)});
                }
            }
        }
        return rows;
    }

    @Test
    void aFilteredStreamIsTheRowsThatPassSplitEquallyOverRanks() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 4, 150, 6);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
                SnapshotStreams streams = new SnapshotStreams(cache);
                List<String[]> all = read(streams, streams.plan(streams.pin(StreamRequest.of("demo.events", 1))), 0);
                assertThat(all).hasSize(600);
                String filter = "id > 0 and (payload like 'a%' or payload >= 'c')";
                Map<String, Integer> expected = new HashMap<>();
                for (String[] row : all) {
                    if (Long.parseLong(row[0]) > 0 && (row[1].startsWith("a") || row[1].compareTo("c") >= 0)) {
                        expected.put(row[0], 1);
                    }
                }
                assertThat(expected.size()).isBetween(50, 400);
                for (int worldSize : new int[] {1, 3}) {
                    SnapshotStreams.Planned planned = streams.plan(streams.pin(StreamRequest.of("demo.events", worldSize)
                            .with("filter", filter).with("drop_last", true).with("batch_rows", 7).with("shuffle", "units")));
                    Map<String, Integer> seen = new HashMap<>();
                    for (int rank = 0; rank < worldSize; rank++) {
                        List<String[]> rows = read(streams, planned, rank);
                        assertThat(rows).hasSize(expected.size() / worldSize);
                        rows.forEach(row -> seen.merge(row[0], 1, Integer::sum));
                    }
                    assertThat(seen.values()).allMatch(n -> n == 1);
                    assertThat(expected.keySet()).containsAll(seen.keySet());
                    assertThat(seen).hasSize(expected.size() / worldSize * worldSize);
                }
                // nothing passes: an empty stream, not an error
                SnapshotStreams.Planned none = streams.plan(streams.pin(StreamRequest.of("demo.events", 2).with("filter", "id > 0 and id < 0")));
                assertThat(read(streams, none, 1)).isEmpty();

                assertThatThrownBy(() -> streams.plan(streams.pin(StreamRequest.of("demo.events", 1).with("filter", "nope = 1"))))
                        .hasMessageContaining("'filter'").hasMessageContaining("nope");
                assertThatThrownBy(() -> streams.plan(streams.pin(StreamRequest.of("demo.events", 1).with("filter", "id = 'abc'"))))
                        .hasMessageContaining("'filter'");
            }
        }
    }
}
