package io.granary.feature.serving;

import feast.proto.serving.ServingAPIProto.GetFeastServingInfoRequest;
import feast.proto.serving.ServingAPIProto.GetFeastServingInfoResponse;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingServiceGrpc;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Feast's gRPC ServingService, answered from the online store. GetOnlineFeatures sends the
 * response bytes {@link OnlineFeatures#encode} wrote, through a marshaller that passes them on
 * as they are: same method, same messages on the wire, no message built and serialized again.
 */
final class GrpcServingService {

    private GrpcServingService() {}

    static final MethodDescriptor<GetOnlineFeaturesRequest, byte[]> GET_ONLINE_FEATURES = ServingServiceGrpc.getGetOnlineFeaturesMethod()
            .toBuilder(ProtoUtils.marshaller(GetOnlineFeaturesRequest.getDefaultInstance()), new EncodedMessages())
            .build();

    static ServerServiceDefinition definition(OnlineFeatures features, ServingMetrics metrics, String version) {
        ServiceDescriptor feast = ServingServiceGrpc.getServiceDescriptor();
        ServiceDescriptor service = ServiceDescriptor.newBuilder(feast.getName())
                .setSchemaDescriptor(feast.getSchemaDescriptor())
                .addMethod(ServingServiceGrpc.getGetFeastServingInfoMethod())
                .addMethod(GET_ONLINE_FEATURES)
                .build();
        return ServerServiceDefinition.builder(service)
                .addMethod(ServingServiceGrpc.getGetFeastServingInfoMethod(), ServerCalls.asyncUnaryCall(
                        (GetFeastServingInfoRequest request, StreamObserver<GetFeastServingInfoResponse> responses) -> {
                            responses.onNext(GetFeastServingInfoResponse.newBuilder().setVersion(version).build());
                            responses.onCompleted();
                        }))
                .addMethod(GET_ONLINE_FEATURES, ServerCalls.asyncUnaryCall(
                        (GetOnlineFeaturesRequest request, StreamObserver<byte[]> responses) -> getOnlineFeatures(features, metrics, request, responses)))
                .build();
    }

    private static void getOnlineFeatures(OnlineFeatures features, ServingMetrics metrics, GetOnlineFeaturesRequest request,
                                          StreamObserver<byte[]> responses) {
        long start = System.nanoTime();
        byte[] response;
        try {
            response = features.encode(request);
        } catch (RuntimeException e) {
            Status status = Errors.grpc(e);
            metrics.failed("grpc", status.getCode().name(), System.nanoTime() - start);
            responses.onError(status.asRuntimeException());
            return;
        }
        responses.onNext(response);
        responses.onCompleted();
        metrics.answered("grpc", System.nanoTime() - start);
    }

    /** Messages that are already bytes: sent as they are, received as they came. */
    private static final class EncodedMessages implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] message) {
            return new EncodedStream(message);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("cannot read a message: " + e.getMessage()).withCause(e).asRuntimeException();
            }
        }
    }

    /** Tells gRPC the length up front and lets it write the bytes in one go, as it does for protobuf messages. */
    private static final class EncodedStream extends ByteArrayInputStream implements KnownLength, Drainable {
        EncodedStream(byte[] bytes) {
            super(bytes);
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int length = count - pos;
            target.write(buf, pos, length);
            pos = count;
            return length;
        }
    }
}
