package io.granary.sample.template;

import io.granary.common.GranaryException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A reference in a node's arguments: {@code ${params.NAME}} (a parameter's value),
 * {@code ${nodes.ID.output}} (the table a node wrote) or {@code ${nodes.ID.values.NAME}} (a value
 * it computed). A text that is one reference takes the referenced value as it is (a list stays a
 * list); references inside other text are replaced by the values' text.
 */
public sealed interface Binding {

    Pattern REFERENCE = Pattern.compile("\\$\\{([^}]*)}");
    Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    record ParamValue(String param) implements Binding {}

    record NodeOutput(String node) implements Binding {}

    record NodeValue(String node, String value) implements Binding {}

    /** The node this binding reads from, if any. */
    default java.util.Optional<String> fromNode() {
        if (this instanceof NodeOutput output) {
            return java.util.Optional.of(output.node());
        }
        if (this instanceof NodeValue value) {
            return java.util.Optional.of(value.node());
        }
        return java.util.Optional.empty();
    }

    static Binding parse(String reference) {
        String[] parts = reference.trim().split("\\.", -1);
        if (parts.length == 2 && parts[0].equals("params") && NAME.matcher(parts[1]).matches()) {
            return new ParamValue(parts[1]);
        }
        if (parts.length == 3 && parts[0].equals("nodes") && parts[2].equals("output") && NAME.matcher(parts[1]).matches()) {
            return new NodeOutput(parts[1]);
        }
        if (parts.length == 4 && parts[0].equals("nodes") && parts[2].equals("values") && NAME.matcher(parts[1]).matches()
                && NAME.matcher(parts[3]).matches()) {
            return new NodeValue(parts[1], parts[3]);
        }
        throw new GranaryException("cannot read the reference ${" + reference + "}",
                "write ${params.NAME}, ${nodes.ID.output} or ${nodes.ID.values.NAME}");
    }

    /** The references in a text, in order. */
    static List<Binding> in(String text) {
        List<Binding> found = new ArrayList<>();
        Matcher matcher = REFERENCE.matcher(text);
        while (matcher.find()) {
            found.add(parse(matcher.group(1)));
        }
        return found;
    }

    /** The reference a text consists of, if it is exactly one. */
    static java.util.Optional<Binding> whole(String text) {
        Matcher matcher = REFERENCE.matcher(text.trim());
        return matcher.matches() ? java.util.Optional.of(parse(matcher.group(1))) : java.util.Optional.empty();
    }
}
