package io.granary.bench;

import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.serving.ServingServiceGrpc;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load client of `granary bench online`, run in a JVM of its own so that it does not share a
 * heap or JIT with the server. For each batch size it measures one closed-loop client's latency,
 * then the peak rate of many clients, against the feature server (gRPC) and against Redis
 * (one pipelined HMGET per entity row). Prints RESULT lines for the benchmark to read.
 */
public final class OnlineLoadClient {

    private OnlineLoadClient() {}

    /** One request of a batch of entity ids; returns the values received, as a sanity check. */
    interface Target extends AutoCloseable {
        int call(long[] ids) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String target = args[0];
        int port = Integer.parseInt(args[1]);
        long entities = Long.parseLong(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int peakThreads = Integer.parseInt(args[4]);
        List<String> fields = List.of(args[5].split(","));
        ManagedChannel channel = target.startsWith("grpc") ? NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build() : null;
        try (Target client = open(target, channel, port, fields)) {
            // the JIT needs a while on both sides before latencies mean anything
            for (int batch : new int[] {1, 10, 100, 1}) {
                run(client, batch, entities, 2, null);
            }
        }
        for (int batch : new int[] {1, 10, 100}) {
            Latencies latencies = new Latencies();
            try (Target client = open(target, channel, port, fields)) {
                run(client, batch, entities, 1, null);
                run(client, batch, entities, seconds, latencies);
            }
            System.out.printf(Locale.ROOT, "RESULT %s latency batch=%d %s%n", target, batch, latencies.summary());
        }
        ExecutorService pool = Executors.newFixedThreadPool(peakThreads);
        AtomicLong requests = new AtomicLong();
        List<Future<?>> clients = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (int t = 0; t < peakThreads; t++) {
            clients.add(pool.submit(() -> {
                try (Target client = open(target, channel, port, fields)) {
                    long[] ids = new long[1];
                    while (System.nanoTime() < deadline) {
                        ids[0] = ThreadLocalRandom.current().nextLong(entities);
                        client.call(ids);
                        requests.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> client : clients) {
            client.get();
        }
        pool.shutdown();
        System.out.printf(Locale.ROOT, "RESULT %s peak threads=%d rps=%.0f%n", target, peakThreads, requests.get() / (double) seconds);
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void run(Target client, int batch, long entities, int seconds, Latencies latencies) throws Exception {
        long[] ids = new long[batch];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < batch; i++) {
                ids[i] = ThreadLocalRandom.current().nextLong(entities);
            }
            long start = System.nanoTime();
            int values = client.call(ids);
            long took = System.nanoTime() - start;
            if (values == 0) {
                throw new IllegalStateException("no values returned");
            }
            if (latencies != null) {
                latencies.record(took);
            }
        }
    }

    private static Target open(String target, ManagedChannel channel, int port, List<String> fields) throws Exception {
        if (target.equals("grpc-empty")) {
            // the transport alone: an empty call on the same channel, to tell gRPC's cost from the lookups'
            ServingServiceGrpc.ServingServiceBlockingStub stub = ServingServiceGrpc.newBlockingStub(channel);
            return new Target() {
                @Override
                public int call(long[] ids) {
                    stub.withDeadlineAfter(10, TimeUnit.SECONDS).getFeastServingInfo(
                            feast.proto.serving.ServingAPIProto.GetFeastServingInfoRequest.getDefaultInstance());
                    return 1;
                }

                @Override
                public void close() {}
            };
        }
        if (target.equals("grpc")) {
            ServingServiceGrpc.ServingServiceBlockingStub stub = ServingServiceGrpc.newBlockingStub(channel);
            return new Target() {
                @Override
                public int call(long[] ids) {
                    RepeatedValue.Builder column = RepeatedValue.newBuilder();
                    for (long id : ids) {
                        column.addVal(Value.newBuilder().setInt64Val(id));
                    }
                    GetOnlineFeaturesResponse response = stub.withDeadlineAfter(10, TimeUnit.SECONDS).getOnlineFeatures(
                            GetOnlineFeaturesRequest.newBuilder().setFeatureService("all").setFullFeatureNames(true)
                                    .putEntities("entity_id", column.build()).build());
                    return response.getResultsCount() * ids.length;
                }

                @Override
                public void close() {}
            };
        }
        Resp redis = new Resp(port);
        List<byte[]> fieldBytes = fields.stream().map(f -> f.getBytes(StandardCharsets.UTF_8)).toList();
        return new Target() {
            @Override
            public int call(long[] ids) throws Exception {
                for (long id : ids) {
                    List<byte[]> command = new ArrayList<>(fieldBytes.size() + 2);
                    command.add("HMGET".getBytes(StandardCharsets.US_ASCII));
                    command.add(("e:" + id).getBytes(StandardCharsets.US_ASCII));
                    command.addAll(fieldBytes);
                    redis.send(command);
                }
                redis.flush();
                int values = 0;
                for (int i = 0; i < ids.length; i++) {
                    values += redis.readReply();
                }
                return values;
            }

            @Override
            public void close() throws Exception {
                redis.close();
            }
        };
    }
}
