package io.granary.feature.serving;

import io.granary.common.GranaryException;
import io.grpc.Status;

/** How errors reach clients: GranaryException kinds as gRPC and HTTP statuses. */
final class Errors {

    private Errors() {}

    static Status grpc(Throwable error) {
        if (error instanceof GranaryException granary) {
            String message = granary.getMessage() + (granary.hint().isEmpty() ? "" : " (" + granary.hint() + ")");
            return switch (granary.kind()) {
                case NOT_FOUND -> Status.NOT_FOUND.withDescription(message);
                case UNAVAILABLE -> Status.UNAVAILABLE.withDescription(message);
                case CONFLICT, ALREADY_EXISTS -> Status.FAILED_PRECONDITION.withDescription(message);
                default -> Status.INVALID_ARGUMENT.withDescription(message);
            };
        }
        return Status.INTERNAL.withDescription("internal error: " + error);
    }
}
