package io.granary.common;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the short durations users type in configs and flags: "90s", "15m", "2h", "7d", "1w". */
public final class Durations {

    private static final Pattern SHORT = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d|w)");

    private Durations() {}

    public static Duration parse(String text, String where) {
        String trimmed = text == null ? "" : text.trim().toLowerCase(java.util.Locale.ROOT);
        Matcher matcher = SHORT.matcher(trimmed);
        if (!matcher.matches()) {
            throw new GranaryException(
                    "invalid duration '" + text + "' for " + where,
                    "write a number and a unit: 500ms, 90s, 15m, 2h, 7d or 1w");
        }
        long amount = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            case "w" -> Duration.ofDays(7 * amount);
            default -> throw new IllegalStateException(matcher.group(2));
        };
    }

    /** The inverse of {@link #parse} for whole units, used when printing settings back. */
    public static String format(Duration duration) {
        long seconds = duration.getSeconds();
        if (duration.toMillis() % 1000 != 0) {
            return duration.toMillis() + "ms";
        } else if (seconds % (86_400 * 7) == 0 && seconds > 0) {
            return seconds / (86_400 * 7) + "w";
        } else if (seconds % 86_400 == 0 && seconds > 0) {
            return seconds / 86_400 + "d";
        } else if (seconds % 3600 == 0 && seconds > 0) {
            return seconds / 3600 + "h";
        } else if (seconds % 60 == 0 && seconds > 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
