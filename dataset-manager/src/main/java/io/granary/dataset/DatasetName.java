package io.granary.dataset;

import io.granary.common.GranaryException;
import java.util.regex.Pattern;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;

/** A dataset's name, {@code NS.NAME}: a table {@code NAME} in the namespace {@code NS}. */
public record DatasetName(String namespace, String name) {

    private static final Pattern PART = Pattern.compile("[a-z][a-z0-9_]{0,127}");
    private static final String PART_HINT =
            "names are lowercase letters, digits and underscores, starting with a letter, e.g. demo.clicks";

    public DatasetName {
        requireValidPart(namespace, "namespace", namespace + "." + name);
        requireValidPart(name, "dataset name", namespace + "." + name);
    }

    static void requireValidPart(String part, String what, String whole) {
        if (part == null || !PART.matcher(part).matches()) {
            throw new GranaryException("illegal " + what + " '" + part + "' in '" + whole + "'", PART_HINT);
        }
    }

    /** Parses "ns.name". */
    public static DatasetName parse(String text) {
        String trimmed = text == null ? "" : text.trim();
        int dot = trimmed.indexOf('.');
        if (dot < 0 || dot != trimmed.lastIndexOf('.')) {
            throw new GranaryException("illegal dataset name '" + text + "': expected NS.NAME", PART_HINT);
        }
        return new DatasetName(trimmed.substring(0, dot), trimmed.substring(dot + 1));
    }

    public static void requireValidNamespace(String namespace) {
        requireValidPart(namespace, "namespace", namespace);
    }

    public TableIdentifier identifier() {
        return TableIdentifier.of(Namespace.of(namespace), name);
    }

    @Override
    public String toString() {
        return namespace + "." + name;
    }
}
