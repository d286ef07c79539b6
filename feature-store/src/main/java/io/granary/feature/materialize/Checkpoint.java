package io.granary.feature.materialize;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * How far a view is materialized: the last source snapshot whose rows are all in the store, and the
 * event-time window they were read for. Kept in the online store, written with the rows.
 */
record Checkpoint(long snapshotId, long startMicros, long endMicros, String dataset, long updatedAtMillis) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static String key(String view) {
        return "materialized/" + view;
    }

    byte[] encode() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Checkpoint decode(byte[] bytes) {
        try {
            return JSON.readValue(bytes, Checkpoint.class);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable materialization checkpoint", e);
        }
    }
}
