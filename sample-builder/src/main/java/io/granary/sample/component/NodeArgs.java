package io.granary.sample.component;

import io.granary.common.GranaryException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node's arguments, resolved: tables as {@link TableArg}s, values as plain Java (String, Long,
 * Double, Boolean, List, Map). Each remembers where it was set (the config's line for a parameter,
 * else the template's), so that an error about it points there.
 */
public final class NodeArgs {

    private final String node;
    private final Map<String, Object> values;
    private final Map<String, String> origins;
    private final Map<String, String> reads;

    public NodeArgs(String node, Map<String, Object> values, Map<String, String> origins) {
        this(node, values, origins, Map.of());
    }

    public NodeArgs(String node, Map<String, Object> values, Map<String, String> origins, Map<String, String> reads) {
        this.node = node;
        this.values = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.origins = Map.copyOf(origins);
        this.reads = Map.copyOf(reads);
    }

    /** What the component said it reads beyond its tables, pinned when the node was planned (see {@link Component#reads}). */
    public Map<String, String> reads() {
        return reads;
    }

    /** The node's id. */
    public String node() {
        return node;
    }

    public Map<String, Object> values() {
        return values;
    }

    /** An error about argument {@code name}, located where its value was set. */
    public GranaryException error(String name, String problem, String hint) {
        return new GranaryException("node " + node + ", " + name + ": " + problem + " (" + origins.getOrDefault(name, "node " + node) + ")",
                hint);
    }

    public Optional<Object> get(String name) {
        return Optional.ofNullable(values.get(name));
    }

    public boolean has(String name) {
        return values.get(name) != null;
    }

    public TableArg table(String name) {
        return optionalTable(name).orElseThrow(() -> error(name, "no table given", "bind it to a dataset or a node's output"));
    }

    public Optional<TableArg> optionalTable(String name) {
        Object value = values.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (value instanceof TableArg table) {
            return Optional.of(table);
        }
        throw error(name, "expected a table (a dataset parameter or ${nodes.ID.output}), found '" + value + "'",
                "bind it to a dataset or a node's output");
    }

    public String string(String name) {
        return optionalString(name).orElseThrow(() -> error(name, "no value given", "give it a value"));
    }

    public Optional<String> optionalString(String name) {
        Object value = values.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (value instanceof String || value instanceof Number || value instanceof Boolean) {
            return Optional.of(value.toString());
        }
        throw error(name, "expected text, found " + describe(value), "give a text value");
    }

    public double number(String name, double fallback) {
        Object value = values.get(name);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Number number) {
            return number.doubleValue();
        }
        throw error(name, "expected a number, found " + describe(value), "give a number");
    }

    public long whole(String name, long fallback) {
        Object value = values.get(name);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Long number) {
            return number;
        }
        throw error(name, "expected a whole number, found " + describe(value), "give a whole number");
    }

    public boolean bool(String name, boolean fallback) {
        Object value = values.get(name);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Boolean bool) {
            return bool;
        }
        throw error(name, "expected true or false, found " + describe(value), "give true or false");
    }

    /** A list of texts; one text counts as a list of one; absent is empty. */
    public List<String> strings(String name) {
        Object value = values.get(name);
        if (value == null) {
            return List.of();
        }
        if (value instanceof String text) {
            return List.of(text);
        }
        if (value instanceof List<?> list && list.stream().allMatch(item -> item instanceof String)) {
            return list.stream().map(Object::toString).toList();
        }
        throw error(name, "expected a list of names, found " + describe(value), "give a list, e.g. [user_id, item_id]");
    }

    /** A list of anything; absent is empty. */
    public List<?> list(String name) {
        Object value = values.get(name);
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> list) {
            return list;
        }
        throw error(name, "expected a list, found " + describe(value), "give a list");
    }

    /** A mapping; absent is empty. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> map(String name) {
        Object value = values.get(name);
        if (value == null) {
            return Map.of();
        }
        if (value instanceof Map<?, ?> map) {
            return (Map<String, Object>) map;
        }
        throw error(name, "expected a mapping, found " + describe(value), "give a mapping, e.g. {train: 0.8, test: 0.2}");
    }

    /** Fails unless {@code table} has column {@code column} (named by argument {@code name}). */
    public Column requireColumn(String name, TableArg table, String column) {
        return table.column(column).orElseThrow(() -> error(name, "unknown column '" + column + "' in " + table.dataset(),
                "its columns: " + String.join(", ", table.columnNames())));
    }

    static String describe(Object value) {
        if (value instanceof List<?>) {
            return "a list";
        }
        if (value instanceof Map<?, ?>) {
            return "a mapping";
        }
        if (value instanceof TableArg table) {
            return "the table " + table.dataset();
        }
        return "'" + value + "'";
    }
}
