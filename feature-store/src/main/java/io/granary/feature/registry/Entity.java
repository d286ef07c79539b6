package io.granary.feature.registry;

/** What features describe, e.g. a user, identified by a join key column (user_id) of a value type. */
public record Entity(String name, String joinKey, ValueType valueType, String description) {

    public Entity {
        description = description == null ? "" : description;
    }
}
