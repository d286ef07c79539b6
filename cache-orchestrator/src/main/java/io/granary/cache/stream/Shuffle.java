package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.util.Locale;

/** How an epoch's rows are ordered: as stored, units shuffled, or units shuffled and rows shuffled through a buffer. */
public enum Shuffle {
    NONE, UNITS, BUFFER;

    public static Shuffle parse(String text) {
        try {
            return valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new GranaryException("descriptor key 'shuffle' must be none, units or buffer, not '" + text + "'",
                    "shuffle units for a cheap shuffle, buffer (with shuffle_buffer rows) to also shuffle rows");
        }
    }
}
