package io.granary.dataset.ingest;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Fast parsing of ISO-8601 dates and timestamps as they appear in CSV and JSON files:
 * {@code 2026-11-28}, {@code 2026-11-28T10:00:00}, {@code 2026-11-28 10:00:00.123},
 * {@code 2026-11-28T10:00:00Z}, {@code 2026-11-28T10:00:00+02:00}. Ingest parses millions of
 * them, and java.time's formatters are several times slower than this hand-written path.
 */
final class DateTimeText {

    /** A parsed timestamp: the local date-time and, when the text had one, its offset. */
    record Parsed(LocalDateTime local, ZoneOffset offset) {
        boolean hasZone() {
            return offset != null;
        }

        OffsetDateTime withZone() {
            return local.atOffset(offset == null ? ZoneOffset.UTC : offset);
        }

        LocalDateTime inUtc() {
            return offset == null ? local : local.atOffset(offset).withOffsetSameInstant(ZoneOffset.UTC).toLocalDateTime();
        }
    }

    private DateTimeText() {}

    static boolean looksLikeDate(CharSequence text) {
        return text.length() == 10 && text.charAt(4) == '-' && text.charAt(7) == '-';
    }

    /** A date, or null when the text is not one. */
    static LocalDate parseDate(CharSequence text) {
        if (!looksLikeDate(text)) {
            return null;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 2);
        int day = digits(text, 8, 2);
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31) {
            return null;
        }
        try {
            return LocalDate.of(year, month, day);
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    /** A timestamp (date and time of day, optional offset), or null when the text is not one. */
    static Parsed parseTimestamp(CharSequence text) {
        int n = text.length();
        if (n < 16 || text.charAt(4) != '-' || text.charAt(7) != '-'
                || (text.charAt(10) != 'T' && text.charAt(10) != ' ') || text.charAt(13) != ':') {
            return null;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 2);
        int day = digits(text, 8, 2);
        int hour = digits(text, 11, 2);
        int minute = digits(text, 14, 2);
        int second = 0;
        int nanos = 0;
        int i = 16;
        if (i < n && text.charAt(i) == ':') {
            second = digits(text, i + 1, 2);
            i += 3;
            if (i < n && text.charAt(i) == '.') {
                int start = ++i;
                while (i < n && Character.isDigit(text.charAt(i)) && i - start < 9) {
                    nanos = nanos * 10 + (text.charAt(i) - '0');
                    i++;
                }
                if (i == start) {
                    return null;
                }
                for (int k = i - start; k < 9; k++) {
                    nanos *= 10;
                }
            }
        }
        if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
            return null;
        }
        ZoneOffset offset = null;
        if (i < n) {
            offset = parseOffset(text, i);
            if (offset == null) {
                return fallback(text);
            }
        }
        try {
            return new Parsed(LocalDateTime.of(year, month, day, hour, minute, second, nanos), offset);
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    /** The zone offset at text[i..]: Z, UTC, +hh, +hhmm or +hh:mm; null if it is none of those. */
    private static ZoneOffset parseOffset(CharSequence text, int i) {
        int rest = text.length() - i;
        char first = text.charAt(i);
        if (rest == 1 && (first == 'Z' || first == 'z')) {
            return ZoneOffset.UTC;
        }
        if (first == ' ' && rest == 4 || first == 'U' && rest == 3) {
            int u = first == ' ' ? i + 1 : i;
            return text.charAt(u) == 'U' && text.charAt(u + 1) == 'T' && text.charAt(u + 2) == 'C' ? ZoneOffset.UTC : null;
        }
        if ((first != '+' && first != '-') || (rest != 6 && rest != 5 && rest != 3)) {
            return null;
        }
        int hours = digits(text, i + 1, 2);
        int minutes = rest == 3 ? 0 : digits(text, rest == 6 ? i + 4 : i + 3, 2);
        if (hours < 0 || minutes < 0 || (rest == 6 && text.charAt(i + 3) != ':')) {
            return null;
        }
        int sign = first == '-' ? -1 : 1;
        try {
            return ZoneOffset.ofHoursMinutes(sign * hours, sign * minutes);
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    private static Parsed fallback(CharSequence text) {
        try {
            OffsetDateTime parsed = OffsetDateTime.parse(text.toString().replace(' ', 'T'), DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            return new Parsed(parsed.toLocalDateTime(), parsed.getOffset());
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** The non-negative number in text[start, start+count), or -1 when it is not all digits. */
    private static int digits(CharSequence text, int start, int count) {
        if (start + count > text.length()) {
            return -1;
        }
        int value = 0;
        for (int i = start; i < start + count; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
