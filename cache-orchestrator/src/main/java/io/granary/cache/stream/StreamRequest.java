package io.granary.cache.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A stream as a client names it: the bytes of a Flight command descriptor (this JSON, UTF-8), or
 * the query parameters of GET /v1/stream (the same keys). Every key but {@code dataset} has a
 * default; an unknown key, a wrong type or a value out of range is refused naming the key.
 *
 * @param columns the columns to send, or empty for all
 * @param filter an Iceberg-style expression pushed down to the files, or empty
 * @param consumed rows each rank of an earlier run with another world size consumed in this epoch (elastic resume)
 */
public record StreamRequest(DatasetRef dataset, Optional<List<String>> columns, Optional<String> filter, int batchRows, int worldSize,
                            int epoch, long seed, Shuffle shuffle, int shuffleBuffer, Mode mode, boolean dropLast, long startRow,
                            Optional<EpochPlan.Consumed> consumed) {

    /** Static: each rank's rows are fixed by the plan. Dynamic: workers lease the next unit when ready. */
    public enum Mode { STATIC, DYNAMIC }

    public static final int DEFAULT_BATCH_ROWS = 65_536;
    private static final Set<String> KEYS = Set.of("dataset", "columns", "filter", "batch_rows", "world_size", "epoch", "seed", "shuffle",
            "shuffle_buffer", "mode", "drop_last", "start_row", "consumed");
    private static final ObjectMapper JSON = new ObjectMapper();

    public StreamRequest {
        columns = columns.map(List::copyOf);
    }

    /** A descriptor's bytes. */
    public static StreamRequest fromJson(byte[] descriptor) {
        JsonNode root;
        try {
            root = JSON.readTree(descriptor);
        } catch (IOException e) {
            throw new GranaryException("the stream descriptor is not valid JSON: " + firstLine(e.getMessage()),
                    "send a JSON object such as {\"dataset\": \"demo.clicks\", \"world_size\": 2}", e);
        }
        if (root == null || !root.isObject()) {
            throw new GranaryException("the stream descriptor must be a JSON object", "send {\"dataset\": \"NS.NAME\", ...}");
        }
        return from((ObjectNode) root);
    }

    /** Query parameters (one value each): columns comma-separated, consumed as OLD_WORLD_SIZE:ROWS,ROWS,... */
    public static StreamRequest fromQuery(Map<String, String> parameters) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        for (Map.Entry<String, String> parameter : parameters.entrySet()) {
            String key = parameter.getKey();
            String value = parameter.getValue();
            switch (key) {
                case "columns" -> {
                    ArrayNode list = root.putArray("columns");
                    for (String column : value.split(",")) {
                        if (!column.isBlank()) {
                            list.add(column.strip());
                        }
                    }
                }
                case "consumed" -> {
                    int colon = value.indexOf(':');
                    if (colon < 0) {
                        throw new GranaryException("query parameter 'consumed' must be OLD_WORLD_SIZE:ROWS,ROWS,..., not '" + value + "'",
                                "e.g. consumed=4:1200,1180,1210,1195");
                    }
                    ObjectNode consumed = root.putObject("consumed");
                    consumed.put("world_size", value.substring(0, colon));
                    ArrayNode rows = consumed.putArray("rows");
                    for (String count : value.substring(colon + 1).split(",")) {
                        rows.add(count.strip());
                    }
                }
                default -> root.put(key, value);
            }
        }
        return from(root);
    }

    private static StreamRequest from(ObjectNode root) {
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!KEYS.contains(key)) {
                throw new GranaryException("unknown descriptor key '" + key + "'", "the keys are " + String.join(", ", new java.util.TreeSet<>(KEYS)));
            }
        }
        JsonNode datasetNode = root.get("dataset");
        if (datasetNode == null || datasetNode.isNull() || !datasetNode.isTextual() || datasetNode.asText().isBlank()) {
            throw new GranaryException("descriptor key 'dataset' is missing or not a string", "name a dataset ref: NS.NAME, NS.NAME@TAG or @SNAPSHOT_ID");
        }
        DatasetRef dataset;
        try {
            dataset = DatasetRef.parse(datasetNode.asText());
        } catch (GranaryException e) {
            throw new GranaryException("descriptor key 'dataset': " + e.getMessage(), e.hint());
        }
        Optional<List<String>> columns = Optional.empty();
        JsonNode columnsNode = root.get("columns");
        if (columnsNode != null && !columnsNode.isNull()) {
            if (!columnsNode.isArray()) {
                throw new GranaryException("descriptor key 'columns' must be a list of column names or null", "e.g. \"columns\": [\"user_id\", \"label\"]");
            }
            List<String> names = new ArrayList<>();
            for (JsonNode column : columnsNode) {
                if (!column.isTextual()) {
                    throw new GranaryException("descriptor key 'columns' must list names (strings), not " + column, "e.g. \"columns\": [\"user_id\"]");
                }
                names.add(column.asText());
            }
            columns = Optional.of(names);
        }
        JsonNode filterNode = root.get("filter");
        Optional<String> filter = filterNode == null || filterNode.isNull() ? Optional.empty() : Optional.of(text(filterNode, "filter"));
        int batchRows = (int) number(root, "batch_rows", DEFAULT_BATCH_ROWS, 1, Integer.MAX_VALUE);
        int worldSize = (int) number(root, "world_size", 1, 1, 1 << 20);
        int epoch = (int) number(root, "epoch", 0, 0, Integer.MAX_VALUE);
        long seed = number(root, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
        Shuffle shuffle = root.hasNonNull("shuffle") ? Shuffle.parse(text(root.get("shuffle"), "shuffle")) : Shuffle.NONE;
        int shuffleBuffer = (int) number(root, "shuffle_buffer", 0, 0, 1 << 26);
        Mode mode = root.hasNonNull("mode") ? mode(text(root.get("mode"), "mode")) : Mode.STATIC;
        boolean dropLast = bool(root, "drop_last");
        long startRow = number(root, "start_row", 0, 0, Long.MAX_VALUE);
        Optional<EpochPlan.Consumed> consumed = Optional.empty();
        JsonNode consumedNode = root.get("consumed");
        if (consumedNode != null && !consumedNode.isNull()) {
            if (!consumedNode.isObject() || !consumedNode.has("rows") || !consumedNode.get("rows").isArray()) {
                throw new GranaryException("descriptor key 'consumed' must be {\"world_size\": N, \"rows\": [rows of rank 0, ...]}",
                        "give the rows each rank of the earlier run consumed in this epoch");
            }
            int oldWorld = (int) number((ObjectNode) consumedNode, "world_size", -1, 1, 1 << 20, "consumed.world_size");
            long[] rows = new long[consumedNode.get("rows").size()];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = longValue(consumedNode.get("rows").get(i), "consumed.rows", 0, Long.MAX_VALUE);
            }
            consumed = Optional.of(new EpochPlan.Consumed(oldWorld, rows));
            if (startRow != 0) {
                throw new GranaryException("descriptor keys 'consumed' and 'start_row' cannot be used together",
                        "an elastic resume starts each new rank at its first row: leave start_row out");
            }
        }
        if (shuffle == Shuffle.BUFFER && shuffleBuffer < 2) {
            throw new GranaryException("descriptor key 'shuffle_buffer' must be at least 2 with shuffle: buffer, not " + shuffleBuffer,
                    "e.g. \"shuffle_buffer\": 10000 (rows)");
        }
        return new StreamRequest(dataset, columns, filter, batchRows, worldSize, epoch, seed, shuffle, shuffleBuffer, mode, dropLast, startRow,
                consumed);
    }

    /** A stream of {@code dataset} (NS.NAME[@REF]) to {@code worldSize} ranks, every other key at its default. */
    public static StreamRequest of(String dataset, int worldSize) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("dataset", dataset);
        root.put("world_size", worldSize);
        return from(root);
    }

    /**
     * The same request with one descriptor key set, checked as a descriptor's would be, e.g.
     * {@code request.with("epoch", 3).with("shuffle", "units").with("columns", List.of("label"))}.
     */
    public StreamRequest with(String key, Object value) {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(toJson());
            root.set(key, JSON.valueToTree(value));
            return from(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same request of another ref (the snapshot a moving ref named when the stream was planned). */
    public StreamRequest withDataset(DatasetRef ref) {
        return new StreamRequest(ref, columns, filter, batchRows, worldSize, epoch, seed, shuffle, shuffleBuffer, mode, dropLast, startRow, consumed);
    }

    /** This request as descriptor JSON (UTF-8), the form a Flight client sends. */
    public byte[] toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("dataset", dataset.toString());
        columns.ifPresent(names -> names.forEach(root.withArray("columns")::add));
        filter.ifPresent(f -> root.put("filter", f));
        root.put("batch_rows", batchRows);
        root.put("world_size", worldSize);
        root.put("epoch", epoch);
        root.put("seed", seed);
        root.put("shuffle", shuffle.name().toLowerCase(Locale.ROOT));
        root.put("shuffle_buffer", shuffleBuffer);
        root.put("mode", mode.name().toLowerCase(Locale.ROOT));
        root.put("drop_last", dropLast);
        root.put("start_row", startRow);
        consumed.ifPresent(c -> {
            ObjectNode node = root.putObject("consumed");
            node.put("world_size", c.worldSize());
            ArrayNode rows = node.putArray("rows");
            for (long count : c.rowsPerRank()) {
                rows.add(count);
            }
        });
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Mode mode(String text) {
        try {
            return Mode.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new GranaryException("descriptor key 'mode' must be static or dynamic, not '" + text + "'",
                    "static: rows fixed per rank; dynamic: workers take the next unit when ready");
        }
    }

    private static String text(JsonNode node, String key) {
        if (!node.isTextual()) {
            throw new GranaryException("descriptor key '" + key + "' must be a string, not " + node, "quote it");
        }
        return node.asText();
    }

    private static boolean bool(ObjectNode root, String key) {
        JsonNode node = root.get(key);
        if (node == null || node.isNull()) {
            return false;
        }
        if (node.isBoolean()) {
            return node.asBoolean();
        }
        if (node.isTextual() && (node.asText().equals("true") || node.asText().equals("false"))) {
            return Boolean.parseBoolean(node.asText());
        }
        throw new GranaryException("descriptor key '" + key + "' must be true or false, not " + node, "e.g. \"" + key + "\": true");
    }

    private static long number(ObjectNode root, String key, long fallback, long min, long max) {
        return number(root, key, fallback, min, max, key);
    }

    private static long number(ObjectNode root, String key, long fallback, long min, long max, String shownAs) {
        JsonNode node = root.get(key);
        if (node == null || node.isNull()) {
            if (fallback < min) {
                throw new GranaryException("descriptor key '" + shownAs + "' is missing", "give it as a whole number");
            }
            return fallback;
        }
        return longValue(node, shownAs, min, max);
    }

    private static long longValue(JsonNode node, String key, long min, long max) {
        long value;
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            value = node.asLong();
        } else if (node.isTextual() && node.asText().strip().matches("-?\\d{1,19}")) {
            try {
                value = Long.parseLong(node.asText().strip());
            } catch (NumberFormatException e) {
                throw new GranaryException("descriptor key '" + key + "' is out of range: " + node.asText(), "give a smaller number");
            }
        } else {
            throw new GranaryException("descriptor key '" + key + "' must be a whole number, not " + node, "e.g. \"" + key + "\": " + Math.max(min, 1));
        }
        if (value < min || value > max) {
            throw new GranaryException("descriptor key '" + key + "' must be " + (max == Long.MAX_VALUE || max == Integer.MAX_VALUE
                    ? "at least " + min : "between " + min + " and " + max) + ", not " + value, "see the stream descriptor in the README");
        }
        return value;
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
