package io.granary.cli;

import io.granary.cache.stream.StreamRequest;
import io.granary.cli.output.Formats;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import io.granary.cache.stream.DataStream;
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
        description = {"Read one rank's Arrow stream of a dataset snapshot from `granary serve data` (or, with --mode dynamic, the units",
            "one worker leases until the epoch is done) and report rows, MB/s and the time to the first batch; --out writes what",
            "arrived as an Arrow IPC stream file."})
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

    @Option(names = "--mode", defaultValue = "static",
            description = "static: this rank's fixed share; dynamic: lease units until the epoch is done (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--worker", description = "This worker's id in dynamic mode (default: the rank).")
    String worker;

    @Option(names = "--host", description = "The server (default: stream.host, 127.0.0.1).")
    String host;

    @Option(names = "--port", description = "Its Arrow Flight port (default: stream.port, 8815).")
    Integer port;

    @Option(names = "--out", paramLabel = "FILE.arrow", description = "Write the batches received to this Arrow IPC stream file.")
    Path out;

    @Override
    protected void run() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode descriptor = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        descriptor.put("dataset", ref).put("world_size", worldSize).put("epoch", epoch).put("seed", seed).put("shuffle", shuffle)
                .put("shuffle_buffer", shuffleBuffer).put("batch_rows", batchRows).put("drop_last", dropLast).put("start_row", startRow)
                .put("mode", mode);
        if (columns != null) {
            columns.forEach(descriptor.putArray("columns")::add);
        }
        // checked here first, so a typo gets the same message without a server round trip
        StreamRequest request = StreamRequest.fromJson(descriptor.toString().getBytes(StandardCharsets.UTF_8));
        boolean dynamic = request.mode() == StreamRequest.Mode.DYNAMIC;
        io.granary.cache.stream.StreamSettings settings = context().config().stream();
        DataStream.Server server = new DataStream.Server(host != null ? host : settings.host(), port != null ? port : settings.port(), settings.token());
        String who = dynamic ? "worker " + (worker != null ? worker : Integer.toString(rank)) : "rank " + rank + " of " + worldSize;
        long start = System.nanoTime();
        long rows = 0;
        long bytes = 0;
        long batches = 0;
        long firstBatchNanos = -1;
        try (BufferAllocator allocator = new RootAllocator();
             DataStream stream = dynamic ? DataStream.openWorker(server, request, worker != null ? worker : Integer.toString(rank), allocator)
                     : DataStream.open(server, request, rank, allocator);
             java.io.OutputStream file = out == null ? null : Files.newOutputStream(out);
             VectorSchemaRoot copy = out == null ? null : VectorSchemaRoot.create(stream.schema(), allocator);
             ArrowStreamWriter writer = out == null ? null : new ArrowStreamWriter(copy, null, file)) {
            if (writer != null) {
                writer.start();
            }
            while (stream.next()) {
                VectorSchemaRoot batch = stream.batch();
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
            double seconds = (System.nanoTime() - start) / 1e9;
            out().printf(Locale.ROOT, "%s: %s rows in %s batches, %s in %.2f s (%.1f MB/s); first batch after %.0f ms; the %s has %s rows%s%n",
                    who, Formats.count(rows), Formats.count(batches), Formats.bytes(bytes), seconds, bytes / seconds / 1e6,
                    Math.max(0, firstBatchNanos) / 1e6, dynamic ? "epoch" : "stream", Formats.count(stream.totalRows()),
                    out == null ? "" : "; written to " + out);
        }
    }
}
