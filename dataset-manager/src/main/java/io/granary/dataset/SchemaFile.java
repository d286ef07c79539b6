package io.granary.dataset;

import io.granary.common.GranaryException;
import io.granary.common.yaml.YamlNode;
import io.granary.dataset.ingest.TypeNames;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * A dataset schema declared in YAML, for `granary dataset create --schema FILE.yaml`:
 * <pre>
 * columns:
 *   - {name: user_id, type: long, required: true}
 *   - {name: event_ts, type: timestamptz, doc: "when the click happened"}
 *   - {name: tags, type: list&lt;string&gt;}
 * partition_by: [day(event_ts)]
 * </pre>
 */
public record SchemaFile(Schema schema, List<String> partitionBy) {

    public static SchemaFile parse(Path file) {
        YamlNode root = YamlNode.parse(file);
        Map<String, YamlNode> top = root.asMapWithKeys(List.of("columns", "partition_by"));
        List<YamlNode> columns = root.required(top, "columns").asList();
        if (columns.isEmpty()) {
            throw new GranaryException("no columns in " + file, "list at least one column under 'columns:'");
        }
        AtomicInteger ids = new AtomicInteger();
        List<Types.NestedField> fields = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (YamlNode column : columns) {
            Map<String, YamlNode> entry = column.asMapWithKeys(List.of("name", "type", "required", "doc"));
            String name = column.required(entry, "name").asString().trim();
            if (name.isEmpty()) {
                throw column.error("empty column name", "give every column a name");
            }
            if (!names.add(name)) {
                throw column.error("column '" + name + "' is declared twice", "remove one of them");
            }
            YamlNode typeNode = column.required(entry, "type");
            Type type;
            try {
                type = TypeNames.parse(typeNode.asString(), ids::incrementAndGet);
            } catch (GranaryException e) {
                throw typeNode.error(e.getMessage(), e.hint());
            }
            boolean required = YamlNode.optional(entry, "required").map(YamlNode::asBoolean).orElse(false);
            String doc = YamlNode.optional(entry, "doc").map(YamlNode::asString).orElse(null);
            int id = ids.incrementAndGet();
            fields.add(required ? Types.NestedField.required(id, name, type, doc) : Types.NestedField.optional(id, name, type, doc));
        }
        List<String> partitionBy = YamlNode.optional(top, "partition_by").map(YamlNode::asStringList).orElse(List.of());
        Schema schema = new Schema(fields);
        PartitionSpecs.parse(schema, partitionBy);
        return new SchemaFile(schema, partitionBy);
    }
}
