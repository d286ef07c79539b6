package io.granary.cache.stream;

import io.granary.common.GranaryException;
import io.granary.packer.IndexFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
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
import org.apache.iceberg.types.Types;

/**
 * A packed media set's units, its shards, as rows of samples: {@code __key__} (the sample key, as
 * WebDataset names it), one binary column per member extension holding the member's bytes (null
 * where a sample has no such member), and the index's metadata columns. A shard's index part gives
 * each member's place; the bytes are copied out of the cached shard, which staging verified.
 */
final class ShardUnits implements UnitReader {

    static final String KEY = "__key__";

    private static final Types.NestedField KEY_FIELD = IndexFiles.BASE.findField("key");
    private static final Types.NestedField EXT_FIELD = IndexFiles.BASE.findField("ext");
    private static final Types.NestedField OFFSET_FIELD = IndexFiles.BASE.findField("offset");
    private static final Types.NestedField SIZE_FIELD = IndexFiles.BASE.findField("size");

    /** A column of the stream: the key, a member's bytes, or a metadata column of the index. */
    private sealed interface Column permits KeyColumn, MemberColumn, MetadataColumn {}

    private record KeyColumn() implements Column {}

    private record MemberColumn(int extension) implements Column {}

    private record MetadataColumn(Types.NestedField field) implements Column {}

    /** Where a shard and its index part are on the local disk. */
    record ShardFiles(Path shard, Path index) {}

    private final Map<String, ShardFiles> files;
    private final List<String> extensions;
    private final List<Column> columns;
    private final List<Types.NestedField> metadata;
    private final Schema schema;

    private ShardUnits(Map<String, ShardFiles> files, List<String> extensions, List<Column> columns) {
        this.files = Map.copyOf(files);
        this.extensions = List.copyOf(extensions);
        this.columns = List.copyOf(columns);
        this.metadata = columns.stream().filter(MetadataColumn.class::isInstance).map(c -> ((MetadataColumn) c).field()).toList();
        List<Field> fields = new ArrayList<>();
        for (Column column : columns) {
            if (column instanceof MemberColumn member) {
                fields.add(new Field(extensions.get(member.extension()), FieldType.nullable(ArrowType.Binary.INSTANCE), null));
            } else if (column instanceof MetadataColumn meta) {
                fields.add(RowGroupBatches.arrowField(meta.field()));
            } else {
                fields.add(new Field(KEY, FieldType.notNullable(ArrowType.Utf8.INSTANCE), null));
            }
        }
        this.schema = new Schema(fields);
    }

    /**
     * The units of a packed set whose index columns are {@code indexSchema} (the dataset's schema):
     * the extensions are those its index parts list; {@code wanted} names the columns to send, all
     * when empty.
     */
    static ShardUnits of(String dataset, Map<String, ShardFiles> files, org.apache.iceberg.Schema indexSchema,
                         java.util.Optional<List<String>> wanted) {
        List<String> extensions = RowGroupBatches.distinctStrings(files.values().stream().map(ShardFiles::index).toList(), EXT_FIELD);
        List<Types.NestedField> metadata = indexSchema.columns().stream()
                .filter(field -> IndexFiles.BASE.findField(field.name()) == null).toList();
        List<Column> all = new ArrayList<>();
        List<String> names = new ArrayList<>();
        all.add(new KeyColumn());
        names.add(KEY);
        for (int e = 0; e < extensions.size(); e++) {
            all.add(new MemberColumn(e));
            names.add(extensions.get(e));
        }
        for (Types.NestedField field : metadata) {
            if (names.contains(field.name())) {
                continue; // a metadata column named like an extension: the member's bytes win, as WebDataset's keys do
            }
            if (ArrowColumn.supports(field.type().typeId())) {
                all.add(new MetadataColumn(field));
                names.add(field.name());
            }
        }
        if (wanted.isEmpty()) {
            return new ShardUnits(files, extensions, all);
        }
        List<Column> chosen = new ArrayList<>();
        for (String name : wanted.get()) {
            int at = names.indexOf(name);
            if (at < 0) {
                throw new GranaryException("descriptor key 'columns': the packed set " + dataset + " has no column '" + name + "'",
                        "its columns are " + String.join(", ", names) + " (" + KEY + ", one per member extension, then its metadata)");
            }
            chosen.add(all.get(at));
        }
        return new ShardUnits(files, extensions, chosen);
    }

    private static RowGroupBatches openIndex(Path index, List<Types.NestedField> fields) throws IOException {
        return RowGroupBatches.open(index, fields).orElseThrow(() -> new GranaryException(
                "the index part " + index + " is not one Granary wrote", "repack the shard set with `granary pack`"));
    }

    private static GranaryException unreadable(Path file, IOException e) {
        return new GranaryException("cannot read " + file + " in the cache: " + e.getMessage(),
                "run `granary cache verify`: a damaged file is dropped and fetched again", e);
    }

    @Override
    public Schema schema() {
        return schema;
    }

    @Override
    public Decoder decoder(BufferAllocator allocator, boolean keepBuffers) {
        return new Decoder() {
            @Override
            public DecodedUnit decode(StreamUnit unit) {
                return ShardUnits.this.decode(unit, allocator);
            }

            @Override
            public void close() {}
        };
    }

    private DecodedUnit decode(StreamUnit unit, BufferAllocator allocator) {
        ShardFiles shard = files.get(unit.file());
        if (shard == null) {
            throw new IllegalStateException("no shard " + unit.file() + " in this stream's plan");
        }
        List<Types.NestedField> read = new ArrayList<>(List.of(KEY_FIELD, EXT_FIELD, OFFSET_FIELD, SIZE_FIELD));
        read.addAll(metadata);
        int samples = Math.toIntExact(unit.rows());
        long[][] offsets = new long[extensions.size()][samples];
        long[][] sizes = new long[extensions.size()][samples];
        for (long[] row : sizes) {
            Arrays.fill(row, -1);
        }
        Schema baseSchema = new Schema(schema.getFields().stream().filter(f -> !isMember(f.getName())).toList());
        VectorSchemaRoot base = VectorSchemaRoot.create(baseSchema, allocator);
        try (RowGroupBatches index = openIndex(shard.index(), read)) {
            base.getFieldVectors().forEach(vector -> {
                vector.setInitialCapacity(samples);
                vector.allocateNew();
            });
            int sample = -1;
            byte[] lastKey = null;
            while (index.hasNext()) {
                try (VectorSchemaRoot part = index.next(allocator)) {
                    VarCharVector key = (VarCharVector) part.getVector(0);
                    VarCharVector ext = (VarCharVector) part.getVector(1);
                    BigIntVector offset = (BigIntVector) part.getVector(2);
                    BigIntVector size = (BigIntVector) part.getVector(3);
                    for (int i = 0; i < part.getRowCount(); i++) {
                        byte[] thisKey = key.get(i);
                        if (lastKey == null || !Arrays.equals(thisKey, lastKey)) {
                            sample++;
                            if (sample >= samples) {
                                throw mismatch(unit, shard);
                            }
                            lastKey = thisKey;
                            fillBase(base, sample, thisKey, part, i);
                        }
                        int e = extensionIndex(new String(ext.get(i), StandardCharsets.UTF_8));
                        offsets[e][sample] = offset.get(i);
                        sizes[e][sample] = size.get(i);
                    }
                }
            }
            if (sample + 1 != samples) {
                throw mismatch(unit, shard);
            }
            base.getFieldVectors().forEach(vector -> vector.setValueCount(samples));
            base.setRowCount(samples);
            return new Samples(base, offsets, sizes, map(shard.shard()));
        } catch (IOException e) {
            base.close();
            throw unreadable(shard.index(), e);
        } catch (RuntimeException e) {
            base.close();
            throw e;
        }
    }

    private boolean isMember(String name) {
        return columns.stream().anyMatch(c -> c instanceof MemberColumn member && extensions.get(member.extension()).equals(name));
    }

    /** Sets sample {@code sample}'s key and metadata (from its first member's index row {@code row}). */
    private void fillBase(VectorSchemaRoot base, int sample, byte[] key, VectorSchemaRoot part, int row) {
        int v = 0;
        int m = 0;
        for (Column column : columns) {
            if (column instanceof KeyColumn) {
                ((VarCharVector) base.getVector(v++)).setSafe(sample, key);
            } else if (column instanceof MetadataColumn) {
                base.getVector(v++).copyFromSafe(row, sample, part.getVector(4 + m++));
            }
        }
    }

    private static GranaryException mismatch(StreamUnit unit, ShardFiles shard) {
        return new GranaryException("the index part " + shard.index() + " does not list the " + unit.rows() + " samples the manifest gives "
                + unit.file(), "run `granary pack verify` on the shard set and repack it");
    }

    /** The shard's bytes: mapped when they fit one buffer, else read member by member. */
    private static ByteSource map(Path shard) {
        try (FileChannel channel = FileChannel.open(shard, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size <= Integer.MAX_VALUE) {
                MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
                return (offset, length) -> mapped.slice(Math.toIntExact(offset), length);
            }
        } catch (IOException e) {
            throw unreadable(shard, e);
        }
        return (offset, length) -> {
            try (FileChannel channel = FileChannel.open(shard, StandardOpenOption.READ)) {
                ByteBuffer buffer = ByteBuffer.allocate(length);
                while (buffer.hasRemaining() && channel.read(buffer, offset + buffer.position()) >= 0) {
                    // a positional read may return fewer bytes than asked
                }
                return buffer.flip();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + shard, e);
            }
        };
    }

    private interface ByteSource {
        ByteBuffer bytes(long offset, int length);
    }

    private int extensionIndex(String extension) {
        int at = java.util.Collections.binarySearch(extensions, extension);
        if (at < 0) {
            throw new IllegalStateException("extension " + extension + " was not seen when the stream was planned");
        }
        return at;
    }

    /** A shard's samples: keys and metadata decoded, member bytes copied out of the shard as batches ask for them. */
    private final class Samples implements DecodedUnit {
        private final VectorSchemaRoot base;
        private final long[][] offsets;
        private final long[][] sizes;
        private final ByteSource shard;

        Samples(VectorSchemaRoot base, long[][] offsets, long[][] sizes, ByteSource shard) {
            this.base = base;
            this.offsets = offsets;
            this.sizes = sizes;
            this.shard = shard;
        }

        @Override
        public long bytes(int from, int count) {
            long bytes = 0;
            for (Column column : columns) {
                if (column instanceof MemberColumn member) {
                    for (int i = from; i < from + count; i++) {
                        bytes += Math.max(0, sizes[member.extension()][i]);
                    }
                }
            }
            return bytes;
        }

        @Override
        public int rowsWithin(int from, int maxRows, long maxBytes) {
            long bytes = 0;
            for (int i = 0; i < maxRows; i++) {
                for (Column column : columns) {
                    if (column instanceof MemberColumn member) {
                        bytes += Math.max(0, sizes[member.extension()][from + i]);
                    }
                }
                if (bytes > maxBytes && i > 0) {
                    return i;
                }
            }
            return maxRows;
        }

        @Override
        public void slice(int from, int count, VectorSchemaRoot out) {
            int v = 0;
            for (int c = 0; c < columns.size(); c++) {
                FieldVector target = out.getVector(c);
                if (columns.get(c) instanceof MemberColumn member) {
                    VarBinaryVector bytes = (VarBinaryVector) target;
                    long total = 0;
                    for (int i = from; i < from + count; i++) {
                        total += Math.max(0, sizes[member.extension()][i]);
                    }
                    bytes.allocateNew(Math.max(1, total), count);
                    fill(member.extension(), from, count, bytes, 0);
                    bytes.setValueCount(count);
                } else {
                    base.getVector(v++).makeTransferPair(target).splitAndTransfer(from, count);
                }
            }
            out.setRowCount(count);
        }

        @Override
        public void copy(int from, int count, VectorSchemaRoot out, int at) {
            int v = 0;
            for (int c = 0; c < columns.size(); c++) {
                FieldVector target = out.getVector(c);
                if (columns.get(c) instanceof MemberColumn member) {
                    fill(member.extension(), from, count, (VarBinaryVector) target, at);
                } else {
                    FieldVector source = base.getVector(v++);
                    for (int i = 0; i < count; i++) {
                        target.copyFromSafe(from + i, at + i, source);
                    }
                }
            }
        }

        private void fill(int extension, int from, int count, VarBinaryVector target, int at) {
            long needed = 0;
            for (int i = 0; i < count; i++) {
                needed += Math.max(0, sizes[extension][from + i]);
            }
            long used = target.getLastSet() < 0 ? 0 : target.getStartOffset(target.getLastSet() + 1);
            if (used + needed > target.getByteCapacity()) {
                // one allocation for the rows to come, where appending value by value would double the buffer again and again
                target.reallocDataBuffer(used + needed);
            }
            for (int i = 0; i < count; i++) {
                long size = sizes[extension][from + i];
                if (size < 0) {
                    target.setNull(at + i);
                } else {
                    ByteBuffer bytes = shard.bytes(offsets[extension][from + i], Math.toIntExact(size));
                    target.setSafe(at + i, bytes, bytes.position(), bytes.remaining());
                }
            }
        }

        @Override
        public void close() {
            base.close();
        }
    }
}
