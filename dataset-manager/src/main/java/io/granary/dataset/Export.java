package io.granary.dataset;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.granary.common.AtomicFiles;
import io.granary.common.GranaryException;
import io.granary.common.IoFailures;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/** Writes a dataset version to one Parquet, CSV or JSON Lines file, atomically. */
public final class Export {

    private Export() {}

    /** Exports the rows of {@code ref} to {@code target}; the format follows its extension. */
    public static long toFile(Datasets datasets, DatasetRef ref, Path target) {
        String name = target.getFileName().toString().toLowerCase(Locale.ROOT);
        Format format = name.endsWith(".parquet") ? Format.PARQUET
                : name.endsWith(".csv") ? Format.CSV
                : name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson") ? Format.JSONL
                : null;
        if (format == null) {
            throw new GranaryException("cannot tell the export format of " + target, "end the file name in .parquet, .csv or .jsonl");
        }
        if (Files.isDirectory(target)) {
            throw new GranaryException(target + " is a directory", "give a file name, e.g. " + target.resolve("export." + format.name().toLowerCase(Locale.ROOT)));
        }
        ResolvedRef resolved = datasets.resolve(ref);
        Schema schema = resolved.schema();
        long[] rows = {0};
        Path absolute = target.toAbsolutePath();
        try (CloseableIterable<Record> records = datasets.scan(resolved)) {
            if (format == Format.PARQUET) {
                Path temporary = AtomicFiles.temporarySibling(absolute);
                Files.createDirectories(absolute.getParent());
                try {
                    try (FileAppender<Record> appender = Parquet.write(org.apache.iceberg.Files.localOutput(temporary.toFile()))
                            .schema(schema)
                            .createWriterFunc(GenericParquetWriter::create)
                            .set("write.parquet.compression-codec", "zstd")
                            .build()) {
                        for (Record record : records) {
                            appender.add(record);
                            rows[0]++;
                        }
                    }
                    AtomicFiles.commit(temporary, absolute);
                } finally {
                    Files.deleteIfExists(temporary);
                }
            } else {
                AtomicFiles.write(absolute, out -> {
                    Writer writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
                    rows[0] = format == Format.CSV ? writeCsv(writer, schema, records) : writeJsonLines(writer, schema, records);
                    writer.flush();
                });
            }
        } catch (IOException e) {
            throw new GranaryException("cannot export " + ref + " to " + target + ": " + e.getMessage(),
                    "check the target directory exists, is writable and has space", e);
        } catch (RuntimeException e) {
            throw IoFailures.whileWriting(target.toString(), absolute.getParent().toString(), e);
        }
        return rows[0];
    }

    private enum Format { PARQUET, CSV, JSONL }

    private static long writeCsv(Writer out, Schema schema, Iterable<Record> records) throws IOException {
        List<Types.NestedField> columns = schema.columns();
        for (int i = 0; i < columns.size(); i++) {
            out.write(i == 0 ? "" : ",");
            out.write(csvField(columns.get(i).name()));
        }
        out.write('\n');
        long rows = 0;
        for (Record record : records) {
            for (int i = 0; i < columns.size(); i++) {
                if (i > 0) {
                    out.write(',');
                }
                Object value = record.get(i);
                if (value != null) {
                    String text = ValueText.text(value);
                    // a quoted empty string reads back as "", an unquoted empty field as null
                    out.write(text.isEmpty() ? "\"\"" : csvField(text));
                }
            }
            out.write('\n');
            rows++;
        }
        return rows;
    }

    static String csvField(String text) {
        boolean quote = text.indexOf(',') >= 0 || text.indexOf('"') >= 0 || text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0;
        return quote ? '"' + text.replace("\"", "\"\"") + '"' : text;
    }

    private static long writeJsonLines(Writer out, Schema schema, Iterable<Record> records) throws IOException {
        List<Types.NestedField> columns = schema.columns();
        JsonFactory factory = new JsonFactory();
        long rows = 0;
        try (JsonGenerator json = factory.createGenerator(out)) {
            json.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            json.setRootValueSeparator(null);
            for (Record record : records) {
                json.writeStartObject();
                for (int i = 0; i < columns.size(); i++) {
                    Object value = record.get(i);
                    if (value != null) {
                        json.writeFieldName(columns.get(i).name());
                        ValueText.writeJson(json, value);
                    }
                }
                json.writeEndObject();
                json.flush();
                out.write('\n');
                rows++;
            }
        }
        return rows;
    }
}
