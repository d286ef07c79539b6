package io.granary.common.yaml;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A node of a parsed YAML file that knows where it came from, so that every error about a
 * config, schema or definition file can name {@code file:line} and what was expected there.
 */
public final class YamlNode {

    private final Node node;
    private final String source;
    private final String path;

    private YamlNode(Node node, String source, String path) {
        this.node = node;
        this.source = source;
        this.path = path;
    }

    public static YamlNode parse(Path file) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(reader, file.toString());
        } catch (NoSuchFileException e) {
            throw GranaryException.notFound("file not found: " + file, "check the path");
        } catch (IOException e) {
            throw new GranaryException("cannot read " + file + ": " + e.getMessage(), "check the file's permissions", e);
        }
    }

    public static YamlNode parse(String text, String source) {
        return parse(new StringReader(text), source);
    }

    private static YamlNode parse(Reader reader, String source) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        Node root;
        try {
            root = new Yaml(options).compose(reader);
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String at = mark == null ? source : source + ":" + (mark.getLine() + 1);
            String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
            if (e.getContext() != null && e.getContext().contains("duplicate")) {
                problem = e.getContext() + ", " + problem;
            }
            throw new GranaryException("malformed YAML at " + at + ": " + problem.replace('\n', ' '),
                    "check the indentation and quoting around that line", e);
        } catch (YAMLException e) {
            throw new GranaryException("malformed YAML in " + source + ": " + e.getMessage(),
                    "check the file is YAML", e);
        }
        return new YamlNode(root, source, "");
    }

    /** "file:line" of this node, for messages. */
    public String where() {
        return node == null ? source : source + ":" + (node.getStartMark().getLine() + 1);
    }

    /** The key path of this node inside its file ("feature_views[2].ttl"), for messages. */
    public String path() {
        return path.isEmpty() ? "(top level)" : path;
    }

    public String source() {
        return source;
    }

    public boolean isNull() {
        return node == null || (node instanceof ScalarNode && node.getTag().equals(Tag.NULL));
    }

    public boolean isMap() {
        return node instanceof MappingNode;
    }

    public boolean isList() {
        return node instanceof SequenceNode;
    }

    public boolean isScalar() {
        return node instanceof ScalarNode && !isNull();
    }

    private GranaryException wrongType(String expected) {
        String found = isNull() ? "nothing" : isMap() ? "a mapping" : isList() ? "a list"
                : "'" + ((ScalarNode) node).getValue() + "'";
        return new GranaryException(
                "expected " + expected + " for " + path() + " at " + where() + ", found " + found,
                "fix the value at that line");
    }

    /** The entries of a mapping, in file order; an empty map for an empty document. */
    public Map<String, YamlNode> asMap() {
        if (node == null) {
            return Map.of();
        }
        if (!isMap()) {
            throw wrongType("a mapping of keys to values");
        }
        Map<String, YamlNode> entries = new LinkedHashMap<>();
        for (NodeTuple tuple : ((MappingNode) node).getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
                throw new YamlNode(tuple.getKeyNode(), source, path).wrongType("a plain key");
            }
            String childPath = path.isEmpty() ? key.getValue() : path + "." + key.getValue();
            entries.put(key.getValue(), new YamlNode(tuple.getValueNode(), source, childPath));
        }
        return entries;
    }

    public List<YamlNode> asList() {
        if (isNull()) {
            return List.of();
        }
        if (!isList()) {
            throw wrongType("a list");
        }
        List<YamlNode> items = new ArrayList<>();
        List<Node> children = ((SequenceNode) node).getValue();
        for (int i = 0; i < children.size(); i++) {
            items.add(new YamlNode(children.get(i), source, path + "[" + i + "]"));
        }
        return items;
    }

    /** Refuses keys outside {@code allowed}, naming the bad key, its line and the valid keys. */
    public Map<String, YamlNode> asMapWithKeys(Collection<String> allowed) {
        Map<String, YamlNode> entries = asMap();
        for (Map.Entry<String, YamlNode> entry : entries.entrySet()) {
            if (!allowed.contains(entry.getKey())) {
                throw new GranaryException(
                        "unknown key '" + entry.getKey() + "' in " + path() + " at " + keyWhere(entry.getKey()),
                        "valid keys here: " + String.join(", ", new TreeSet<>(allowed)));
            }
        }
        return entries;
    }

    /** "file:line" of the key {@code key} of this mapping (or of the mapping when it has no such key). */
    public String keyWhere(String key) {
        if (!isMap()) {
            return where();
        }
        for (NodeTuple tuple : ((MappingNode) node).getValue()) {
            if (tuple.getKeyNode() instanceof ScalarNode scalar && scalar.getValue().equals(key)) {
                return source + ":" + (scalar.getStartMark().getLine() + 1);
            }
        }
        return where();
    }

    public String asString() {
        if (!isScalar()) {
            throw wrongType("a text value");
        }
        return ((ScalarNode) node).getValue();
    }

    public long asLong() {
        if (!isScalar()) {
            throw wrongType("a whole number");
        }
        try {
            return Long.parseLong(((ScalarNode) node).getValue().replace("_", ""));
        } catch (NumberFormatException e) {
            throw wrongType("a whole number");
        }
    }

    public int asInt() {
        long value = asLong();
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw wrongType("a whole number that fits in 32 bits");
        }
        return (int) value;
    }

    public double asDouble() {
        if (!isScalar()) {
            throw wrongType("a number");
        }
        try {
            return Double.parseDouble(((ScalarNode) node).getValue());
        } catch (NumberFormatException e) {
            throw wrongType("a number");
        }
    }

    public boolean asBoolean() {
        if (isScalar() && node.getTag().equals(Tag.BOOL)) {
            String value = ((ScalarNode) node).getValue().toLowerCase(java.util.Locale.ROOT);
            return value.equals("true") || value.equals("yes") || value.equals("on");
        }
        throw wrongType("true or false");
    }

    /**
     * The value as plain Java, by its YAML type: null, Boolean, Long, Double, String, a List, or a
     * Map with its keys in file order.
     */
    public Object asValue() {
        if (isNull()) {
            return null;
        }
        if (isMap()) {
            Map<String, Object> values = new LinkedHashMap<>();
            asMap().forEach((key, value) -> values.put(key, value.asValue()));
            return values;
        }
        if (isList()) {
            List<Object> values = new ArrayList<>();
            asList().forEach(item -> values.add(item.asValue()));
            return values;
        }
        String text = ((ScalarNode) node).getValue();
        Tag tag = node.getTag();
        try {
            if (tag.equals(Tag.BOOL)) {
                return asBoolean();
            } else if (tag.equals(Tag.INT)) {
                return Long.parseLong(text.replace("_", ""));
            } else if (tag.equals(Tag.FLOAT)) {
                return Double.parseDouble(text.replace("_", ""));
            }
        } catch (NumberFormatException e) {
            return text; // a YAML 1.1 number form Java does not read (0x1F, 1:30): kept as written
        }
        return text;
    }

    /** A list of text values; a single text value counts as a list of one. */
    public List<String> asStringList() {
        if (isScalar()) {
            return List.of(asString());
        }
        return asList().stream().map(YamlNode::asString).toList();
    }

    /** A flat mapping of text keys to text values, e.g. pass-through properties. */
    public Map<String, String> asStringMap() {
        Map<String, String> values = new LinkedHashMap<>();
        asMap().forEach((key, value) -> values.put(key, value.asString()));
        return values;
    }

    public static Optional<YamlNode> optional(Map<String, YamlNode> entries, String key) {
        YamlNode value = entries.get(key);
        return value == null || value.isNull() ? Optional.empty() : Optional.of(value);
    }

    /** The value under {@code key}, failing with the line of the mapping when it is missing. */
    public YamlNode required(Map<String, YamlNode> entries, String key) {
        YamlNode value = entries.get(key);
        if (value == null || value.isNull()) {
            throw new GranaryException(
                    "missing key '" + key + "' in " + path() + " at " + where(),
                    "add '" + key + ": ...' there");
        }
        return value;
    }

    /** An error about this node's value, worded by the caller, located at its line. */
    public GranaryException error(String problem, String hint) {
        return new GranaryException(problem + " (" + path() + " at " + where() + ")", hint);
    }
}
