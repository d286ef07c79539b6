package io.granary.cli;

import io.granary.cache.stream.StreamRequest;
import io.granary.cli.output.Formats;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `granary stream`: consume one rank's stream from `granary serve data`, as a training worker would. */
@Command(name = "stream", mixinStandardHelpOptions = true,
        description = {"Read one rank's Arrow stream of a dataset snapshot from `granary serve data` and report rows, MB/s and the time",
            "to the first batch; --out writes what arrived as an Arrow IPC stream file."})
public final class StreamCommand extends Subcommand {

    @Parameters(index = "0", paramLabel = "REF", description = "A dataset ref: NS.NAME, NS.NAME@TAG, @BRANCH or @SNAPSHOT_ID.")
    String ref;

    @Option(names = "--rank", defaultValue = "0", description = "This worker's rank (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(names = "--world-size", defaultValue = "1", description = "Workers in the job (default: ${DEFAULT-VALUE}).")
    int worldSize;

    @Option(names = "--epoch", defaultValue = "0", description = "The epoch (default: ${DEFAULT-VALUE}).")
    int epoch;

    @Option(names = "--seed", defaultValue = "0", description = "The shuffle seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--shuffle", defaultValue = "none", description = "none, units or buffer (default: ${DEFAULT-VALUE}).")
    String shuffle;

    @Option(names = "--shuffle-buffer", defaultValue = "0", description = "Rows of the shuffle buffer, with --shuffle buffer.")
    int shuffleBuffer;

    @Option(names = "--batch-rows", defaultValue = "65536", description = "Rows per batch (default: ${DEFAULT-VALUE}).")
    int batchRows;

    @Option(names = "--columns", split = ",", description = "Columns to read (default: all).")
    List<String> columns;

    @Option(names = "--drop-last", description = "Drop the rows that do not divide evenly over the ranks instead of repeating the first ones.")
    boolean dropLast;

    @Option(names = "--start-row", defaultValue = "0", description = "Rows this rank already consumed in this epoch (resume).")
    long startRow;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "The server (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8815", description = "Its Arrow Flight port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--out", paramLabel = "FILE.arrow", description = "Write the batches received to this Arrow IPC stream file.")
    Path out;

    @Override
    protected void run() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode descriptor = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        descriptor.put("dataset", ref).put("world_size", worldSize).put("epoch", epoch).put("seed", seed).put("shuffle", shuffle)
                .put("shuffle_buffer", shuffleBuffer).put("batch_rows", batchRows).put("drop_last", dropLast).put("start_row", startRow);
        if (columns != null) {
            columns.forEach(descriptor.putArray("columns")::add);
        }
        String json = descriptor.toString();
        // checked here first, so a typo gets the same message without a server round trip
        StreamRequest.fromJson(json.toString().getBytes(StandardCharsets.UTF_8));
        long start = System.nanoTime();
        try (BufferAllocator allocator = new RootAllocator();
             FlightClient client = FlightClient.builder(allocator, Location.forGrpcInsecure(host, port)).build()) {
            FlightInfo info = client.getInfo(FlightDescriptor.command(json.toString().getBytes(StandardCharsets.UTF_8)));
            if (rank < 0 || rank >= info.getEndpoints().size()) {
                throw new io.granary.common.GranaryException("--rank " + rank + " is out of range for --world-size " + worldSize, "ranks are 0 to world size - 1");
            }
            FlightEndpoint endpoint = info.getEndpoints().get(rank);
            long rows = 0;
            long bytes = 0;
            long batches = 0;
            long firstBatchNanos = -1;
            try (FlightStream stream = client.getStream(endpoint.getTicket());
                 java.io.OutputStream file = out == null ? null : Files.newOutputStream(out);
                 VectorSchemaRoot copy = out == null ? null : VectorSchemaRoot.create(stream.getSchema(), allocator);
                 ArrowStreamWriter writer = out == null ? null : new ArrowStreamWriter(copy, null, file)) {
                if (writer != null) {
                    writer.start();
                }
                while (stream.next()) {
                    VectorSchemaRoot batch = stream.getRoot();
                    if (firstBatchNanos < 0) {
                        firstBatchNanos = System.nanoTime() - start;
                    }
                    batches++;
                    rows += batch.getRowCount();
                    bytes += batch.getFieldVectors().stream().mapToLong(v -> v.getBufferSize()).sum();
                    if (writer != null) {
                        try (ArrowRecordBatch unloaded = new VectorUnloader(batch).getRecordBatch()) {
                            new org.apache.arrow.vector.VectorLoader(copy).load(unloaded);
                        }
                        writer.writeBatch();
                    }
                }
                if (writer != null) {
                    writer.end();
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            out().printf(Locale.ROOT, "rank %d of %d: %s rows in %s batches, %s in %.2f s (%.1f MB/s); first batch after %.0f ms; the stream has %s rows%s%n",
                    rank, worldSize, Formats.count(rows), Formats.count(batches), Formats.bytes(bytes), seconds, bytes / seconds / 1e6,
                    firstBatchNanos / 1e6, Formats.count(info.getRecords()), out == null ? "" : "; written to " + out);
        } catch (FlightRuntimeException e) {
            if (e.status().code() == org.apache.arrow.flight.FlightStatusCode.UNAVAILABLE) {
                throw new io.granary.common.GranaryException(io.granary.common.GranaryException.Kind.UNAVAILABLE,
                        "cannot reach the data server at " + host + ":" + port + ": " + e.getMessage(),
                        "start it with `granary serve data`, or check --host and --port", e);
            }
            throw new io.granary.common.GranaryException("the data server at " + host + ":" + port + " refused the stream: " + e.getMessage(),
                    "see the stream descriptor in the README", e);
        }
    }
}
