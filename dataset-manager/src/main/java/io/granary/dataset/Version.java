package io.granary.dataset;

import io.granary.common.GranaryException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/** The part of a dataset ref after '@': a snapshot id, a tag or branch name, or a point in time. */
public sealed interface Version {

    Pattern REF_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]{0,127}");
    String REF_NAME_HINT = "tag and branch names are letters, digits, '_', '.' and '-', not all digits";

    /** A snapshot by its id: {@code @5938274619}. */
    record SnapshotId(long id) implements Version {
        @Override
        public String toString() {
            return Long.toString(id);
        }
    }

    /** A tag or branch: {@code @v1}, {@code @main}. */
    record Named(String name) implements Version {
        public Named {
            requireValidRefName(name);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The snapshot current at a time: {@code @ts=2026-11-28T10:00:00Z}. */
    record AsOf(Instant time) implements Version {
        @Override
        public String toString() {
            return "ts=" + time;
        }
    }

    static Version parse(String text) {
        if (text.startsWith("ts=")) {
            String time = text.substring(3);
            try {
                return new AsOf(OffsetDateTime.parse(time).toInstant());
            } catch (DateTimeParseException e) {
                try {
                    return new AsOf(Instant.parse(time));
                } catch (DateTimeParseException again) {
                    throw new GranaryException("invalid time '" + time + "' in version '@" + text + "'",
                            "write an ISO-8601 time with its zone, e.g. @ts=2026-11-28T10:00:00Z");
                }
            }
        }
        if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
            try {
                return new SnapshotId(Long.parseLong(text));
            } catch (NumberFormatException e) {
                throw new GranaryException("snapshot id '" + text + "' is too large", "copy the id from `granary dataset log`");
            }
        }
        return new Named(text);
    }

    static void requireValidRefName(String name) {
        if (name == null || !REF_NAME.matcher(name).matches() || name.chars().allMatch(Character::isDigit)) {
            throw new GranaryException("illegal tag or branch name '" + name + "'", REF_NAME_HINT);
        }
    }
}
