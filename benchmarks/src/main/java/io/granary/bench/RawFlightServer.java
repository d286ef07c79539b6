package io.granary.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * `granary bench stream`'s transport floor: an Arrow Flight server that sends one prepared batch
 * (65,536 rows of 8 longs, 4 MiB) again and again, the ticket saying how often. Nothing is read or
 * decoded, so what a client gets from it is what Flight itself moves on this machine.
 */
final class RawFlightServer implements AutoCloseable {

    private final BufferAllocator allocator = new RootAllocator();
    private final FlightServer server;

    RawFlightServer() throws IOException {
        List<Field> fields = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            fields.add(Field.notNullable("c" + c, new ArrowType.Int(64, true)));
        }
        Schema schema = new Schema(fields);
        this.server = FlightServer.builder(allocator, Location.forGrpcInsecure("127.0.0.1", 0), new NoOpFlightProducer() {
            @Override
            public void getStream(CallContext context, Ticket ticket, ServerStreamListener listener) {
                int rows = 65_536;
                try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
                    for (FieldVector vector : root.getFieldVectors()) {
                        BigIntVector longs = (BigIntVector) vector;
                        longs.allocateNew(rows);
                        for (int i = 0; i < rows; i++) {
                            longs.set(i, i);
                        }
                        longs.setValueCount(rows);
                    }
                    root.setRowCount(rows);
                    Semaphore ready = new Semaphore(0);
                    listener.setOnReadyHandler(ready::release);
                    listener.start(root);
                    int batches = Integer.parseInt(new String(ticket.getBytes(), StandardCharsets.UTF_8));
                    for (int b = 0; b < batches && !listener.isCancelled(); b++) {
                        while (!listener.isReady() && !listener.isCancelled()) {
                            ready.tryAcquire(1, TimeUnit.MILLISECONDS);
                        }
                        listener.putNext();
                    }
                    listener.completed();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }).build().start();
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdown();
        server.awaitTermination(5, TimeUnit.SECONDS);
        server.close();
        allocator.close();
    }
}
