package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/** The errors and checks of matching a file's columns to a dataset's schema. */
final class Reconcile {

    private Reconcile() {}

    static GranaryException unknownColumn(SourceFile file, String column, Schema target) {
        return new GranaryException(
                file + ": column '" + column + "' is not in the dataset (its columns: " + columnList(target) + ")",
                "rename the column, or pass --evolve to add it to the dataset as a new nullable column");
    }

    static GranaryException badValue(SourceFile file, long line, String column, Type type, BadValueException e) {
        return badValue(file, line, column, type, e, null);
    }

    /** As above, also saying what type the file's text reads as (CSV has no types of its own). */
    static GranaryException badValue(SourceFile file, long line, String column, Type type, BadValueException e, String text) {
        String readsAs = text == null ? "" : "; the file's value reads as " + TypeNames.describe(TypeInference.ofText(text));
        return new GranaryException(
                file + " line " + line + ", column '" + column + "': " + e.getMessage()
                        + " (the dataset's type is " + TypeNames.describe(type) + readsAs + ")",
                "fix the value, or give the column another type with --schema when creating the dataset");
    }

    static String columnList(Schema schema) {
        List<String> names = new ArrayList<>();
        for (Types.NestedField field : schema.columns()) {
            names.add(field.name());
        }
        return String.join(", ", names);
    }

    /** Positions of required target columns; fails if the file does not have one of them. */
    static int[] requiredPositions(Schema target, Collection<String> fileColumns, SourceFile file) {
        List<Types.NestedField> columns = target.columns();
        List<Integer> required = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            Types.NestedField field = columns.get(i);
            if (field.isRequired()) {
                if (fileColumns != null && !fileColumns.contains(field.name())) {
                    throw new GranaryException(file + " has no column '" + field.name() + "', which the dataset requires",
                            "add the column to the file");
                }
                required.add(i);
            }
        }
        return required.stream().mapToInt(Integer::intValue).toArray();
    }

    static void checkRequired(Record record, int[] required, Schema target, SourceFile file, long line) {
        for (int position : required) {
            if (record.get(position) == null) {
                throw new GranaryException(
                        file + " line " + line + ": column '" + target.columns().get(position).name() + "' is empty, but the dataset requires a value",
                        "fill in the value");
            }
        }
    }
}
