package io.granary.sample.run;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteResult;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.spark.SparkQueries;
import io.granary.feature.registry.RegistryState;
import io.granary.sample.component.Engine;
import io.granary.sample.component.NodeArgs;
import io.granary.sample.component.NodeResult;
import io.granary.sample.component.RunContext;
import io.granary.sample.component.TableArg;
import io.granary.sample.plan.Action;
import io.granary.sample.plan.NodeOutput;
import io.granary.sample.plan.Plan;
import io.granary.sample.plan.PlannedNode;
import io.granary.sample.plan.Planner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Runs a plan: each node once its inputs are committed, independent nodes at once, each retried on
 * failure; every output committed atomically (an Iceberg table per node in the scratch namespace,
 * or the user's datasets for a write node) and recorded in the run's history as it finishes. A
 * failed or killed run, rerun, finds the committed outputs by their fingerprints and redoes only
 * the rest. Only one run of a pipeline at a time: the second waits or is refused.
 */
public final class Executor {

    /** How a run goes: the engine, the in-process size limit, nodes at once, how long to wait for another run of the pipeline. */
    public record Options(Engine engine, long localMaxRows, int parallel, Duration waitForLock) {
        public static Options defaults() {
            return new Options(Engine.auto, 100_000_000L, 2, Duration.ZERO);
        }
    }

    private final Datasets datasets;
    private final RegistryState registry;
    private final Supplier<SparkSession> spark;
    private final Planner planner;
    private final RunHistory history;
    private final java.nio.file.Path lockDir;

    public Executor(Datasets datasets, RegistryState registry, Supplier<SparkSession> spark, Planner planner, RunHistory history,
                    java.nio.file.Path lockDir) {
        this.datasets = datasets;
        this.registry = registry;
        this.spark = spark;
        this.planner = planner;
        this.history = history;
        this.lockDir = lockDir;
    }

    /**
     * Runs {@code pipeline}: takes its lock, then plans it (so that a run that waited for another
     * sees what that one committed) and runs the plan; {@code log} gets a line as each node starts
     * and ends. Fails (after recording it) if a node failed.
     */
    public RunRecord run(String pipeline, Supplier<Plan> plan, Options options, Consumer<String> log) {
        String runId = UUID.randomUUID().toString();
        try (PipelineLock lock = PipelineLock.acquire(lockDir, pipeline, runId, options.waitForLock())) {
            return runLocked(runId, plan.get(), options, log);
        }
    }

    /** Takes a pipeline's lock at once (for work that must not overlap a run of it, as `sample gc`), or fails with CONFLICT. */
    public static AutoCloseable lock(java.nio.file.Path lockDir, String pipeline, String holder) {
        return PipelineLock.acquire(lockDir, pipeline, holder, Duration.ZERO);
    }

    private RunRecord runLocked(String runId, Plan plan, Options options, Consumer<String> log) {
        if (options.engine() == Engine.local) {
            List<String> refused = new ArrayList<>();
            for (PlannedNode node : plan.nodes()) {
                if (node.action() != Action.SKIP && !node.passThrough()) {
                    planner.planArgs(plan, node).flatMap(args -> node.component().notInProcess(args))
                            .ifPresent(why -> refused.add(node.id() + " (" + why + ")"));
                }
            }
            if (!refused.isEmpty()) {
                throw new GranaryException("--engine local: these nodes cannot run in this process: " + String.join(", ", refused),
                        "run with --engine auto (the default), which runs them on Spark");
            }
        }
        long started = System.currentTimeMillis();
        List<NodeRecord> nodes = new ArrayList<>();
        for (PlannedNode node : plan.nodes()) {
            nodes.add(new NodeRecord(node.id(), node.component().name(), node.component().version(), node.fingerprint(), node.canonicalArgs(),
                    node.action().name(), node.reason(), node.action() == Action.RUN ? "pending" : "skipped", 0, 0, 0,
                    node.passThrough() ? List.of() : node.existing().map(Executor::describe).orElse(List.of()),
                    !node.passThrough() && node.existing().map(o -> !o.published().isEmpty()).orElse(false),
                    node.existing().map(NodeOutput::values).orElse(Map.of()), "", ""));
        }
        Run run = new Run(new RunRecord(runId, plan.config().name(), plan.config().file().toString(), plan.template().id(),
                options.engine().name(), RunRecord.RUNNING, started, 0, ProcessHandle.current().pid(), nodes, ""));
        history.save(run.record);
        log.accept("run " + runId.substring(0, 8) + " of " + plan.config().name() + " (" + plan.template().id() + "): " + plan.nodes().size()
                + " nodes, " + plan.toRun() + " to run");

        Map<String, NodeOutput> outputs = new ConcurrentHashMap<>();
        Map<String, CompletableFuture<NodeOutput>> futures = new LinkedHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, options.parallel()), runnable -> {
            Thread thread = new Thread(runnable, "granary-sample-node");
            thread.setDaemon(true);
            return thread;
        });
        try {
            for (PlannedNode node : plan.nodes()) {
                CompletableFuture<?>[] upstream = node.upstream().stream().map(futures::get).toArray(CompletableFuture[]::new);
                futures.put(node.id(), CompletableFuture.allOf(upstream).thenApplyAsync(ignored -> {
                    NodeOutput output = execute(run, plan, node, outputs, options, log);
                    outputs.put(node.id(), output);
                    return output;
                }, pool));
            }
            String failure = "";
            for (PlannedNode node : plan.nodes()) {
                try {
                    futures.get(node.id()).join();
                } catch (CompletionException e) {
                    NodeRecord record = run.record.node(node.id()).orElseThrow();
                    if (record.status().equals("pending")) {
                        run.update(record.with("not run", 0, 0, 0, List.of(), Map.of(), "an upstream node failed"));
                    } else if (failure.isEmpty()) {
                        failure = "node " + node.id() + " failed: " + message(e.getCause());
                    }
                }
            }
            long finished = System.currentTimeMillis();
            run.finish(failure.isEmpty() ? RunRecord.SUCCEEDED : RunRecord.FAILED, finished, failure);
            if (!failure.isEmpty()) {
                Throwable cause = firstFailure(plan, futures);
                log.accept("run " + runId.substring(0, 8) + " failed after " + seconds(finished - started) + ": " + failure);
                throw cause instanceof GranaryException granary ? new GranaryException(granary.kind(), failure + " (run " + runId.substring(0, 8)
                        + ")", granary.hint() + (granary.hint().isEmpty() ? "" : "; ") + "rerun to redo only what did not commit", granary)
                        : new GranaryException(GranaryException.Kind.UNAVAILABLE, failure + " (run " + runId.substring(0, 8) + ")",
                        "rerun to redo only what did not commit; --debug shows the cause", cause);
            }
            log.accept("run " + runId.substring(0, 8) + " succeeded in " + seconds(finished - started));
            return run.record;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Throwable firstFailure(Plan plan, Map<String, CompletableFuture<NodeOutput>> futures) {
        for (PlannedNode node : plan.nodes()) {
            CompletableFuture<NodeOutput> future = futures.get(node.id());
            if (future.isCompletedExceptionally()) {
                try {
                    future.join();
                } catch (CompletionException e) {
                    return e.getCause();
                }
            }
        }
        return new IllegalStateException("no node failed");
    }

    /** The run's record, updated as nodes finish and saved each time. */
    private final class Run {
        private RunRecord record;

        Run(RunRecord record) {
            this.record = record;
        }

        synchronized void update(NodeRecord node) {
            record = record.withNode(node);
            history.save(record);
        }

        synchronized void finish(String status, long at, String error) {
            record = record.finished(status, at, error);
            history.save(record);
        }

        synchronized NodeRecord node(String id) {
            return record.node(id).orElseThrow();
        }
    }

    private NodeOutput execute(Run run, Plan plan, PlannedNode node, Map<String, NodeOutput> outputs, Options options, Consumer<String> log) {
        if (node.passThrough()) {
            TableArg input = planner.runArgs(plan, node, outputs).table(node.component().mainInput());
            run.update(run.node(node.id()).with("skipped", 0, 0, 0, input.pinnedParts(), Map.of(), ""));
            // a pass-through of rows an upstream node added passes those on too
            Optional<TableArg> added = node.upstream().stream().map(outputs::get).filter(o -> o != null && o.delta().isPresent()
                    && o.table().equals(Optional.of(input))).findFirst().flatMap(NodeOutput::delta);
            return new NodeOutput(Optional.of(input), List.of(), 0, Map.of(), run.record.runId(), added);
        }
        if (node.action() == Action.SKIP) {
            log.accept(String.format("  %-16s skip  %s", node.id(), node.reason()));
            return node.existing().orElse(new NodeOutput(Optional.empty(), List.of(), 0, Map.of(), ""));
        }
        NodeArgs args = planner.runArgs(plan, node, outputs);
        int attempts = 0;
        long started = System.nanoTime();
        run.update(run.node(node.id()).with("running", 0, 0, 0, List.of(), Map.of(), ""));
        log.accept(String.format("  %-16s %s %s (%s)", node.id(), node.action() == Action.INCREMENTAL ? "incr " : "run  ", node.component().name(),
                node.reason()));
        while (true) {
            attempts++;
            try {
                boolean[] usedSpark = {false};
                NodeOutput output = attempt(run.record.runId(), plan, node, args, options, usedSpark);
                long millis = (System.nanoTime() - started) / 1_000_000;
                String engine = usedSpark[0] ? "spark" : "in process";
                run.update(run.node(node.id()).with("succeeded", attempts, output.rows(), millis, describe(output), output.values(), "")
                        .publishing(!output.published().isEmpty()).ranOn(engine));
                log.accept(String.format("  %-16s done  %,d rows in %s (%s)%s", node.id(), output.rows(), seconds(millis), engine,
                        describe(output).isEmpty() ? "" : " -> " + String.join(", ", describe(output))));
                return output;
            } catch (RuntimeException e) {
                boolean retry = attempts <= plan.config().retries().count() && retriable(e);
                long millis = (System.nanoTime() - started) / 1_000_000;
                run.update(run.node(node.id()).with(retry ? "retrying" : "failed", attempts, 0, millis, List.of(), Map.of(), message(e)));
                if (!retry) {
                    log.accept(String.format("  %-16s FAILED after %d attempt%s: %s", node.id(), attempts, attempts == 1 ? "" : "s", message(e)));
                    throw e;
                }
                Duration wait = plan.config().retries().backoff().multipliedBy(1L << Math.min(10, attempts - 1));
                log.accept(String.format("  %-16s attempt %d failed (%s); retrying in %s", node.id(), attempts, message(e), seconds(wait.toMillis())));
                try {
                    Thread.sleep(wait.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** A user's mistake fails at once; anything else (a lost executor, a full disk, a flaky store) is tried again. */
    private static boolean retriable(RuntimeException e) {
        return !(e instanceof GranaryException granary) || granary.kind() == GranaryException.Kind.UNAVAILABLE;
    }

    private NodeOutput attempt(String runId, Plan plan, PlannedNode node, NodeArgs args, Options options, boolean[] usedSpark) {
        DatasetName scratch = Planner.scratchTable(plan.config().name(), node.id(), node.fingerprint());
        if (node.component().publishes(args).isEmpty() && datasets.exists(scratch)) {
            // a forced rerun, or an earlier attempt whose commit landed: the table is made again
            datasets.drop(scratch, true);
        }
        List<String> inputs = new ArrayList<>();
        args.values().values().forEach(value -> {
            if (value instanceof TableArg table) {
                inputs.addAll(table.pinnedParts());
            }
        });
        Provenance provenance = new Provenance("sample run " + plan.config().name(), runId, System.getProperty("user.name", "unknown"), inputs)
                .withProperties(Map.of(Planner.PIPELINE, plan.config().name(), Planner.NODE, node.id(), Planner.FINGERPRINT, node.fingerprint()));
        // an incremental node's table holds only the rows it adds; its commit names the parts before it
        List<TableArg.Part> earlier = node.increment().filter(increment -> !increment.merge()).flatMap(increment -> increment.previous().table())
                .map(TableArg::parts).orElse(List.of());
        Optional<TableArg> mergeInto = node.increment().filter(PlannedNode.Increment::merge).flatMap(increment -> increment.previous().table());
        if (!earlier.isEmpty()) {
            provenance = provenance.withProperties(Map.of(Planner.EARLIER_PARTS, Planner.partsJson(earlier)));
        }
        Context context = new Context(options, scratch, provenance, node.action() == Action.INCREMENTAL, mergeInto, usedSpark);
        NodeResult result = node.component().run(args, context);
        Provenance withValues = provenance.withProperties(Map.of(Planner.VALUES, Planner.valuesJson(result.values())));
        if (result instanceof NodeResult.Frame frame) {
            usedSpark[0] = true;
            WriteResult written = new SparkQueries(spark.get(), datasets).createFrom(scratch, frame.rows(), List.of(), Map.of(), withValues);
            return tableOutput(scratch, written.snapshotId(), written.rowsWritten(), result.values(), runId, earlier);
        }
        if (result instanceof NodeResult.Written written) {
            return tableOutput(written.table(), written.snapshotId(), written.rows(), result.values(), runId, earlier);
        }
        if (result instanceof NodeResult.Records records) {
            WriteResult written = datasets.createFromFiles(scratch, records.schema(), Map.of(),
                    table -> List.of(io.granary.sample.component.LocalTables.writeFile(table, records.rows())), withValues);
            return tableOutput(scratch, written.snapshotId(), written.rowsWritten(), result.values(), runId, earlier);
        }
        if (result instanceof NodeResult.PassThrough passThrough) {
            return new NodeOutput(Optional.of(passThrough.input()), List.of(), 0, result.values(), runId);
        }
        NodeResult.Published published = (NodeResult.Published) result;
        return new NodeOutput(Optional.empty(), published.datasets(), published.rows(), result.values(), runId);
    }

    /** A node's output table: the part it wrote, after the {@code earlier} parts of an incremental node's last output. */
    private NodeOutput tableOutput(DatasetName table, long snapshotId, long rows, Map<String, Object> values, String runId,
                                   List<TableArg.Part> earlier) {
        var columns = datasets.load(table).schema().columns().stream()
                .map(f -> new io.granary.sample.component.Column(f.name(), f.type().toString())).toList();
        TableArg written = new TableArg(table.toString(), Optional.of(snapshotId), columns);
        if (earlier.isEmpty()) {
            return new NodeOutput(Optional.of(written), List.of(), rows, values, runId);
        }
        List<TableArg.Part> parts = new ArrayList<>(earlier);
        parts.addAll(written.parts());
        return new NodeOutput(Optional.of(written.withParts(parts)), List.of(), rows, values, runId, Optional.of(written));
    }

    /** What a node runs with. */
    private final class Context implements RunContext {
        private final Options options;
        private final DatasetName output;
        private final Provenance provenance;
        private final boolean appending;
        private final Optional<TableArg> previousOutput;

        private final boolean[] usedSpark;

        Context(Options options, DatasetName output, Provenance provenance, boolean appending, Optional<TableArg> previousOutput,
                boolean[] usedSpark) {
            this.options = options;
            this.output = output;
            this.provenance = provenance;
            this.appending = appending;
            this.previousOutput = previousOutput;
            this.usedSpark = usedSpark;
        }

        @Override
        public Optional<TableArg> previousOutput() {
            return previousOutput;
        }

        @Override
        public boolean appending() {
            return appending;
        }

        @Override
        public Datasets datasets() {
            return datasets;
        }

        @Override
        public RegistryState registry() {
            return registry;
        }

        @Override
        public SparkSession spark() {
            usedSpark[0] = true;
            if (options.engine() == Engine.local) {
                throw new GranaryException("this node needs Spark, and --engine local was given", "run with --engine auto or spark");
            }
            return spark.get();
        }

        @Override
        public Dataset<Row> read(TableArg table) {
            Dataset<Row> rows = null;
            for (TableArg.Part part : table.parts()) {
                Dataset<Row> read;
                if (part.since().isPresent()) {
                    // only the rows of the snapshots appended after `since` (Iceberg's incremental append scan)
                    read = spark().read().format("iceberg").option("start-snapshot-id", part.since().get())
                            .option("end-snapshot-id", part.snapshotId().orElseThrow()).load(CatalogSettings.NAME + "." + part.dataset());
                } else {
                    read = spark().sql("SELECT * FROM " + CatalogSettings.NAME + "." + part.dataset()
                            + part.snapshotId().map(id -> " VERSION AS OF " + id).orElse(""));
                }
                rows = rows == null ? read : rows.unionByName(read, true);
            }
            return rows;
        }

        @Override
        public Engine engine() {
            return options.engine();
        }

        @Override
        public long localMaxRows() {
            return options.localMaxRows();
        }

        @Override
        public boolean inProcess(TableArg input) {
            return switch (options.engine()) {
                case local -> true;
                case spark -> false;
                case auto -> io.granary.sample.component.LocalTables.rows(datasets, input) <= io.granary.sample.component.LocalTables.MAX_ROWS;
            };
        }

        @Override
        public DatasetName outputTable() {
            return output;
        }

        @Override
        public Provenance provenance() {
            return provenance;
        }
    }

    static List<String> describe(NodeOutput output) {
        if (!output.published().isEmpty()) {
            return output.published();
        }
        return output.table().map(TableArg::pinnedParts).orElse(List.of());
    }

    private static String message(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage().lines().findFirst().orElse("");
    }

    private static String seconds(long millis) {
        return String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
