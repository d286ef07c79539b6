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
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * `granary bench stream`'s consumer, a JVM of its own as a training worker is: reads streams from
 * the data server, or the same files directly (Arrow's Dataset module, its native Parquet reader),
 * and prints RESULT lines. Every case runs once to warm up, then is measured.
 *
 * <pre>
 * flight PORT JSON                      one static rank (rank 0 of the request's world_size)
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
                result("flight", flight(port, request));
            }
            case "direct" -> {
                List<String> files = Files.readAllLines(Path.of(args[1]));
                Optional<String[]> columns = args[2].equals("*") ? Optional.empty() : Optional.of(args[2].split(","));
                direct(files, columns);
                result("direct", direct(files, columns));
            }
            case "files" -> {
                List<String> files = Files.readAllLines(Path.of(args[1]));
                plainRead(files);
                result("files", plainRead(files));
            }
            case "workers" -> {
                int port = Integer.parseInt(args[1]);
                StreamRequest request = StreamRequest.fromJson(args[2].getBytes(java.nio.charset.StandardCharsets.UTF_8));
                long nanosPerRow = Long.parseLong(args[3]);
                int slow = Integer.parseInt(args[4]);
                long start = System.nanoTime();
                long[] rows = workers(port, request, nanosPerRow, slow);
                double seconds = (System.nanoTime() - start) / 1e9;
                StringBuilder perWorker = new StringBuilder();
                long total = 0;
                for (long r : rows) {
                    perWorker.append(perWorker.length() == 0 ? "" : ",").append(r);
                    total += r;
                }
                System.out.printf(Locale.ROOT, "RESULT workers seconds=%.3f rows=%d per_worker=%s%n", seconds, total, perWorker);
            }
            default -> throw new IllegalArgumentException("unknown case " + args[0]);
        }
    }

    private record Measured(long rows, long bytes, double seconds, double firstBatchMillis) {}

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
    private static long[] workers(int port, StreamRequest request, long nanosPerRow, int slow) throws Exception {
        int count = request.worldSize();
        ExecutorService threads = Executors.newFixedThreadPool(count);
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (int w = 0; w < count; w++) {
                int worker = w;
                long cost = worker == 0 ? nanosPerRow * slow : nanosPerRow;
                results.add(threads.submit(() -> {
                    DataStream.Server server = new DataStream.Server("127.0.0.1", port, Optional.empty());
                    long rows = 0;
                    try (DataStream stream = request.mode() == StreamRequest.Mode.DYNAMIC
                            ? DataStream.openWorker(server, request, Integer.toString(worker)) : DataStream.open(server, request, worker)) {
                        while (stream.next()) {
                            int n = stream.batch().getRowCount();
                            rows += n;
                            LockSupport.parkNanos(n * cost);
                        }
                    }
                    return rows;
                }));
            }
            long[] rows = new long[count];
            for (int w = 0; w < count; w++) {
                rows[w] = results.get(w).get();
            }
            return rows;
        } finally {
            threads.shutdownNow();
        }
    }
}
