package io.granary.feature.registry;

import java.util.List;

/** What applying a definition does to the registry: add it, change it (new version), or nothing. */
public record Change(Kind kind, String name, Action action, int fromVersion, int toVersion, List<String> details) {

    /** The effect on one object. */
    public enum Action {
        ADD, CHANGE, UNCHANGED
    }

    @Override
    public String toString() {
        return switch (action) {
            case ADD -> "+ " + kind.label() + " " + name + " (new, v1)";
            case CHANGE -> "~ " + kind.label() + " " + name + " (v" + fromVersion + " -> v" + toVersion + "): " + String.join("; ", details);
            case UNCHANGED -> "= " + kind.label() + " " + name + " (unchanged, v" + fromVersion + ")";
        };
    }
}
