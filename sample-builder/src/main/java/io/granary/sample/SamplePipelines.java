package io.granary.sample;

import io.granary.dataset.Datasets;
import io.granary.feature.registry.RegistryState;
import io.granary.sample.component.Components;
import io.granary.sample.config.PipelineConfig;
import io.granary.sample.plan.Plan;
import io.granary.sample.plan.Planner;
import io.granary.sample.run.Executor;
import io.granary.sample.run.NodeRecord;
import io.granary.sample.run.RunHistory;
import io.granary.sample.run.RunRecord;
import io.granary.sample.template.TemplateStore;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * Sample pipelines: templates (built in, and a team's own in {@code DIR/templates}), configs that
 * fill them, plans, runs and their history ({@code DIR/runs}). Spark starts only when a node that
 * needs it runs.
 */
public final class SamplePipelines {

    private final Datasets datasets;
    private final Supplier<RegistryState> registry;
    private final Supplier<SparkSession> spark;
    private final Path dir;
    private final Components components;
    private final TemplateStore templates;
    private final RunHistory history;

    public SamplePipelines(Datasets datasets, Supplier<RegistryState> registry, Supplier<SparkSession> spark, Path dir, List<Path> plugins) {
        this.datasets = datasets;
        this.registry = registry;
        this.spark = spark;
        this.dir = dir;
        this.components = Components.load(plugins);
        this.templates = new TemplateStore(dir.resolve("templates"), components);
        this.history = new RunHistory(dir.resolve("runs"));
    }

    public TemplateStore templates() {
        return templates;
    }

    public Components components() {
        return components;
    }

    public RunHistory history() {
        return history;
    }

    /** The plan of a config file: every node, its fingerprint, and whether it would run and why. */
    public Plan plan(Path config, Set<String> force) {
        return plan(PipelineConfig.parse(config), force);
    }

    private Plan plan(PipelineConfig config, Set<String> force) {
        return new Planner(datasets, registry.get(), templates, components).plan(config, force, previous(config.name()));
    }

    /** Plans and runs a config file (planned once the pipeline's lock is taken). */
    public RunRecord run(Path config, Set<String> force, Executor.Options options, Consumer<String> log) {
        PipelineConfig parsed = PipelineConfig.parse(config);
        RegistryState state = registry.get();
        Planner planner = new Planner(datasets, state, templates, components);
        return new Executor(datasets, state, spark, planner, history, dir.resolve("locks"))
                .run(parsed.name(), () -> planner.plan(parsed, force, previous(parsed.name())), options, log);
    }

    /** What `sample gc` did: the node tables it dropped, and the pipelines it left alone because a run of them was under way. */
    public record Collected(List<String> dropped, List<String> busy) {}

    /**
     * Drops the node tables in the scratch namespace that none of the last {@code keep} runs of any
     * pipeline references. A pipeline being run is left alone (its lock is held), so a run never
     * loses a table it is about to read.
     */
    public Collected gc(int keep) {
        if (keep < 1) {
            throw new io.granary.common.GranaryException("--keep " + keep + " keeps no run", "keep at least 1: the latest run's tables");
        }
        Map<String, List<RunRecord>> byPipeline = new LinkedHashMap<>();
        for (RunRecord run : history.runs(Optional.empty())) {
            byPipeline.computeIfAbsent(run.pipeline(), p -> new java.util.ArrayList<>()).add(run);
        }
        Set<String> referenced = new java.util.HashSet<>();
        byPipeline.values().forEach(runs -> runs.subList(Math.max(0, runs.size() - keep), runs.size()).forEach(run ->
                run.nodes().forEach(node -> node.outputs().forEach(output -> referenced.add(output.replaceAll("@.*$", ""))))));
        List<String> dropped = new java.util.ArrayList<>();
        List<String> busy = new java.util.ArrayList<>();
        if (!datasets.namespaces().contains(Planner.SCRATCH_NAMESPACE)) {
            return new Collected(dropped, busy);
        }
        Map<String, List<io.granary.dataset.DatasetName>> tablesByPipeline = new LinkedHashMap<>();
        for (io.granary.dataset.DatasetName table : datasets.list(Optional.of(Planner.SCRATCH_NAMESPACE))) {
            int end = table.name().indexOf("__");
            tablesByPipeline.computeIfAbsent(end < 0 ? table.name() : table.name().substring(0, end), p -> new java.util.ArrayList<>()).add(table);
        }
        for (Map.Entry<String, List<io.granary.dataset.DatasetName>> pipeline : tablesByPipeline.entrySet()) {
            try (AutoCloseable lock = Executor.lock(dir.resolve("locks"), pipeline.getKey(), "gc")) {
                for (io.granary.dataset.DatasetName table : pipeline.getValue()) {
                    if (!referenced.contains(table.toString())) {
                        datasets.drop(table, true);
                        dropped.add(table.toString());
                    }
                }
            } catch (io.granary.common.GranaryException e) {
                if (e.kind() != io.granary.common.GranaryException.Kind.CONFLICT) {
                    throw e;
                }
                busy.add(pipeline.getKey());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return new Collected(dropped, busy);
    }

    /** What each node's fingerprint was made of in the pipeline's last run that committed (or skipped) it. */
    private Map<String, Planner.Previous> previous(String pipeline) {
        Map<String, Planner.Previous> previous = new LinkedHashMap<>();
        for (RunRecord run : history.runs(Optional.of(pipeline))) {
            for (NodeRecord node : run.nodes()) {
                if (node.status().equals("succeeded") || node.status().equals("skipped")) {
                    previous.put(node.id(), new Planner.Previous(node.fingerprint(), node.canonicalArgs(), node.componentVersion()));
                }
            }
        }
        return previous;
    }
}
