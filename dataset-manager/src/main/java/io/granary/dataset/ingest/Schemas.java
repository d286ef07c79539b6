package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/** Building schemas from inferred column types. */
final class Schemas {

    private Schemas() {}

    /** A schema of optional columns, in order, with fresh ids (list elements included). */
    static Schema ofColumns(Map<String, Type> columns) {
        AtomicInteger ids = new AtomicInteger();
        List<Types.NestedField> fields = new ArrayList<>();
        for (Map.Entry<String, Type> column : columns.entrySet()) {
            Type type = column.getValue() == null ? Types.StringType.get() : column.getValue();
            fields.add(Types.NestedField.optional(ids.incrementAndGet(), column.getKey(), type));
        }
        Types.StructType renumbered = TypeUtil.assignFreshIds(Types.StructType.of(fields), ids::incrementAndGet)
                .asStructType();
        return new Schema(renumbered.fields());
    }

    /** The union of several files' columns: types merged where names meet. */
    static Schema union(List<Schema> schemas) {
        Map<String, Type> columns = new LinkedHashMap<>();
        for (Schema schema : schemas) {
            for (Types.NestedField field : schema.columns()) {
                columns.merge(field.name(), field.type(), TypeInference::merge);
            }
        }
        return ofColumns(columns);
    }

    static void requireUniqueNames(List<String> names, SourceFile file) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                throw new GranaryException(file + ": column '" + name + "' appears twice", "rename one of the two columns");
            }
        }
    }
}
