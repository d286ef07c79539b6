package io.granary.feature.offline;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FieldMetrics;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Metrics;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SchemaParser;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.ParquetCodecFactory;
import org.apache.iceberg.parquet.ParquetSchemaUtil;
import org.apache.iceberg.parquet.ParquetUtil;
import org.apache.iceberg.util.PropertyUtil;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.DelegatingPositionOutputStream;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.schema.MessageType;

/**
 * Writes rows held column by column ({@link ColumnValues}) as one Parquet data file of an Iceberg
 * table, a column chunk at a time: values PLAIN-encoded in bulk straight from the arrays,
 * definition levels bit-packed from the null bits (one run-length run when no value is null),
 * each page compressed with the table's codec. Parquet's
 * record writer spends tens of nanoseconds a value on its per-value path; this spends a few.
 * Statistics, column indexes and Iceberg's metrics (with NaN counts) are kept as its writer keeps them;
 * the table's codec, compression level, row group, page size and page row limit apply. Values are
 * never dictionary-encoded and no bloom filters are written: training data is read whole, in order.
 */
final class ColumnarParquet {

    /** Parquet's zstd level when a table sets none (write.parquet.compression-level), as its own writer uses. */
    private static final int DEFAULT_ZSTD_LEVEL = 3;

    private ColumnarParquet() {
    }

    /** Rows [from, to) of {@code columns} (in the order of the table's top-level, primitive columns) as a new data file. */
    static DataFile write(Table table, OutputFile file, List<ColumnValues> columns, int from, int to) throws IOException {
        Schema schema = table.schema();
        MessageType type = ParquetSchemaUtil.convert(schema, "table");
        if (type.getFieldCount() != columns.size() || type.getColumns().size() != columns.size()) {
            throw new IllegalArgumentException("expected " + columns.size() + " flat columns, the schema has " + type.getColumns());
        }
        Map<String, String> properties = table.properties();
        CompressionCodecName codec = CompressionCodecName.fromConf(PropertyUtil.propertyAsString(properties,
                TableProperties.PARQUET_COMPRESSION, TableProperties.PARQUET_COMPRESSION_DEFAULT));
        long rowGroupBytes = PropertyUtil.propertyAsLong(properties, TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES,
                TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES_DEFAULT);
        int pageBytes = PropertyUtil.propertyAsInt(properties, TableProperties.PARQUET_PAGE_SIZE_BYTES,
                TableProperties.PARQUET_PAGE_SIZE_BYTES_DEFAULT);
        int pageRows = PropertyUtil.propertyAsInt(properties, TableProperties.PARQUET_PAGE_ROW_LIMIT,
                TableProperties.PARQUET_PAGE_ROW_LIMIT_DEFAULT);
        long rowBytes = 1;
        for (ColumnValues column : columns) {
            rowBytes += column.estimatedWidth();
        }
        int groupRows = (int) Math.max(1, Math.min(Integer.MAX_VALUE, rowGroupBytes / rowBytes));
        int rowsPerPage = (int) Math.max(1, Math.min(pageRows, pageBytes / rowBytes * columns.size()));

        List<FieldMetrics<?>> fieldMetrics = new ArrayList<>();
        PageBuffer page = new PageBuffer();
        ParquetFileWriter writer = null;
        try (PageCompressor compressor = PageCompressor.of(codec, properties.get(TableProperties.PARQUET_COMPRESSION_LEVEL), pageBytes)) {
            writer = new ParquetFileWriter(parquetFile(file), type, ParquetFileWriter.Mode.CREATE, rowGroupBytes, 0,
                    ParquetProperties.DEFAULT_COLUMN_INDEX_TRUNCATE_LENGTH, ParquetProperties.DEFAULT_STATISTICS_TRUNCATE_LENGTH,
                    ParquetProperties.DEFAULT_PAGE_WRITE_CHECKSUM_ENABLED);
            writer.start();
            for (int group = from; group < to; group += groupRows) {
                int groupEnd = (int) Math.min(to, (long) group + groupRows);
                writer.startBlock(groupEnd - group);
                for (int c = 0; c < columns.size(); c++) {
                    ColumnDescriptor descriptor = type.getColumns().get(c);
                    ColumnValues column = columns.get(c);
                    writer.startColumn(descriptor, groupEnd - group, codec);
                    boolean optional = descriptor.getMaxDefinitionLevel() > 0;
                    for (int first = group; first < groupEnd; first += rowsPerPage) {
                        int end = Math.min(groupEnd, first + rowsPerPage);
                        Statistics<?> statistics = Statistics.createStats(descriptor.getPrimitiveType());
                        column.addTo(statistics, first, end);
                        int size = column.encodePage(page, optional, first, end);
                        writer.writeDataPage(end - first, size, compressor.compress(page.bytes(), size), statistics, end - first,
                                Encoding.BIT_PACKED, optional ? Encoding.RLE : Encoding.BIT_PACKED, Encoding.PLAIN);
                    }
                    writer.endColumn();
                }
                writer.endBlock();
            }
            for (int c = 0; c < columns.size(); c++) {
                columns.get(c).fieldMetrics(type.getColumns().get(c).getPrimitiveType().getId().intValue(), from, to)
                        .ifPresent(fieldMetrics::add);
            }
            writer.end(Map.of("iceberg.schema", SchemaParser.toJson(schema)));
        } catch (Throwable e) {
            // no half-written file left behind (a full disk, which Hadoop's local file system reports
            // as an Error); the error that stopped the write is the one to report
            try {
                if (writer != null) {
                    writer.abort();
                }
            } catch (RuntimeException | Error ignored) {
                // closing on a full disk fails too
            }
            try {
                table.io().deleteFile(file.location());
            } catch (RuntimeException | Error ignored) {
                // the same
            }
            throw e;
        }
        Metrics metrics = ParquetUtil.footerMetrics(writer.getFooter(), fieldMetrics.stream(), MetricsConfig.forTable(table));
        return DataFiles.builder(table.spec()).withPath(file.location()).withFormat(FileFormat.PARQUET)
                .withFileSizeInBytes(writer.getPos()).withMetrics(metrics)
                .withSplitOffsets(ParquetUtil.getSplitOffsets(writer.getFooter())).build();
    }

    /** A page's bytes before compression, one array reused from page to page. */
    static final class PageBuffer {

        private byte[] bytes = new byte[1 << 16];

        /** The array, at least {@code size} bytes long. */
        byte[] atLeast(int size) {
            if (bytes.length < size) {
                bytes = new byte[Math.max(size, bytes.length * 2)];
            }
            return bytes;
        }

        byte[] bytes() {
            return bytes;
        }
    }

    /** Compresses pages with the table's codec. */
    private interface PageCompressor extends AutoCloseable {

        /** The compressed form of page[0, length), valid until the next call. */
        BytesInput compress(byte[] page, int length) throws IOException;

        @Override
        void close();

        static PageCompressor of(CompressionCodecName codec, String level, int pageBytes) {
            return codec == CompressionCodecName.ZSTD
                    ? new ZstdPages(level == null ? DEFAULT_ZSTD_LEVEL : Integer.parseInt(level))
                    : new CodecPages(codec, pageBytes);
        }
    }

    /**
     * Zstd (every Granary table's codec) in one call a page on a context kept for the file, into an
     * array kept too: Parquet's codec streams every page through a new context.
     */
    private static final class ZstdPages implements PageCompressor {

        private final ZstdCompressCtx context;
        private byte[] out = new byte[0];

        ZstdPages(int level) {
            context = new ZstdCompressCtx().setLevel(level);
        }

        @Override
        public BytesInput compress(byte[] page, int length) {
            int bound = (int) Zstd.compressBound(length);
            if (out.length < bound) {
                out = new byte[bound];
            }
            int size = context.compressByteArray(out, 0, bound, page, 0, length);
            return BytesInput.from(out, 0, size);
        }

        @Override
        public void close() {
            context.close();
        }
    }

    /** Any other codec, through Parquet's. */
    private static final class CodecPages implements PageCompressor {

        private final ParquetCodecFactory codecs;
        private final CompressionCodecFactory.BytesInputCompressor compressor;

        CodecPages(CompressionCodecName codec, int pageBytes) {
            codecs = new ParquetCodecFactory(new Configuration(false), pageBytes);
            compressor = codecs.getCompressor(codec);
        }

        @Override
        public BytesInput compress(byte[] page, int length) throws IOException {
            return compressor.compress(BytesInput.from(page, 0, length));
        }

        @Override
        public void close() {
            codecs.release();
        }
    }

    /** Iceberg's output file as Parquet's. */
    private static org.apache.parquet.io.OutputFile parquetFile(OutputFile file) {
        return new org.apache.parquet.io.OutputFile() {
            @Override
            public PositionOutputStream create(long blockSize) {
                return stream(file.create());
            }

            @Override
            public PositionOutputStream createOrOverwrite(long blockSize) {
                return stream(file.createOrOverwrite());
            }

            @Override
            public boolean supportsBlockSize() {
                return false;
            }

            @Override
            public long defaultBlockSize() {
                return 0;
            }

            @Override
            public String getPath() {
                return file.location();
            }
        };
    }

    private static PositionOutputStream stream(org.apache.iceberg.io.PositionOutputStream out) {
        return new DelegatingPositionOutputStream((OutputStream) out) {
            @Override
            public long getPos() throws IOException {
                return out.getPos();
            }
        };
    }
}
