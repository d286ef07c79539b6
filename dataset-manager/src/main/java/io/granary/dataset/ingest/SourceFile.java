package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;

/** An input file of a write: where it is, its format, and whether it is gzip-compressed. */
public record SourceFile(Path path, Format format, boolean gzip, long size) {

    /** The formats Granary reads, chosen by file extension. */
    public enum Format {
        CSV, TSV, JSONL, PARQUET
    }

    public static final String EXTENSIONS = ".csv, .tsv, .jsonl, .ndjson, .json (one object per line), .parquet; text formats also .gz";

    /** Checks the file exists, is readable, is not empty and has a known extension. */
    public static SourceFile of(Path path) {
        if (!Files.exists(path)) {
            throw GranaryException.notFound("input file not found: " + path, "check the path (relative paths start at the working directory)");
        }
        if (Files.isDirectory(path)) {
            throw new GranaryException(path + " is a directory, not a file", "list the files themselves, e.g. " + path + "/*.csv");
        }
        if (!Files.isReadable(path)) {
            throw new GranaryException("input file is not readable: " + path, "check its permissions");
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean gzip = name.endsWith(".gz");
        String base = gzip ? name.substring(0, name.length() - 3) : name;
        Format format;
        if (base.endsWith(".csv")) {
            format = Format.CSV;
        } else if (base.endsWith(".tsv")) {
            format = Format.TSV;
        } else if (base.endsWith(".jsonl") || base.endsWith(".ndjson") || base.endsWith(".json")) {
            format = Format.JSONL;
        } else if (base.endsWith(".parquet") || base.endsWith(".pq")) {
            if (gzip) {
                throw new GranaryException("compressed Parquet file " + path, "Parquet compresses itself: give the .parquet file");
            }
            format = Format.PARQUET;
        } else {
            throw new GranaryException("unknown input format of " + path, "supported: " + EXTENSIONS);
        }
        long size;
        try {
            size = Files.size(path);
        } catch (IOException e) {
            throw new GranaryException("cannot read " + path + ": " + e.getMessage(), "check the file", e);
        }
        if (size == 0) {
            throw new GranaryException("input file is empty: " + path, "give a file with a header and at least one row");
        }
        return new SourceFile(path, format, gzip, size);
    }

    /** The file's bytes, decompressed if it is gzip. */
    InputStream openBytes() throws IOException {
        InputStream in = Files.newInputStream(path);
        return gzip ? new GZIPInputStream(in, 1 << 16) : in;
    }

    /** A URI naming this file in lineage records. */
    public String uri() {
        return path.toAbsolutePath().normalize().toUri().toString();
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
