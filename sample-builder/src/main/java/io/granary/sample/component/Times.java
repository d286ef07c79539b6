package io.granary.sample.component;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** Times in arguments: 2026-11-28T10:00:00Z, or a date (midnight UTC). */
final class Times {

    private Times() {}

    static Instant parse(NodeArgs args, String argument, String text) {
        try {
            return OffsetDateTime.parse(text.trim()).toInstant();
        } catch (DateTimeParseException notOffset) {
            try {
                return LocalDate.parse(text.trim()).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException notDate) {
                throw args.error(argument, "cannot read the time '" + text + "'", "write 2026-11-28T10:00:00Z or 2026-11-28 (midnight UTC)");
            }
        }
    }
}
