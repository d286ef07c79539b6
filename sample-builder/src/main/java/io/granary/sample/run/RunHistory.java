package io.granary.sample.run;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.granary.common.AtomicFiles;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** The runs of every pipeline, one JSON file a run under {@code DIR/PIPELINE/}, newest last. */
public final class RunHistory {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path dir;

    public RunHistory(Path dir) {
        this.dir = dir;
    }

    void save(RunRecord run) {
        Path file = dir.resolve(run.pipeline()).resolve(String.format("%013d-%s.json", run.startedMillis(), run.runId()));
        try {
            AtomicFiles.write(file, out -> JSON.writeValue(out, run));
        } catch (IOException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot record run " + run.runId() + " in " + file.getParent() + ": "
                    + e.getMessage(), "check that the samples directory (samples.path) is writable and has space", e);
        }
    }

    /** The runs of a pipeline (all pipelines when empty), oldest first. */
    public List<RunRecord> runs(Optional<String> pipeline) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> pipelines = Files.list(dir)) {
            for (Path pipelineDir : pipelines.filter(Files::isDirectory).toList()) {
                if (pipeline.isPresent() && !pipelineDir.getFileName().toString().equals(pipeline.get())) {
                    continue;
                }
                try (Stream<Path> runs = Files.list(pipelineDir)) {
                    runs.filter(f -> f.getFileName().toString().endsWith(".json")).forEach(files::add);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        files.sort(Comparator.comparing(f -> f.getFileName().toString()));
        List<RunRecord> runs = new ArrayList<>();
        for (Path file : files) {
            try {
                runs.add(JSON.readValue(file.toFile(), RunRecord.class));
            } catch (IOException e) {
                throw new GranaryException("the run record " + file + " is unreadable: " + e.getMessage(), "move it aside", e);
            }
        }
        return runs;
    }

    /** The newest run of a pipeline that got as far as planning. */
    public Optional<RunRecord> latest(String pipeline) {
        List<RunRecord> runs = runs(Optional.of(pipeline));
        return runs.isEmpty() ? Optional.empty() : Optional.of(runs.get(runs.size() - 1));
    }

    /** A run by its id or a unique prefix of it. */
    public RunRecord find(String idPrefix) {
        List<RunRecord> matching = runs(Optional.empty()).stream().filter(run -> run.runId().startsWith(idPrefix)).toList();
        if (matching.isEmpty()) {
            throw GranaryException.notFound("no run '" + idPrefix + "'", "list them with `granary sample runs`");
        }
        if (matching.size() > 1) {
            throw new GranaryException("'" + idPrefix + "' names " + matching.size() + " runs", "give more of the run id");
        }
        return matching.get(0);
    }
}
