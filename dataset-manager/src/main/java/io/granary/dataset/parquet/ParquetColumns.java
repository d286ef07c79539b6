package io.granary.dataset.parquet;

import com.github.luben.zstd.ZstdDecompressCtx;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DataPageV1;
import org.apache.parquet.column.page.DataPageV2;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.ColumnPath;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopCodecs;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;

/**
 * Reads top-level primitive columns of a Parquet data file straight into {@link ColumnSink}s (the
 * point-in-time join's primitive arrays, a stream's Arrow vectors), row group by row group: each
 * page decompressed in one call (zstd on a context kept for the file) and decoded into the sink,
 * with nothing in between. Profiles of the point-in-time join put a third of its time in reading
 * its inputs, about half of that in Arrow's own reader and in Parquet's stream-per-page
 * decompression.
 * It takes the files Iceberg writes and most others: columns found by field id, of the physical
 * type Iceberg writes for their type, PLAIN or dictionary-encoded, in v1 or v2 pages. Any other
 * file is left to Iceberg's Arrow reader ({@link #open} returns empty; a page found unreadable here
 * part way throws {@link Unsupported}, and the caller reads that file again there).
 */
public final class ParquetColumns implements Closeable {

    /** A page this reader does not decode, found after it started on the file. */
    public static final class Unsupported extends RuntimeException {
        Unsupported(String message) {
            super(message);
        }
    }

    private static final Set<Encoding> ENCODINGS = EnumSet.of(Encoding.PLAIN, Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY,
            Encoding.RLE, Encoding.BIT_PACKED);

    private final ParquetFileReader reader;
    private final ColumnDescriptor[] columns;
    private final List<BlockMetaData> rowGroups;
    /** A local file's channel, whose pages are read one at a time as they are decoded; null for other files (whole chunks read). */
    private final java.nio.channels.FileChannel local;
    private final Decompressors decompressors;
    private final PageBytes pageBytes = new PageBytes();
    private int next;
    private int[] scratch = new int[1024];

    private ParquetColumns(ParquetFileReader reader, ColumnDescriptor[] columns, java.nio.channels.FileChannel local, Decompressors decompressors) {
        this.reader = reader;
        this.columns = columns;
        this.rowGroups = reader.getRowGroups();
        this.local = local;
        this.decompressors = decompressors;
    }

    /**
     * A reader of {@code fields} (top-level, primitive) of {@code file}, or empty when the file is
     * not one it reads (see the class comment): then Iceberg's reader is the one to use.
     */
    public static Optional<ParquetColumns> open(InputFile file, List<Types.NestedField> fields) throws IOException {
        return open(file, fields, false);
    }

    /**
     * As {@link #open(InputFile, List)}; with {@code variableWidth}, string and binary columns are
     * read too, for sinks that take their PLAIN values (each a 4-byte little-endian length, then
     * the bytes) and dictionaries of them.
     */
    public static Optional<ParquetColumns> open(InputFile file, List<Types.NestedField> fields, boolean variableWidth) throws IOException {
        return open(file, fields, variableWidth, false);
    }

    /**
     * As {@link #open(InputFile, List, boolean)}; with {@code absentAsNull}, an optional field the
     * file does not have (a column added to the table after the file was written) reads as nulls,
     * as Iceberg's readers do.
     */
    public static Optional<ParquetColumns> open(InputFile file, List<Types.NestedField> fields, boolean variableWidth,
                                                boolean absentAsNull) throws IOException {
        // options without Hadoop's Configuration, whose default resources (XML in jars) are parsed anew for every instance
        Decompressors decompressors = new Decompressors();
        ParquetFileReader reader;
        org.apache.parquet.io.InputFile input = parquetFile(file);
        try {
            reader = new ParquetFileReader(input,
                    new ParquetReadOptions.Builder(new PlainParquetConfiguration()).withCodecFactory(decompressors).build());
        } catch (IOException | RuntimeException e) {
            // a footer that does not read: the reader, which would release them on close, is not there
            decompressors.release();
            throw e;
        }
        try {
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            ColumnDescriptor[] columns = new ColumnDescriptor[fields.size()];
            for (int f = 0; f < fields.size(); f++) {
                if (absentAsNull && fields.get(f).isOptional() && !hasField(schema, fields.get(f).fieldId())) {
                    continue;
                }
                columns[f] = column(schema, fields.get(f), variableWidth);
                if (columns[f] == null) {
                    reader.close();
                    return Optional.empty();
                }
            }
            for (BlockMetaData rowGroup : reader.getRowGroups()) {
                for (ColumnChunkMetaData chunk : rowGroup.getColumns()) {
                    for (ColumnDescriptor column : columns) {
                        if (column != null && chunk.getPath().equals(ColumnPath.get(column.getPath()))
                                && !ENCODINGS.containsAll(chunk.getEncodings())) {
                            reader.close();
                            return Optional.empty();
                        }
                    }
                }
            }
            reader.setRequestedSchema(java.util.Arrays.stream(columns).filter(java.util.Objects::nonNull).toList());
            java.nio.channels.FileChannel local = input instanceof ChannelFile channelFile
                    ? java.nio.channels.FileChannel.open(channelFile.path(), java.nio.file.StandardOpenOption.READ) : null;
            return Optional.of(new ParquetColumns(reader, columns, local, decompressors));
        } catch (IOException | RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    private static boolean hasField(MessageType schema, int fieldId) {
        return schema.getFields().stream().anyMatch(type -> type.getId() != null && type.getId().intValue() == fieldId);
    }

    /** The file's column holding {@code field}, when it is one read here: matched by field id, of the physical type Iceberg writes. */
    private static ColumnDescriptor column(MessageType schema, Types.NestedField field, boolean variableWidth) {
        for (org.apache.parquet.schema.Type type : schema.getFields()) {
            if (type.getId() == null || type.getId().intValue() != field.fieldId()) {
                continue;
            }
            if (!type.isPrimitive() || type.isRepetition(org.apache.parquet.schema.Type.Repetition.REPEATED)) {
                return null;
            }
            PrimitiveTypeName physical = type.asPrimitiveType().getPrimitiveTypeName();
            LogicalTypeAnnotation logical = type.getLogicalTypeAnnotation();
            boolean plainInteger = logical == null
                    || logical instanceof LogicalTypeAnnotation.IntLogicalTypeAnnotation integer && integer.isSigned();
            boolean matches = switch (field.type().typeId()) {
                case LONG -> physical == PrimitiveTypeName.INT64 && plainInteger;
                case INTEGER -> physical == PrimitiveTypeName.INT32 && plainInteger;
                case TIMESTAMP -> physical == PrimitiveTypeName.INT64
                        && logical instanceof LogicalTypeAnnotation.TimestampLogicalTypeAnnotation timestamp
                        && timestamp.getUnit() == LogicalTypeAnnotation.TimeUnit.MICROS;
                case DATE -> physical == PrimitiveTypeName.INT32 && logical instanceof LogicalTypeAnnotation.DateLogicalTypeAnnotation;
                case DOUBLE -> physical == PrimitiveTypeName.DOUBLE;
                case FLOAT -> physical == PrimitiveTypeName.FLOAT;
                case BOOLEAN -> physical == PrimitiveTypeName.BOOLEAN;
                case STRING -> variableWidth && physical == PrimitiveTypeName.BINARY
                        && logical instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation;
                case BINARY -> variableWidth && physical == PrimitiveTypeName.BINARY && logical == null;
                default -> false;
            };
            return matches ? schema.getColumnDescription(new String[] {type.getName()}) : null;
        }
        return null;
    }

    /** Whether another row group is left. */
    public boolean hasNext() {
        return next < rowGroups.size();
    }

    /** Rows in the next row group. */
    public long nextRows() {
        return rowGroups.get(next).getRowCount();
    }

    /**
     * Whether the next row group's statistics show that column {@code column} (a timestamp or date)
     * lies wholly outside [fromMicros, toMicros]: none of its rows can match then.
     */
    public boolean nextOutside(int column, long fromMicros, long toMicros) {
        if (columns[column] == null) {
            return false;
        }
        for (ColumnChunkMetaData chunk : rowGroups.get(next).getColumns()) {
            if (chunk.getPath().equals(ColumnPath.get(columns[column].getPath()))) {
                Statistics<?> statistics = chunk.getStatistics();
                if (statistics == null || statistics.isEmpty() || !statistics.hasNonNullValue()) {
                    return false;
                }
                long unit = columns[column].getPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT32 ? 86_400_000_000L : 1;
                long min = ((Number) statistics.genericGetMin()).longValue() * unit;
                long max = ((Number) statistics.genericGetMax()).longValue() * unit;
                return max < fromMicros || min > toMicros;
            }
        }
        return false;
    }

    public void skip() {
        reader.skipNextRowGroup();
        next++;
    }

    /** Reads the next row group into {@code into} (one per column, in the order given to open) from position {@code at} on. */
    public <S extends ColumnSink<S>> void read(S[] into, int at) throws IOException {
        RowGroup<S> group = start(into, at);
        group.decodeTo(group.rows());
    }

    /**
     * Reads the next row group's column chunks (its I/O) and returns it undecoded: {@link
     * RowGroup#decodeTo} decodes its pages into {@code into} as far as asked, so that a consumer can
     * start on the first rows before the last are decoded.
     */
    public <S extends ColumnSink<S>> RowGroup<S> start(S[] into, int at) throws IOException {
        if (local != null) {
            // a local file: each column's pages are read from the file as they are decoded, so the first rows need a page per column
            BlockMetaData block = rowGroups.get(next);
            reader.skipNextRowGroup();
            next++;
            int rows = Math.toIntExact(block.getRowCount());
            List<Chunk<S>> chunks = new java.util.ArrayList<>();
            for (int c = 0; c < columns.length; c++) {
                PageReader pages = null;
                if (columns[c] != null) {
                    ColumnPath path = ColumnPath.get(columns[c].getPath());
                    ColumnChunkMetaData chunk = null;
                    for (ColumnChunkMetaData meta : block.getColumns()) {
                        if (meta.getPath().equals(path)) {
                            chunk = meta;
                        }
                    }
                    if (chunk == null) {
                        throw new IllegalStateException("row group " + next + " has no column " + path);
                    }
                    pages = new LazyPages(local, chunk, decompressors, pageBytes);
                }
                chunks.add(new Chunk<>(pages, columns[c], into[c], at, rows));
            }
            return new RowGroup<>(rows, chunks);
        }
        PageReadStore rowGroup = reader.readNextRowGroup();
        if (rowGroup == null) {
            throw new IllegalStateException("the file ends before its row group " + (next + 1) + " of " + rowGroups.size());
        }
        next++;
        int rows = Math.toIntExact(rowGroup.getRowCount());
        List<Chunk<S>> chunks = new java.util.ArrayList<>();
        for (int c = 0; c < columns.length; c++) {
            chunks.add(new Chunk<>(columns[c] == null ? null : rowGroup.getPageReader(columns[c]), columns[c], into[c], at, rows));
        }
        return new RowGroup<>(rows, chunks);
    }

    /** A row group being decoded, page by page, column by column. Not thread-safe. */
    public final class RowGroup<S extends ColumnSink<S>> {
        private final int rows;
        private final List<Chunk<S>> chunks;

        private RowGroup(int rows, List<Chunk<S>> chunks) {
            this.rows = rows;
            this.chunks = chunks;
        }

        public int rows() {
            return rows;
        }

        /** Rows column {@code column} holds so far (whole pages). */
        public int decoded(int column) {
            return chunks.get(column).done;
        }

        /** Rows every column holds so far. */
        public int decoded() {
            int least = rows;
            for (Chunk<S> chunk : chunks) {
                least = Math.min(least, chunk.done);
            }
            return least;
        }

        /** Decodes pages until every column holds at least {@code target} rows (or all of the row group's). */
        public void decodeTo(int target) throws IOException {
            int wanted = Math.min(target, rows);
            for (Chunk<S> chunk : chunks) {
                while (chunk.done < wanted) {
                    chunk.decodePage();
                }
            }
        }
    }

    /** One column's chunk of a row group: its pages, and how many rows are decoded. */
    private final class Chunk<S extends ColumnSink<S>> {
        private final PageReader pages;
        private final ColumnDescriptor column;
        private final S into;
        private final int at;
        private final int rows;
        private S dictionary;
        private boolean started;
        private int done;

        Chunk(PageReader pages, ColumnDescriptor column, S into, int at, int rows) {
            this.pages = pages;
            this.column = column;
            this.into = into;
            this.at = at;
            this.rows = rows;
        }

        void decodePage() throws IOException {
            if (column == null) {
                // a column the file does not have: all null
                into.markNulls(at, scratchZeros(rows), rows);
                done = rows;
                return;
            }
            if (!started) {
                started = true;
                DictionaryPage dictionaryPage = pages.readDictionaryPage();
                if (dictionaryPage != null) {
                    dictionary = into.emptyLike(dictionaryPage.getDictionarySize());
                    dictionary.putPlain(0, dictionaryPage.getDictionarySize(), littleEndian(dictionaryPage.getBytes()), 0);
                }
            }
            boolean optional = column.getMaxDefinitionLevel() > 0;
            DataPage page = pages.readPage();
            if (page == null) {
                throw new IllegalStateException("column " + column.getPath()[0] + " ends after " + done + " of its " + rows + " rows");
            }
            int count = page.getValueCount();
            if (count > rows - done) {
                throw new IllegalStateException("column " + column.getPath()[0] + " holds more values than its row group's " + rows + " rows");
            }
            ByteBuffer values;
            Encoding encoding;
            int nulls = 0;
            if (page instanceof DataPageV1 v1) {
                values = littleEndian(v1.getBytes());
                if (optional) {
                    if (v1.getDlEncoding() != Encoding.RLE) {
                        throw new Unsupported("definition levels encoded " + v1.getDlEncoding());
                    }
                    int length = values.getInt();
                    nulls = markNulls(values.slice(values.position(), length).order(ByteOrder.LITTLE_ENDIAN), into, at + done, count);
                    values.position(values.position() + length);
                } else {
                    into.markPresent(at + done, count);
                }
                encoding = v1.getValueEncoding();
            } else {
                DataPageV2 v2 = (DataPageV2) page;
                if (optional) {
                    nulls = markNulls(littleEndian(v2.getDefinitionLevels()), into, at + done, count);
                } else {
                    into.markPresent(at + done, count);
                }
                values = littleEndian(v2.getData());
                encoding = v2.getDataEncoding();
            }
            switch (encoding) {
                case PLAIN -> into.putPlain(at + done, count, values, nulls);
                case PLAIN_DICTIONARY, RLE_DICTIONARY -> {
                    if (dictionary == null) {
                        throw new IllegalStateException("column " + column.getPath()[0] + " has dictionary-encoded pages and no dictionary");
                    }
                    int bitWidth = values.get() & 0xFF;
                    int[] ids = scratch(count - nulls);
                    hybrid(values, bitWidth, ids, count - nulls);
                    into.putDictionary(at + done, count, dictionary, ids, nulls);
                }
                case RLE -> {
                    // booleans in v2 pages: their length, then the hybrid encoding of 1-bit values
                    if (column.getPrimitiveType().getPrimitiveTypeName() != PrimitiveTypeName.BOOLEAN) {
                        throw new Unsupported("values of " + column.getPrimitiveType() + " encoded RLE");
                    }
                    values.getInt();
                    int[] bits = scratch(count - nulls);
                    hybrid(values, 1, bits, count - nulls);
                    S falseTrue = into.emptyLike(2);
                    falseTrue.putPlain(0, 2, ByteBuffer.wrap(new byte[] {0b10}), 0);
                    into.putDictionary(at + done, count, falseTrue, bits, nulls);
                }
                default -> throw new Unsupported("values encoded " + encoding);
            }
            done += count;
        }
    }

    /** Marks the nulls of {@code count} rows from {@code at} after their definition levels (bit width 1); returns how many. */
    private int markNulls(ByteBuffer levels, ColumnSink<?> into, int at, int count) {
        int[] present = scratch(count);
        hybrid(levels, 1, present, count);
        return into.markNulls(at, present, count);
    }

    private int[] scratchZeros(int size) {
        int[] zeros = scratch(size);
        java.util.Arrays.fill(zeros, 0, size, 0);
        return zeros;
    }

    private int[] scratch(int size) {
        if (scratch.length < size) {
            scratch = new int[Math.max(size, scratch.length * 2)];
        }
        return scratch;
    }

    /**
     * Decodes {@code count} values of Parquet's run-length / bit-packed hybrid encoding of
     * {@code bitWidth}-bit values from {@code in} into {@code out}.
     */
    public static void hybrid(ByteBuffer in, int bitWidth, int[] out, int count) {
        if (bitWidth > 32) {
            throw new IllegalStateException("a bit width of " + bitWidth);
        }
        int byteWidth = (bitWidth + 7) / 8;
        int done = 0;
        while (done < count) {
            int header = readUnsignedVarInt(in);
            if ((header & 1) == 0) {
                // a run of one value, repeated
                int run = Math.min(header >>> 1, count - done);
                int value = 0;
                for (int b = 0; b < byteWidth; b++) {
                    value |= (in.get() & 0xFF) << (8 * b);
                }
                java.util.Arrays.fill(out, done, done + run, value);
                done += run;
            } else {
                // groups of 8 values of bitWidth bits, least significant bit first
                int values = (header >>> 1) * 8;
                int bytes = (header >>> 1) * bitWidth;
                int start = in.position();
                if (bytes > in.remaining()) {
                    throw new IllegalStateException("a bit-packed run longer than its page");
                }
                int take = Math.min(values, count - done);
                long buffer = 0;
                int buffered = 0;
                int at = start;
                long mask = (1L << bitWidth) - 1;
                boolean swap = in.order() != ByteOrder.LITTLE_ENDIAN;
                int wordsUpTo = in.limit() - 4;
                for (int v = 0; v < take; v++) {
                    if (buffered < bitWidth) {
                        // four bytes at a time while the buffer has them (bytes past the run are read but not used)
                        if (at <= wordsUpTo) {
                            int word = in.getInt(at);
                            buffer |= ((swap ? Integer.reverseBytes(word) : word) & 0xFFFF_FFFFL) << buffered;
                            at += 4;
                            buffered += 32;
                        } else {
                            while (buffered < bitWidth) {
                                buffer |= (long) (in.get(at++) & 0xFF) << buffered;
                                buffered += 8;
                            }
                        }
                    }
                    out[done + v] = (int) (buffer & mask);
                    buffer >>>= bitWidth;
                    buffered -= bitWidth;
                }
                in.position(start + bytes);
                done += take;
            }
        }
    }

    private static int readUnsignedVarInt(ByteBuffer in) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.get() & 0xFF;
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return value;
            }
        }
        throw new IllegalStateException("a run header longer than 5 bytes");
    }

    private static ByteBuffer littleEndian(BytesInput bytes) throws IOException {
        return bytes.toByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() throws IOException {
        try {
            reader.close();
        } finally {
            if (local != null) {
                local.close();
            }
        }
    }

    /**
     * One column chunk's pages read from a local file one at a time, as Parquet's format lays them
     * out (a header, then the page), where Parquet's reader reads the whole chunk first.
     */
    private static final class LazyPages implements PageReader {
        private static final org.apache.parquet.format.converter.ParquetMetadataConverter CONVERTER =
                new org.apache.parquet.format.converter.ParquetMetadataConverter();

        private final java.nio.channels.FileChannel channel;
        private final ColumnChunkMetaData chunk;
        private final CompressionCodecFactory.BytesInputDecompressor decompressor;
        private final long end;
        private long position;
        private org.apache.parquet.format.PageHeader pending;
        private ByteBuffer pendingBytes;
        private final PageBytes pageBytes;

        LazyPages(java.nio.channels.FileChannel channel, ColumnChunkMetaData chunk, Decompressors decompressors, PageBytes pageBytes) {
            this.channel = channel;
            this.pageBytes = pageBytes;
            this.chunk = chunk;
            this.decompressor = chunk.getCodec() == CompressionCodecName.UNCOMPRESSED ? null : decompressors.getDecompressor(chunk.getCodec());
            this.position = chunk.getStartingPos();
            this.end = chunk.getStartingPos() + chunk.getTotalSize();
        }

        @Override
        public DictionaryPage readDictionaryPage() {
            try {
                if (!next()) {
                    return null;
                }
                if (pending.getType() != org.apache.parquet.format.PageType.DICTIONARY_PAGE) {
                    return null; // kept for readPage
                }
                org.apache.parquet.format.DictionaryPageHeader header = pending.getDictionary_page_header();
                DictionaryPage page = new DictionaryPage(decompress(pendingBytes, pending.getUncompressed_page_size()), header.getNum_values(),
                        CONVERTER.getEncoding(header.getEncoding()));
                pending = null;
                return page;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public long getTotalValueCount() {
            return chunk.getValueCount();
        }

        @Override
        public DataPage readPage() {
            try {
                while (next()) {
                    org.apache.parquet.format.PageHeader header = pending;
                    ByteBuffer bytes = pendingBytes;
                    pending = null;
                    switch (header.getType()) {
                        case DATA_PAGE -> {
                            org.apache.parquet.format.DataPageHeader v1 = header.getData_page_header();
                            return new DataPageV1(decompress(bytes, header.getUncompressed_page_size()), v1.getNum_values(),
                                    header.getUncompressed_page_size(), null, CONVERTER.getEncoding(v1.getRepetition_level_encoding()),
                                    CONVERTER.getEncoding(v1.getDefinition_level_encoding()), CONVERTER.getEncoding(v1.getEncoding()));
                        }
                        case DATA_PAGE_V2 -> {
                            org.apache.parquet.format.DataPageHeaderV2 v2 = header.getData_page_header_v2();
                            int repetition = v2.getRepetition_levels_byte_length();
                            int definition = v2.getDefinition_levels_byte_length();
                            BytesInput levelsR = BytesInput.from(bytes.slice(bytes.position(), repetition));
                            BytesInput levelsD = BytesInput.from(bytes.slice(bytes.position() + repetition, definition));
                            ByteBuffer data = bytes.slice(bytes.position() + repetition + definition, bytes.remaining() - repetition - definition);
                            int dataSize = header.getUncompressed_page_size() - repetition - definition;
                            BytesInput values = !v2.isSetIs_compressed() || v2.isIs_compressed() ? decompress(data, dataSize) : BytesInput.from(data);
                            return DataPageV2.uncompressed(v2.getNum_rows(), v2.getNum_nulls(), v2.getNum_values(), levelsR, levelsD,
                                    CONVERTER.getEncoding(v2.getEncoding()), values, null);
                        }
                        default -> {
                            // an index page, or a dictionary page out of place: not data
                        }
                    }
                }
                return null;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private BytesInput decompress(ByteBuffer compressed, int size) throws IOException {
            return decompressor == null ? BytesInput.from(compressed) : decompressor.decompress(BytesInput.from(compressed), size);
        }

        /** Reads the next page's header and bytes into {@link #pending}; false at the chunk's end. */
        private boolean next() throws IOException {
            if (pending != null) {
                return true;
            }
            if (position >= end) {
                return false;
            }
            int window = (int) Math.min(end - position, 16 << 10);
            while (true) {
                ByteBuffer head = pageBytes.read(channel, chunk, position, 0, window);
                java.io.ByteArrayInputStream in = new java.io.ByteArrayInputStream(head.array(), 0, head.limit());
                org.apache.parquet.format.PageHeader header;
                try {
                    header = org.apache.parquet.format.Util.readPageHeader(in);
                } catch (IOException e) {
                    if (window >= end - position) {
                        throw new IOException("a page header at " + position + " of column " + chunk.getPath() + " does not read: " + e.getMessage(), e);
                    }
                    window = (int) Math.min(end - position, (long) window * 4); // a header with big statistics: read more of it
                    continue;
                }
                int headerLength = head.limit() - in.available();
                int size = header.getCompressed_page_size();
                if (size < 0 || position + headerLength + size > end) {
                    throw new IOException("the page header at byte " + position + " of column " + chunk.getPath() + " gives a size of " + size
                            + " bytes, past the end of the column's data: the file is damaged");
                }
                ByteBuffer page = pageBytes.read(channel, chunk, position, head.limit(), headerLength + size);
                position += headerLength + size;
                pending = header;
                pendingBytes = page.slice(headerLength, size);
                return true;
            }
        }
    }

    /**
     * The bytes of the page being decoded, in one array kept for the file and grown as pages need:
     * a page is decoded into its column before the next is read (as {@link Decompressors}' output
     * is), so nothing is allocated, or zeroed, per page.
     */
    private static final class PageBytes {
        private byte[] bytes = new byte[64 << 10];

        /** The file's bytes [at, at + length) from the array's start, of which the first {@code have} were read already. */
        ByteBuffer read(java.nio.channels.FileChannel channel, ColumnChunkMetaData chunk, long at, int have, int length) throws IOException {
            if (bytes.length < length) {
                byte[] grown = new byte[Math.max(length, bytes.length * 2)];
                System.arraycopy(bytes, 0, grown, 0, have);
                bytes = grown;
            }
            if (length > have) {
                fill(channel, chunk, at, have, length);
            }
            return ByteBuffer.wrap(bytes, 0, length).slice();
        }

        private void fill(java.nio.channels.FileChannel channel, ColumnChunkMetaData chunk, long at, int from, int to) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(bytes, from, to - from);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, at + buffer.position()) < 0) {
                    throw new java.io.EOFException("the file ends inside column " + chunk.getPath() + " at " + (at + buffer.position()));
                }
            }
        }
    }

    /**
     * Parquet's decompressors, but zstd in one call on a context kept for the file: Parquet's own
     * streams every page through a new one, and copies it twice on the way.
     */
    private static final class Decompressors implements CompressionCodecFactory {

        private final CompressionCodecFactory parquet = HadoopCodecs.newFactory(new Configuration(false), 0);
        private final ZstdDecompressCtx zstd = new ZstdDecompressCtx();
        private byte[] page = new byte[0];
        private final BytesInputDecompressor zstdPages = new BytesInputDecompressor() {
            /**
             * A page decompressed into one array kept for the file: every page is decoded into the
             * columns before the reader asks for the next, and the file's pages are read one at a time.
             */
            @Override
            public BytesInput decompress(BytesInput bytes, int size) throws IOException {
                ByteBuffer in = bytes.toByteBuffer();
                if (page.length < size) {
                    page = new byte[Math.max(size, page.length * 2)];
                }
                byte[] out = page;
                int written;
                if (in.hasArray()) {
                    written = zstd.decompressByteArray(out, 0, size, in.array(), in.arrayOffset() + in.position(), in.remaining());
                } else {
                    byte[] copy = new byte[in.remaining()];
                    in.get(copy);
                    written = zstd.decompressByteArray(out, 0, size, copy, 0, copy.length);
                }
                if (written != size) {
                    throw new IOException("a zstd page holds " + written + " bytes, its header says " + size);
                }
                return BytesInput.from(out, 0, size);
            }

            @Override
            public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int decompressedSize) throws IOException {
                parquet.getDecompressor(CompressionCodecName.ZSTD).decompress(input, compressedSize, output, decompressedSize);
            }

            @Override
            public void release() {
            }
        };

        @Override
        public BytesInputCompressor getCompressor(CompressionCodecName codec) {
            return parquet.getCompressor(codec);
        }

        @Override
        public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
            return codec == CompressionCodecName.ZSTD ? zstdPages : parquet.getDecompressor(codec);
        }

        @Override
        public void release() {
            parquet.release();
            zstd.close();
        }
    }

    /** Iceberg's input file as Parquet's. */
    private static org.apache.parquet.io.InputFile parquetFile(InputFile file) {
        String location = file.location();
        if (location.startsWith("/") || location.startsWith("file:")) {
            java.nio.file.Path local = location.startsWith("/") ? java.nio.file.Path.of(location) : java.nio.file.Path.of(java.net.URI.create(location));
            return new ChannelFile(local, file.getLength());
        }
        return new org.apache.parquet.io.InputFile() {
            @Override
            public long getLength() {
                return file.getLength();
            }

            @Override
            public SeekableInputStream newStream() {
                org.apache.iceberg.io.SeekableInputStream stream = file.newStream();
                return new DelegatingSeekableInputStream((InputStream) stream) {
                    @Override
                    public long getPos() throws IOException {
                        return stream.getPos();
                    }

                    @Override
                    public void seek(long position) throws IOException {
                        stream.seek(position);
                    }
                };
            }
        };
    }

    /**
     * A local file read with positional reads straight into the reader's buffers: a row group's
     * chunks arrive in one read each, where a stream over RandomAccessFile copies them through a
     * native buffer in slices.
     */
    private record ChannelFile(java.nio.file.Path path, long length) implements org.apache.parquet.io.InputFile {
        @Override
        public long getLength() {
            return length;
        }

        @Override
        public SeekableInputStream newStream() throws IOException {
            java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(path, java.nio.file.StandardOpenOption.READ);
            return new SeekableInputStream() {
                private long position;

                @Override
                public long getPos() {
                    return position;
                }

                @Override
                public void seek(long newPosition) {
                    position = newPosition;
                }

                @Override
                public int read() throws IOException {
                    ByteBuffer one = ByteBuffer.allocate(1);
                    return read(one) < 0 ? -1 : one.get(0) & 0xFF;
                }

                @Override
                public int read(byte[] bytes, int offset, int length) throws IOException {
                    return read(ByteBuffer.wrap(bytes, offset, length));
                }

                @Override
                public void readFully(byte[] bytes) throws IOException {
                    readFully(ByteBuffer.wrap(bytes));
                }

                @Override
                public void readFully(byte[] bytes, int offset, int length) throws IOException {
                    readFully(ByteBuffer.wrap(bytes, offset, length));
                }

                @Override
                public int read(ByteBuffer into) throws IOException {
                    int read = channel.read(into, position);
                    if (read > 0) {
                        position += read;
                    }
                    return read;
                }

                @Override
                public void readFully(ByteBuffer into) throws IOException {
                    while (into.hasRemaining()) {
                        if (read(into) < 0) {
                            throw new java.io.EOFException("reached the end of " + path + " at " + position + " with " + into.remaining() + " bytes to read");
                        }
                    }
                }

                @Override
                public void close() throws IOException {
                    channel.close();
                }
            };
        }
    }
}
