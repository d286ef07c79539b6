package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import io.granary.common.Progress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericFileWriterFactory;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.io.FanoutDataWriter;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.apache.iceberg.io.OutputFileFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes batches of rows into a table's data files on several threads. The caller's thread reads
 * the input and {@link #submit}s batches; each writer thread converts them and writes its own
 * Parquet files (one per partition, rolled at the table's target size). Nothing is committed
 * here: {@link #finish} returns the files for one atomic commit, and {@link #abort} deletes them.
 */
final class ParallelWriter {

    private static final Logger LOG = LoggerFactory.getLogger(ParallelWriter.class);
    private static final RowBatch END = new RowBatch() {
        @Override
        public long bytes() {
            return 0;
        }

        @Override
        public List<Record> toRecords() {
            return List.of();
        }
    };

    private final BlockingQueue<RowBatch> queue;
    private final List<Worker> workers = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Progress progress;
    private final String operationId = UUID.randomUUID().toString();

    ParallelWriter(Table table, Schema schema, int threads, Progress progress) {
        this.progress = progress;
        this.queue = new ArrayBlockingQueue<>(threads * 2);
        GenericFileWriterFactory factory = new GenericFileWriterFactory.Builder(table)
                .dataFileFormat(FileFormat.PARQUET)
                .dataSchema(schema)
                .build();
        long targetFileSize = Long.parseLong(table.properties().getOrDefault("write.target-file-size-bytes",
                String.valueOf(512L << 20)));
        for (int i = 0; i < threads; i++) {
            OutputFileFactory files = OutputFileFactory.builderFor(table, i, 0)
                    .format(FileFormat.PARQUET)
                    .operationId(operationId)
                    .build();
            FanoutDataWriter<Record> writer = new FanoutDataWriter<>(factory, files, table.io(), targetFileSize);
            Worker worker = new Worker(writer, table.spec(), schema);
            Thread thread = new Thread(worker, "granary-write-" + i);
            thread.setDaemon(true);
            worker.thread = thread;
            workers.add(worker);
            thread.start();
        }
    }

    /** Hands a batch to the writers; blocks while they are busy; rethrows a writer's failure. */
    void submit(RowBatch batch) {
        rethrowFailure();
        try {
            while (!queue.offer(batch, 100, TimeUnit.MILLISECONDS)) {
                rethrowFailure();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted while writing", "run the command again");
        }
    }

    /** Waits for every batch to be written, closes the files and returns them. */
    List<DataFile> finish() {
        for (int i = 0; i < workers.size(); i++) {
            submit(END);
        }
        join();
        rethrowFailure();
        List<DataFile> files = new ArrayList<>();
        for (Worker worker : workers) {
            files.addAll(worker.writer.result().dataFiles());
        }
        return files;
    }

    /**
     * Stops the writers and deletes every file they wrote. A writer that failed (a full disk, say)
     * cannot always close or list its files, so they are found by name instead: every file of this
     * write carries its operation id.
     */
    void abort(Table table) {
        Throwable stop = new IllegalStateException("aborted");
        failure.compareAndSet(null, stop);
        queue.clear();
        for (Worker worker : workers) {
            worker.thread.interrupt();
        }
        join();
        for (Worker worker : workers) {
            try {
                worker.writer.close();
            } catch (IOException | RuntimeException e) {
                LOG.debug("closing an aborted writer failed", e);
            }
        }
        if (table.io() instanceof SupportsPrefixOperations files) {
            String dataLocation = table.properties().getOrDefault(TableProperties.WRITE_DATA_LOCATION, table.location() + "/data");
            try {
                for (FileInfo file : files.listPrefix(dataLocation)) {
                    if (file.location().contains(operationId)) {
                        files.deleteFile(file.location());
                    }
                }
            } catch (RuntimeException e) {
                LOG.warn("could not delete the files of an aborted write under {}: {}", dataLocation, e.getMessage());
            }
        }
    }

    private void join() {
        for (Worker worker : workers) {
            try {
                worker.thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void rethrowFailure() {
        Throwable error = failure.get();
        if (error == null) {
            return;
        }
        if (error instanceof GranaryException granary) {
            throw granary;
        }
        if (error instanceof RuntimeException runtime) {
            throw runtime;
        }
        throw new IllegalStateException("a writer thread failed", error);
    }

    private final class Worker implements Runnable {
        private final FanoutDataWriter<Record> writer;
        private final PartitionSpec spec;
        private final PartitionKey key;
        private final InternalRecordWrapper wrapper;
        private Thread thread;

        Worker(FanoutDataWriter<Record> writer, PartitionSpec spec, Schema schema) {
            this.writer = writer;
            this.spec = spec;
            this.key = spec.isUnpartitioned() ? null : new PartitionKey(spec, schema);
            this.wrapper = spec.isUnpartitioned() ? null : new InternalRecordWrapper(schema.asStruct());
        }

        @Override
        public void run() {
            try {
                while (true) {
                    RowBatch batch = queue.take();
                    if (batch == END) {
                        break;
                    }
                    if (failure.get() != null) {
                        continue;
                    }
                    List<Record> records = batch.toRecords();
                    for (Record record : records) {
                        if (key != null) {
                            key.partition(wrapper.wrap(record));
                        }
                        writer.write(record, spec, key);
                    }
                    progress.advance(records.size(), batch.bytes());
                }
                writer.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                queue.clear();
            }
        }
    }
}
