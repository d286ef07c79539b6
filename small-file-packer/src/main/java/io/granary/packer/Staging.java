package io.granary.packer;

import io.granary.common.AtomicFiles;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The state of an unfinished pack, in {@code OUT/.granary-pack/}: the run (its options and id)
 * and one record per finished shard, each written atomically after its shard and index part.
 * A rerun with the same options keeps the shards whose record matches its plan.
 */
final class Staging {

    static final String DIRECTORY = ".granary-pack";
    private static final String RUN = "run.json";

    /** The run this staging area belongs to. */
    record Run(String identity, String runId, int firstShard) {}

    /** A finished shard, with the plan fingerprint it was written from and the samples it left out as unreadable. */
    record ShardRecord(int number, String fingerprint, Manifest.Shard shard, List<String> unreadable) {
        ShardRecord {
            unreadable = List.copyOf(unreadable);
        }
    }

    private final Path directory;
    private final Run run;
    private final boolean resumed;

    private Staging(Path directory, Run run, boolean resumed) {
        this.directory = directory;
        this.run = run;
        this.resumed = resumed;
    }

    /** Resumes the unfinished run in {@code out} if its options match, or starts a new one. */
    static Staging open(Path out, PackOptions options, int firstShard) throws IOException {
        Path directory = out.resolve(DIRECTORY);
        Path runFile = directory.resolve(RUN);
        if (Files.isRegularFile(runFile)) {
            Run run = Manifest.JSON.readValue(runFile.toFile(), Run.class);
            Staging previous = new Staging(directory, run, true);
            if (!run.identity().equals(options.identity()) && previous.records().isEmpty()) {
                previous.clear();
                return open(out, options, firstShard);
            }
            if (!run.identity().equals(options.identity())) {
                throw new GranaryException(out + " holds an unfinished pack made with other options",
                        "rerun it with the same options to finish it, or delete " + directory + " to drop it");
            }
            return new Staging(directory, run, true);
        }
        Files.createDirectories(directory);
        Run run = new Run(options.identity(), UUID.randomUUID().toString(), firstShard);
        AtomicFiles.write(runFile, stream -> Manifest.JSON.writeValue(stream, run));
        return new Staging(directory, run, false);
    }

    Run run() {
        return run;
    }

    boolean resumed() {
        return resumed;
    }

    /** The record of shard {@code number}, if it was finished from the same plan and its files are all there. */
    Optional<ShardRecord> finished(Path out, int number, String fingerprint) throws IOException {
        Path file = recordFile(number);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        ShardRecord record = Manifest.JSON.readValue(file.toFile(), ShardRecord.class);
        boolean intact = record.fingerprint().equals(fingerprint)
                && Files.isRegularFile(out.resolve(record.shard().name()))
                && Files.size(out.resolve(record.shard().name())) == record.shard().bytes()
                && Files.isRegularFile(out.resolve(record.shard().index()));
        return intact ? Optional.of(record) : Optional.empty();
    }

    void record(ShardRecord record) throws IOException {
        AtomicFiles.write(recordFile(record.number()), stream -> Manifest.JSON.writeValue(stream, record));
    }

    /** Every shard record left by this run, including ones the current plan no longer has. */
    List<ShardRecord> records() throws IOException {
        List<ShardRecord> records = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "shard-*.json")) {
            for (Path file : files) {
                records.add(Manifest.JSON.readValue(file.toFile(), ShardRecord.class));
            }
        }
        return records;
    }

    void clear() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
        }
        Files.deleteIfExists(directory);
    }

    private Path recordFile(int number) {
        return directory.resolve(String.format("shard-%06d.json", number));
    }
}
