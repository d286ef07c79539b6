package io.granary.feature.serving;

import feast.proto.serving.ServingAPIProto.GetFeastServingInfoRequest;
import feast.proto.serving.ServingAPIProto.GetFeastServingInfoResponse;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** Feast's gRPC ServingService, answered from the online store. */
final class GrpcServingService extends ServingServiceGrpc.ServingServiceImplBase {

    private final OnlineFeatures features;
    private final ServingMetrics metrics;
    private final String version;

    GrpcServingService(OnlineFeatures features, ServingMetrics metrics, String version) {
        this.features = features;
        this.metrics = metrics;
        this.version = version;
    }

    @Override
    public void getFeastServingInfo(GetFeastServingInfoRequest request, StreamObserver<GetFeastServingInfoResponse> responses) {
        responses.onNext(GetFeastServingInfoResponse.newBuilder().setVersion(version).build());
        responses.onCompleted();
    }

    @Override
    public void getOnlineFeatures(GetOnlineFeaturesRequest request, StreamObserver<GetOnlineFeaturesResponse> responses) {
        long start = System.nanoTime();
        GetOnlineFeaturesResponse response;
        try {
            response = features.get(request);
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
}
