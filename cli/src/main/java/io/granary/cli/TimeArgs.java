package io.granary.cli;

import io.granary.common.Durations;
import io.granary.common.GranaryException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** Points in time as options take them: "now", "now-2d", "2026-11-28", "2026-11-28T10:00:00Z". */
public final class TimeArgs {

    private TimeArgs() {}

    public static Instant parse(String text, String option) {
        String value = text.trim();
        if (value.equals("now")) {
            return Instant.now();
        }
        if (value.startsWith("now-")) {
            return Instant.now().minus(Durations.parse(value.substring(4), option));
        }
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException notOffset) {
            try {
                return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException notDate) {
                throw new GranaryException("invalid time '" + text + "' for " + option,
                        "write 2026-11-28T10:00:00Z, 2026-11-28 (midnight UTC), now, or now-7d");
            }
        }
    }
}
