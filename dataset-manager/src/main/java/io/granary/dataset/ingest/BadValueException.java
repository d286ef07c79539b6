package io.granary.dataset.ingest;

/** A value that does not fit its column's type; the caller adds the file, line and column. */
final class BadValueException extends Exception {
    BadValueException(String reason) {
        super(reason, null, false, false);
    }
}
