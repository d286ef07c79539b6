package io.granary.bench;

import io.granary.cache.stream.DataStream;
import io.granary.cache.stream.StreamRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * `granary bench stream`'s consumer, a JVM of its own as a training worker is: reads streams from
 * the data server, or the same files directly (Arrow's Dataset module, its native Parquet reader),
 * and prints RESULT lines. Every case runs once to warm up, then three times; the median round is reported.
 *
 * <pre>
 * flight PORT JSON                      one static rank (rank 0 of the request's world_size)
 * raw PORT BATCHES                      the raw Flight server's batch, BATCHES times (Flight's own rate)
 * direct FILES_LIST COLUMNS|*           the Parquet files listed, all of them, these columns
 * files FILES_LIST                      the files listed read whole (the shards: a plain read)
 * workers PORT JSON NANOS_PER_ROW SLOW  world_size workers at once, each sleeping per row it gets, worker 0 SLOW times longer
 * </pre>
 */
public final class StreamReadClient {

    private StreamReadClient() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "flight" -> {
                int port = Integer.parseInt(args[1]);
                StreamRequest request = StreamRequest.fromJson(args[2].getBytes(java.nio.charset.StandardCharsets.UTF_8));
                flight(port, request.with("epoch", 99)); // warm-up: another epoch, same files
                List<Measured> rounds = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    rounds.add(flight(port, request.with("epoch", round)));
                }
                result("flight", median(rounds));
            }
            case "raw" -> {
                int port = Integer.parseInt(args[1]);
                Ticket ticket = new Ticket(args[2].getBytes(java.nio.charset.StandardCharsets.UTF_8));
                raw(port, ticket);
                List<Measured> rounds = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    rounds.add(raw(port, ticket));
                }
                result("raw", median(rounds));
            }
            case "direct" -> {
                List<String> files = Files.readAllLines(Path.of(args[1]));
                Optional<String[]> columns = args[2].equals("*") ? Optional.empty() : Optional.of(args[2].split(","));
                direct(files, columns);
                List<Measured> rounds = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    rounds.add(direct(files, columns));
                }
                result("direct", median(rounds));
            }
            case "files" -> {
                List<String> files = Files.readAllLines(Path.of(args[1]));
                plainRead(files);
                List<Measured> rounds = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    rounds.add(plainRead(files));
                }
                result("files", median(rounds));
            }
            case "workers" -> {
                int port = Integer.parseInt(args[1]);
                StreamRequest request = StreamRequest.fromJson(args[2].getBytes(java.nio.charset.StandardCharsets.UTF_8));
                long nanosPerRow = Long.parseLong(args[3]);
                int slow = Integer.parseInt(args[4]);
                // warm-up: another epoch the same way, without training, so that the code of this mode (a static rank's DoGet, a dynamic
                // worker's DoExchange) is loaded and compiled in both JVMs and the server's plan made before the clock starts
                workers(port, request.with("epoch", 99), 0, 1);
                long start = System.nanoTime();
                long[][] done = workers(port, request, nanosPerRow, slow);
                double seconds = (System.nanoTime() - start) / 1e9;
                StringBuilder perWorker = new StringBuilder();
                StringBuilder busy = new StringBuilder();
                long total = 0;
                for (long[] worker : done) {
                    perWorker.append(perWorker.length() == 0 ? "" : ",").append(worker[0]);
                    busy.append(busy.length() == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.2f/%.2f", worker[1] / 1e9, worker[2] / 1e9));
                    total += worker[0];
                }
                System.out.printf(Locale.ROOT, "RESULT workers seconds=%.3f rows=%d per_worker=%s trained/waited_s=%s%n", seconds, total, perWorker, busy);
            }
            default -> throw new IllegalArgumentException("unknown case " + args[0]);
        }
    }

    /** Measured rounds after the warm-up one: the JIT of both JVMs is still at work in the first rounds. */
    private static final int ROUNDS = 3;

    private record Measured(long rows, long bytes, double seconds, double firstBatchMillis) {}

    /** The median round by time, with the median first-batch latency. */
    private static Measured median(List<Measured> rounds) {
        List<Measured> byTime = new ArrayList<>(rounds);
        byTime.sort(java.util.Comparator.comparingDouble(Measured::seconds));
        double[] firsts = rounds.stream().mapToDouble(Measured::firstBatchMillis).sorted().toArray();
        Measured middle = byTime.get(byTime.size() / 2);
        return new Measured(middle.rows(), middle.bytes(), middle.seconds(), firsts[firsts.length / 2]);
    }

    private static void result(String name, Measured m) {
        System.out.printf(Locale.ROOT, "RESULT %s rows=%d bytes=%d seconds=%.3f mbps=%.1f first_ms=%.1f%n", name, m.rows(), m.bytes(), m.seconds(),
                m.bytes() / m.seconds() / 1e6, m.firstBatchMillis());
    }

    private static long bytes(VectorSchemaRoot batch) {
        long total = 0;
        for (FieldVector vector : batch.getFieldVectors()) {
            total += vector.getBufferSize();
        }
        return total;
    }

    private static Measured flight(int port, StreamRequest request) {
        long start = System.nanoTime();
        double first = -1;
        long rows = 0;
        long bytes = 0;
        try (DataStream stream = DataStream.open(new DataStream.Server("127.0.0.1", port, Optional.empty()), request, 0)) {
            while (stream.next()) {
                if (first < 0) {
                    first = (System.nanoTime() - start) / 1e6;
                }
                rows += stream.batch().getRowCount();
                bytes += bytes(stream.batch());
            }
        }
        return new Measured(rows, bytes, (System.nanoTime() - start) / 1e9, first);
    }

    /** A stock Flight client reading the raw server's repeated batch: Flight's own rate here. */
    private static Measured raw(int port, Ticket ticket) throws Exception {
        long start = System.nanoTime();
        double first = -1;
        long rows = 0;
        long bytes = 0;
        try (BufferAllocator allocator = new RootAllocator();
             org.apache.arrow.flight.FlightClient client = org.apache.arrow.flight.FlightClient.builder(allocator,
                     org.apache.arrow.flight.Location.forGrpcInsecure("127.0.0.1", port)).build();
             org.apache.arrow.flight.FlightStream stream = client.getStream(ticket)) {
            while (stream.next()) {
                if (first < 0) {
                    first = (System.nanoTime() - start) / 1e6;
                }
                rows += stream.getRoot().getRowCount();
                bytes += bytes(stream.getRoot());
            }
        }
        return new Measured(rows, bytes, (System.nanoTime() - start) / 1e9, first);
    }

    private static Measured direct(List<String> files, Optional<String[]> columns) throws Exception {
        long start = System.nanoTime();
        double first = -1;
        long rows = 0;
        long bytes = 0;
        String[] uris = files.stream().map(f -> Path.of(f).toUri().toString()).toArray(String[]::new);
        try (BufferAllocator allocator = new RootAllocator();
             org.apache.arrow.dataset.source.DatasetFactory factory = new org.apache.arrow.dataset.file.FileSystemDatasetFactory(allocator,
                     org.apache.arrow.dataset.jni.NativeMemoryPool.getDefault(), org.apache.arrow.dataset.file.FileFormat.PARQUET, uris);
             org.apache.arrow.dataset.source.Dataset dataset = factory.finish();
             org.apache.arrow.dataset.scanner.Scanner scanner = dataset.newScan(new org.apache.arrow.dataset.scanner.ScanOptions(65_536, columns));
             org.apache.arrow.vector.ipc.ArrowReader reader = scanner.scanBatches()) {
            while (reader.loadNextBatch()) {
                VectorSchemaRoot batch = reader.getVectorSchemaRoot();
                if (first < 0) {
                    first = (System.nanoTime() - start) / 1e6;
                }
                rows += batch.getRowCount();
                bytes += bytes(batch);
            }
        }
        return new Measured(rows, bytes, (System.nanoTime() - start) / 1e9, first);
    }

    private static Measured plainRead(List<String> files) throws IOException {
        long start = System.nanoTime();
        double first = -1;
        long bytes = 0;
        ByteBuffer buffer = ByteBuffer.allocateDirect(8 << 20);
        for (String file : files) {
            try (FileChannel channel = FileChannel.open(Path.of(file), StandardOpenOption.READ)) {
                int read;
                while ((read = channel.read(buffer.clear())) > 0) {
                    if (first < 0) {
                        first = (System.nanoTime() - start) / 1e6;
                    }
                    bytes += read;
                }
            }
        }
        return new Measured(files.size(), bytes, (System.nanoTime() - start) / 1e9, first);
    }

    /** World-size dynamic (or static) workers at once; each "trains" on a batch by sleeping rows x its cost per row. */
    /** Per worker: rows, nanoseconds spent "training", nanoseconds spent waiting for batches. */
    private static long[][] workers(int port, StreamRequest request, long nanosPerRow, int slow) throws Exception {
        int count = request.worldSize();
        ExecutorService threads = Executors.newFixedThreadPool(count);
        try {
            List<Future<long[]>> results = new ArrayList<>();
            for (int w = 0; w < count; w++) {
                int worker = w;
                long cost = worker == 0 ? nanosPerRow * slow : nanosPerRow;
                results.add(threads.submit(() -> {
                    DataStream.Server server = new DataStream.Server("127.0.0.1", port, Optional.empty());
                    long rows = 0;
                    long trained = 0;
                    long waited = 0;
                    try (DataStream stream = request.mode() == StreamRequest.Mode.DYNAMIC
                            ? DataStream.openWorker(server, request, Integer.toString(worker)) : DataStream.open(server, request, worker)) {
                        long mark = System.nanoTime();
                        while (stream.next()) {
                            long got = System.nanoTime();
                            waited += got - mark;
                            int n = stream.batch().getRowCount();
                            rows += n;
                            long until = got + n * cost;
                            while (System.nanoTime() < until) {
                                LockSupport.parkNanos(until - System.nanoTime());
                            }
                            mark = System.nanoTime();
                            trained += mark - got;
                        }
                    }
                    return new long[] {rows, trained, waited};
                }));
            }
            long[][] done = new long[count][];
            for (int w = 0; w < count; w++) {
                done[w] = results.get(w).get();
            }
            return done;
        } finally {
            threads.shutdownNow();
        }
    }
}
