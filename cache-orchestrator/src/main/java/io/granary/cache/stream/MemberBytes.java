package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A table whose rows carry a shard set's index columns (a media-samples output: key, ext, shard,
 * offset, size, ...) streamed with the members' bytes: after the table's columns, one binary column
 * per extension its rows name, holding the bytes of the row's member (null in the other extensions'
 * columns), copied out of the shard set's cached shards.
 *
 * <p>It wraps the table's own units, whose reader reads the requested columns and then the four
 * index columns it needs ({@link #INDEX}), which the stream does not send unless asked for.
 */
final class MemberBytes implements UnitReader {

    /** The index columns a row's member is found by, read after the requested ones. */
    static final List<String> INDEX = List.of("ext", "shard", "offset", "size");

    private final UnitReader table;
    private final int sent;
    private final List<String> extensions;
    private final Map<String, Path> shards;
    private final Schema schema;
    private final Map<Path, MappedByteBuffer> mapped = new ConcurrentHashMap<>();

    /**
     * @param table the table's units, reading the {@code sent} requested columns and then {@link #INDEX}
     * @param extensions the extensions the table's rows name, sorted
     * @param shards where each shard (by its file name) is in the cache
     */
    MemberBytes(UnitReader table, int sent, List<String> extensions, Map<String, Path> shards) {
        this.table = table;
        this.sent = sent;
        this.extensions = List.copyOf(extensions);
        this.shards = Map.copyOf(shards);
        List<Field> fields = new ArrayList<>(table.schema().getFields().subList(0, sent));
        for (String extension : extensions) {
            if (fields.stream().anyMatch(f -> f.getName().equals(extension))) {
                throw new GranaryException("column '" + extension + "' is also a member extension of the rows", "rename the column");
            }
            fields.add(new Field(extension, FieldType.nullable(ArrowType.Binary.INSTANCE), null));
        }
        this.schema = new Schema(fields);
    }

    @Override
    public Schema schema() {
        return schema;
    }

    @Override
    public void release() {
        table.release();
    }

    @Override
    public Decoder decoder(BufferAllocator allocator, boolean keepBuffers) {
        Decoder inner = table.decoder(allocator, keepBuffers);
        return new Decoder() {
            @Override
            public DecodedUnit decode(StreamUnit unit) {
                return new Rows(inner.decode(unit), allocator);
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    private ByteBuffer bytes(String shard, long offset, long size) {
        Path path = shards.get(shard);
        if (path == null) {
            throw new GranaryException("a row names shard " + shard + ", which the shard set it was made from does not have",
                    "rebuild the dataset from the shard set as it is now");
        }
        MappedByteBuffer file = mapped.computeIfAbsent(path, p -> {
            try (FileChannel channel = FileChannel.open(p, StandardOpenOption.READ)) {
                if (channel.size() > Integer.MAX_VALUE) {
                    throw new GranaryException("shard " + shard + " is over 2 GiB, which member columns do not read yet", "pack with --shard-size under 2g");
                }
                return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + p, e);
            }
        });
        if (offset < 0 || offset + size > file.capacity()) {
            throw new GranaryException("a row's member (" + shard + " at " + offset + ", " + size + " bytes) lies outside its shard",
                    "run `granary pack verify` on the shard set");
        }
        return file.slice(Math.toIntExact(offset), Math.toIntExact(size));
    }

    /** A unit of the table's rows, the members' bytes copied in as batches ask for them. */
    private final class Rows implements DecodedUnit {
        private final DecodedUnit rows;
        private final BufferAllocator allocator;

        Rows(DecodedUnit rows, BufferAllocator allocator) {
            this.rows = rows;
            this.allocator = allocator;
        }

        @Override
        public void prefetch() {
            rows.prefetch();
        }

        @Override
        public long bytes(int from, int count) {
            try (VectorSchemaRoot index = index(from, count)) {
                BigIntVector size = (BigIntVector) index.getVector(sent + 3);
                long total = 0;
                for (int i = 0; i < count; i++) {
                    total += size.get(i);
                }
                return total;
            }
        }

        @Override
        public int rowsWithin(int from, int maxRows, long maxBytes) {
            try (VectorSchemaRoot index = index(from, maxRows)) {
                BigIntVector size = (BigIntVector) index.getVector(sent + 3);
                long total = 0;
                for (int i = 0; i < maxRows; i++) {
                    total += size.get(i);
                    if (total > maxBytes && i > 0) {
                        return i;
                    }
                }
                return maxRows;
            }
        }

        /** Rows [from, from + count) in the table reader's columns (the requested ones, then the index ones). */
        private VectorSchemaRoot index(int from, int count) {
            VectorSchemaRoot all = VectorSchemaRoot.create(table.schema(), allocator);
            try {
                rows.slice(from, count, all);
                return all;
            } catch (RuntimeException e) {
                all.close();
                throw e;
            }
        }

        @Override
        public void slice(int from, int count, VectorSchemaRoot out) {
            try (VectorSchemaRoot all = index(from, count)) {
                for (int c = 0; c < sent; c++) {
                    all.getVector(c).makeTransferPair(out.getVector(c)).transfer();
                }
                for (int e = 0; e < extensions.size(); e++) {
                    VarBinaryVector target = (VarBinaryVector) out.getVector(sent + e);
                    target.allocateNew(count);
                }
                fill(all, count, out, 0);
                for (int e = 0; e < extensions.size(); e++) {
                    out.getVector(sent + e).setValueCount(count);
                }
                out.setRowCount(count);
            }
        }

        @Override
        public void copy(int from, int count, VectorSchemaRoot out, int at) {
            try (VectorSchemaRoot all = index(from, count)) {
                for (int c = 0; c < sent; c++) {
                    FieldVector source = all.getVector(c);
                    FieldVector target = out.getVector(c);
                    for (int i = 0; i < count; i++) {
                        target.copyFromSafe(i, at + i, source);
                    }
                }
                fill(all, count, out, at);
            }
        }

        private void fill(VectorSchemaRoot all, int count, VectorSchemaRoot out, int at) {
            VarCharVector ext = (VarCharVector) all.getVector(sent);
            VarCharVector shard = (VarCharVector) all.getVector(sent + 1);
            BigIntVector offset = (BigIntVector) all.getVector(sent + 2);
            BigIntVector size = (BigIntVector) all.getVector(sent + 3);
            for (int i = 0; i < count; i++) {
                int e = java.util.Collections.binarySearch(extensions, new String(ext.get(i), StandardCharsets.UTF_8));
                for (int other = 0; other < extensions.size(); other++) {
                    if (other != e) {
                        ((VarBinaryVector) out.getVector(sent + other)).setNull(at + i);
                    }
                }
                if (e < 0) {
                    continue; // an extension not seen when planned cannot be: the plan read every row's
                }
                ByteBuffer bytes = MemberBytes.this.bytes(new String(shard.get(i), StandardCharsets.UTF_8), offset.get(i), size.get(i));
                ((VarBinaryVector) out.getVector(sent + e)).setSafe(at + i, bytes, bytes.position(), bytes.remaining());
            }
        }

        @Override
        public void close() {
            rows.close();
        }
    }
}
