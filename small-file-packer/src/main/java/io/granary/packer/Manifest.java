package io.granary.packer;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.granary.common.AtomicFiles;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SchemaParser;

/**
 * {@code manifest.json} beside the shards: what the shard set holds (shards with their bytes,
 * sample and member counts and SHA-256), the index schema, and how it was packed. Written last,
 * atomically: a shard set is what its manifest lists.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(String format, int formatVersion, String prefix, String sourceRoot, String dataset,
                       Settings settings, JsonNode indexSchema, List<Shard> shards, long samples, long members,
                       long bytes, String updated) {

    public static final String FILE_NAME = "manifest.json";
    public static final String FORMAT = "granary-webdataset-shards";
    public static final int FORMAT_VERSION = 1;

    /** How the shards were packed (of the last run that added shards). */
    public record Settings(long shardSize, int samplesPerShard, boolean shuffle, long seed, boolean dedup,
                           boolean followSymlinks, String metadata) {}

    /** One shard: its file name, size, counts, SHA-256 of the whole file, and its index part. */
    public record Shard(String name, long bytes, int samples, int members, String sha256, String index) {}

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public Manifest {
        shards = List.copyOf(shards);
    }

    public Schema schema() {
        return SchemaParser.fromJson(indexSchema);
    }

    static JsonNode schemaJson(Schema schema) {
        try {
            return JSON.readTree(SchemaParser.toJson(schema));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code dir} holds a finished shard set. */
    public static boolean existsIn(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE_NAME));
    }

    public static Manifest read(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw GranaryException.notFound("no shard set in " + dir + " (no " + FILE_NAME + ")",
                    Files.isDirectory(dir.resolve(Staging.DIRECTORY))
                            ? "a pack into it was interrupted: rerun the same `granary pack` command to finish it"
                            : "give the --out directory of a `granary pack` run");
        }
        try {
            Manifest manifest = JSON.readValue(file.toFile(), Manifest.class);
            if (!FORMAT.equals(manifest.format()) || manifest.formatVersion() > FORMAT_VERSION) {
                throw new GranaryException(file + " is not a Granary shard manifest of a version this build reads (format "
                        + manifest.format() + " v" + manifest.formatVersion() + ")", "use a newer granary");
            }
            return manifest;
        } catch (IOException e) {
            throw new GranaryException("cannot read " + file + ": " + e.getMessage(),
                    "the manifest is damaged; rerunning the pack with the same options rewrites it", e);
        }
    }

    /** Reads a manifest's JSON fetched from elsewhere (a remote tier); {@code source} names it in errors. */
    public static Manifest parse(byte[] json, String source) {
        try {
            Manifest manifest = JSON.readValue(json, Manifest.class);
            if (!FORMAT.equals(manifest.format()) || manifest.formatVersion() > FORMAT_VERSION) {
                throw new GranaryException(source + " is not a Granary shard manifest of a version this build reads (format "
                        + manifest.format() + " v" + manifest.formatVersion() + ")", "use a newer granary");
            }
            return manifest;
        } catch (IOException e) {
            throw new GranaryException("cannot read the shard manifest " + source + ": " + e.getMessage(),
                    "the manifest is damaged; rerunning the pack with the same options rewrites it", e);
        }
    }

    /** The same shard set cut down to these shards (e.g. those of an earlier snapshot), its totals recounted. */
    public Manifest withShards(List<Shard> kept) {
        long keptMembers = kept.stream().mapToLong(Shard::members).sum();
        long keptSamples = kept.stream().mapToLong(Shard::samples).sum();
        long keptBytes = kept.stream().mapToLong(Shard::bytes).sum();
        return new Manifest(format, formatVersion, prefix, sourceRoot, dataset, settings, indexSchema, kept, keptSamples,
                keptMembers, keptBytes, updated);
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a shard manifest", e);
        }
    }

    void write(Path dir) throws IOException {
        AtomicFiles.write(dir.resolve(FILE_NAME), out -> JSON.writeValue(out, this));
    }
}
