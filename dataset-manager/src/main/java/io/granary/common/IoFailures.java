package io.granary.common;

import java.io.IOException;

/** Turns a failed read or write deep inside a library into an error the user can act on. */
public final class IoFailures {

    private IoFailures() {}

    /** The IOException at the root of {@code error}, if there is one. */
    public static IOException rootIo(Throwable error) {
        IOException found = null;
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof IOException io) {
                found = io;
            }
        }
        return found;
    }

    /**
     * A GranaryException naming what was being written and the system's reason ("No space left on
     * device"), when {@code error} is an I/O failure; otherwise {@code error} itself.
     */
    public static RuntimeException whileWriting(String what, String where, RuntimeException error) {
        if (error instanceof GranaryException) {
            return error;
        }
        IOException io = rootIo(error);
        if (io == null) {
            return error;
        }
        String reason = io.getMessage() == null ? io.getClass().getSimpleName() : io.getMessage();
        boolean full = reason.contains("No space left");
        return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot write " + what + ": " + reason,
                full ? "free space at " + where + " (nothing was committed; run the command again after)"
                        : "check that " + where + " is writable (nothing was committed)", error);
    }
}
