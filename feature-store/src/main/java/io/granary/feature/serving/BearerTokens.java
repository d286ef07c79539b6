package io.granary.feature.serving;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Checks "Authorization: Bearer TOKEN" on gRPC calls and HTTP requests, in constant time. */
final class BearerTokens implements ServerInterceptor {

    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final byte[] expected;

    BearerTokens(String token) {
        this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    }

    boolean accepts(String header) {
        return header != null && MessageDigest.isEqual(expected, header.trim().getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (!accepts(headers.get(AUTHORIZATION))) {
            call.close(Status.UNAUTHENTICATED.withDescription("missing or wrong bearer token (send authorization: Bearer TOKEN)"), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        return next.startCall(call, headers);
    }
}
