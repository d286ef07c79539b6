package io.granary.common.rpc;

import io.granary.common.GranaryException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Granary's errors across its own gRPC services: the server sends the kind, message and hint of
 * a {@link GranaryException} (the kind as a gRPC status, the hint in a trailer); the client turns
 * them back into the same exception, so a user reads the same words either way.
 */
public final class RpcErrors {

    private static final Metadata.Key<byte[]> HINT = Metadata.Key.of("granary-hint-bin", Metadata.BINARY_BYTE_MARSHALLER);
    private static final Metadata.Key<String> KIND = Metadata.Key.of("granary-kind", Metadata.ASCII_STRING_MARSHALLER);

    private RpcErrors() {}

    public static StatusRuntimeException toStatus(Throwable error) {
        if (error instanceof GranaryException granary) {
            Status status = switch (granary.kind()) {
                case NOT_FOUND -> Status.NOT_FOUND;
                case UNAVAILABLE -> Status.UNAVAILABLE;
                case CONFLICT -> Status.FAILED_PRECONDITION;
                case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
                case INVALID_INPUT -> Status.INVALID_ARGUMENT;
            };
            Metadata trailers = new Metadata();
            trailers.put(KIND, granary.kind().name());
            trailers.put(HINT, granary.hint().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return status.withDescription(granary.getMessage()).asRuntimeException(trailers);
        }
        return Status.INTERNAL.withDescription("internal error: " + error).withCause(error).asRuntimeException();
    }

    /**
     * The exception a call failed with, as the user should read it; {@code server} names the other
     * end, {@code tokenSetting} where the user sets the token it expects.
     */
    public static GranaryException fromStatus(StatusRuntimeException error, String server, String tokenSetting) {
        Metadata trailers = error.getTrailers();
        String kind = trailers == null ? null : trailers.get(KIND);
        String description = error.getStatus().getDescription();
        if (kind != null) {
            byte[] hint = trailers.get(HINT);
            return new GranaryException(GranaryException.Kind.valueOf(kind), description,
                    hint == null ? "" : new String(hint, java.nio.charset.StandardCharsets.UTF_8), null);
        }
        return switch (error.getStatus().getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED -> new GranaryException(GranaryException.Kind.UNAVAILABLE,
                    "cannot reach " + server + ": " + (description == null ? error.getStatus().getCode() : description),
                    "check that it runs and listens there", error);
            case UNAUTHENTICATED -> new GranaryException(GranaryException.Kind.INVALID_INPUT, server + " refused the call: " + description,
                    "set the token it expects (" + tokenSetting + ")", error);
            default -> new GranaryException(GranaryException.Kind.UNAVAILABLE, server + " failed: " + error.getStatus(),
                    "its log says more", error);
        };
    }

    /** The HTTP status of an error, by the same kinds: 404 not found, 503 unavailable, 409 conflict, 400 other user errors, 500 bugs. */
    public static int httpStatus(Throwable error) {
        if (error instanceof GranaryException granary) {
            return switch (granary.kind()) {
                case NOT_FOUND -> 404;
                case UNAVAILABLE -> 503;
                case CONFLICT, ALREADY_EXISTS -> 409;
                case INVALID_INPUT -> 400;
            };
        }
        return 500;
    }
}
