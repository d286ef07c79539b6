package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StreamRequestTest {

    private static StreamRequest json(String text) {
        return StreamRequest.fromJson(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void everyKeyButTheDatasetHasItsDefault() {
        StreamRequest request = json("{\"dataset\": \"demo.ctr_samples_train@day2\"}");
        assertThat(request.dataset().toString()).isEqualTo("demo.ctr_samples_train@day2");
        assertThat(request.columns()).isEmpty();
        assertThat(request.filter()).isEmpty();
        assertThat(request.batchRows()).isEqualTo(65_536);
        assertThat(request.worldSize()).isEqualTo(1);
        assertThat(request.epoch()).isZero();
        assertThat(request.seed()).isZero();
        assertThat(request.shuffle()).isEqualTo(Shuffle.NONE);
        assertThat(request.mode()).isEqualTo(StreamRequest.Mode.STATIC);
        assertThat(request.dropLast()).isFalse();
        assertThat(request.startRow()).isZero();
        assertThat(request.consumed()).isEmpty();
    }

    @Test
    void theDocumentedFormRoundTripsAndQueryParametersMeanTheSame() {
        StreamRequest full = json("{\"dataset\": \"demo.clicks\", \"columns\": [\"user_id\", \"label\"], \"filter\": \"label = 1\", "
                + "\"batch_rows\": 1024, \"world_size\": 3, \"epoch\": 2, \"seed\": -5, \"shuffle\": \"buffer\", \"shuffle_buffer\": 4096, "
                + "\"mode\": \"dynamic\", \"drop_last\": true, \"start_row\": 0, \"consumed\": {\"world_size\": 2, \"rows\": [10, 12]}}");
        assertThat(full.columns()).contains(List.of("user_id", "label"));
        assertThat(full.consumed().orElseThrow().rowsPerRank()).containsExactly(10, 12);
        StreamRequest again = StreamRequest.fromJson(full.toJson());
        assertThat(again.toJson()).isEqualTo(full.toJson());

        StreamRequest query = StreamRequest.fromQuery(new java.util.TreeMap<>(Map.ofEntries(Map.entry("dataset", "demo.clicks"),
                Map.entry("columns", "user_id,label"), Map.entry("filter", "label = 1"), Map.entry("batch_rows", "1024"),
                Map.entry("world_size", "3"), Map.entry("epoch", "2"), Map.entry("seed", "-5"), Map.entry("shuffle", "buffer"),
                Map.entry("shuffle_buffer", "4096"), Map.entry("mode", "dynamic"), Map.entry("drop_last", "true"),
                Map.entry("consumed", "2:10,12"))));
        assertThat(query.toJson()).isEqualTo(full.toJson());
    }

    @Test
    void badDescriptorsNameTheKey() {
        assertThatThrownBy(() -> json("{\"dataset\": ")).isInstanceOf(GranaryException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> json("[1]")).hasMessageContaining("must be a JSON object");
        assertThatThrownBy(() -> json("{}")).hasMessageContaining("'dataset' is missing");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"batch_row\": 5}")).hasMessageContaining("unknown descriptor key 'batch_row'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"batch_rows\": 0}")).hasMessageContaining("'batch_rows' must be at least 1, not 0");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"world_size\": \"two\"}")).hasMessageContaining("'world_size' must be a whole number");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"world_size\": 0}")).hasMessageContaining("'world_size'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"shuffle\": \"rows\"}")).hasMessageContaining("'shuffle'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"shuffle\": \"buffer\"}")).hasMessageContaining("'shuffle_buffer'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"mode\": \"fast\"}")).hasMessageContaining("'mode'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"drop_last\": 1}")).hasMessageContaining("'drop_last'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"start_row\": -1}")).hasMessageContaining("'start_row'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"columns\": \"a\"}")).hasMessageContaining("'columns'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"consumed\": {\"world_size\": 2, \"rows\": [1]}}"))
                .hasMessageContaining("'consumed'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"consumed\": {\"rows\": [1]}}")).hasMessageContaining("'consumed.world_size'");
        assertThatThrownBy(() -> json("{\"dataset\": \"demo.x\", \"start_row\": 3, \"consumed\": {\"world_size\": 1, \"rows\": [1]}}"))
                .hasMessageContaining("'consumed' and 'start_row'");
        assertThatThrownBy(() -> StreamRequest.fromQuery(Map.of("dataset", "demo.x", "consumed", "12"))).hasMessageContaining("'consumed'");
    }
}
