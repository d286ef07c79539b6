package io.granary.common;

/**
 * An error the user can act on: what is wrong and where (the message), and what to do about it
 * (the hint). The CLI prints both and exits 1; servers map the {@link Kind} to a status code.
 */
public class GranaryException extends RuntimeException {

    /** What sort of problem this is, so servers can pick a status code. */
    public enum Kind {
        INVALID_INPUT,
        NOT_FOUND,
        ALREADY_EXISTS,
        CONFLICT,
        UNAVAILABLE
    }

    private final Kind kind;
    private final String hint;

    public GranaryException(String message, String hint) {
        this(Kind.INVALID_INPUT, message, hint, null);
    }

    public GranaryException(String message, String hint, Throwable cause) {
        this(Kind.INVALID_INPUT, message, hint, cause);
    }

    public GranaryException(Kind kind, String message, String hint, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.hint = hint == null ? "" : hint;
    }

    public static GranaryException notFound(String message, String hint) {
        return new GranaryException(Kind.NOT_FOUND, message, hint, null);
    }

    public static GranaryException alreadyExists(String message, String hint) {
        return new GranaryException(Kind.ALREADY_EXISTS, message, hint, null);
    }

    public Kind kind() {
        return kind;
    }

    /** What the user can do about it; empty when there is nothing useful to say. */
    public String hint() {
        return hint;
    }
}
