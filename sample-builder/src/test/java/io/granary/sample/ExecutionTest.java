package io.granary.sample;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.sample.component.Components;
import io.granary.sample.run.Executor;
import io.granary.sample.run.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How runs go wrong and recover: retries, a failed run rerun, two runs at once, a component from a plugin jar. */
class ExecutionTest {

    @TempDir
    Path dir;

    SampleFixture fixture;
    String key;

    @BeforeEach
    void setUp() {
        fixture = new SampleFixture(dir);
        fixture.ctrData(20, 2);
        key = UUID.randomUUID().toString();
    }

    @AfterEach
    void tearDown() throws Exception {
        TestComponents.GATES.computeIfAbsent(key, k -> new CountDownLatch(1)).countDown();
        fixture.close();
    }

    /** A template of extract -> COMPONENT -> write, added to the fixture's template directory. */
    private void template(String component) {
        Path file = write(dir, "t-" + component + ".yaml",
                "name: t-" + component,
                "params:",
                "  labels: {type: dataset, required: true}",
                "  key: {type: string, required: true}",
                "  output: {type: string, required: true}",
                "nodes:",
                "  - {id: extract, component: extract, with: {dataset: \"${params.labels}\"}}",
                "  - {id: middle, component: " + component + ", with: {input: \"${nodes.extract.output}\", key: \"${params.key}\"}}",
                "  - {id: write, component: write, with: {input: \"${nodes.middle.output}\", output: \"${params.output}\"}}");
        fixture.pipelines.templates().add(file);
    }

    private Path config(String component, int retries) {
        return fixture.config("template: t-" + component, "retries: {count: " + retries + ", backoff: 10ms}", "params:",
                "  labels: " + fixture.ns + ".labels", "  key: " + key, "  output: " + fixture.ns + ".out");
    }

    @Test
    void aNodeThatFailsIsRetriedAndTheRunSucceeds() {
        template("flaky");
        TestComponents.FAILURES.put(key, new AtomicInteger(2));

        RunRecord run = fixture.run(config("flaky", 2));

        assertThat(run.status()).isEqualTo(RunRecord.SUCCEEDED);
        assertThat(run.node("middle").orElseThrow().attempts()).isEqualTo(3);
        assertThat(fixture.rows("out")).hasSize(80);
    }

    @Test
    void aFailedRunRerunRedoesOnlyWhatDidNotCommit() {
        template("flaky");
        TestComponents.FAILURES.put(key, new AtomicInteger(1));
        Path config = config("flaky", 0);

        assertThatThrownBy(() -> fixture.run(config)).isInstanceOf(GranaryException.class)
                .hasMessageContaining("node middle failed: injected failure");
        RunRecord failed = fixture.pipelines.history().latest(fixture.pipeline).orElseThrow();
        assertThat(failed.status()).isEqualTo(RunRecord.FAILED);
        assertThat(failed.node("extract").orElseThrow().status()).isEqualTo("succeeded");
        assertThat(failed.node("middle").orElseThrow().status()).isEqualTo("failed");
        assertThat(failed.node("middle").orElseThrow().error()).contains("injected failure");
        assertThat(failed.node("write").orElseThrow().status()).isEqualTo("not run");
        assertThat(fixture.datasets.exists(fixture.name("out"))).isFalse();

        RunRecord rerun = fixture.run(config);

        assertThat(rerun.node("extract").orElseThrow().status()).isEqualTo("skipped");
        assertThat(rerun.node("middle").orElseThrow().status()).isEqualTo("succeeded");
        assertThat(fixture.rows("out")).hasSize(80);
    }

    @Test
    void aSecondRunOfAPipelineIsRefusedWhileTheFirstRunsAndMayWaitForIt() throws Exception {
        template("blocking");
        Path config = config("blocking", 0);
        CountDownLatch started = TestComponents.STARTED.computeIfAbsent(key, k -> new CountDownLatch(1));
        CompletableFuture<RunRecord> first = CompletableFuture.supplyAsync(() -> fixture.run(config));
        assertThat(started.await(60, TimeUnit.SECONDS)).as("the first run reached its blocking node").isTrue();

        assertThatThrownBy(() -> fixture.run(config)).isInstanceOf(GranaryException.class)
                .hasMessageContaining("pipeline " + fixture.pipeline + " is being run by another process")
                .satisfies(e -> assertThat(((GranaryException) e).kind()).isEqualTo(GranaryException.Kind.CONFLICT));

        CompletableFuture<RunRecord> waiting = CompletableFuture.supplyAsync(() -> fixture.pipelines.run(config, Set.of(),
                new Executor.Options(io.granary.sample.component.Engine.auto, 100_000_000L, 2, Duration.ofSeconds(60)), line -> { }));
        TestComponents.GATES.computeIfAbsent(key, k -> new CountDownLatch(1)).countDown();
        assertThat(first.get(60, TimeUnit.SECONDS).status()).isEqualTo(RunRecord.SUCCEEDED);
        RunRecord second = waiting.get(60, TimeUnit.SECONDS);
        assertThat(second.status()).isEqualTo(RunRecord.SUCCEEDED);
        assertThat(second.nodes()).allSatisfy(node -> assertThat(node.status()).isEqualTo("skipped"));
    }

    @Test
    void aComponentFromAPluginJarRunsLikeABuiltInOne() throws Exception {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        buildPlugin(plugins.resolve("shout.jar"));
        SamplePipelines withPlugins = new SamplePipelines(fixture.datasets, fixture.registry::load,
                io.granary.dataset.testing.SharedSpark::session, dir.resolve("samples"), List.of(plugins));
        assertThat(withPlugins.components().names()).contains("shout");
        assertThat(Components.builtIn().names()).doesNotContain("shout");
        Path file = write(dir, "t-shout.yaml",
                "name: t-shout",
                "params:",
                "  labels: {type: dataset, required: true}",
                "  output: {type: string, required: true}",
                "nodes:",
                "  - {id: extract, component: extract, with: {dataset: \"${params.labels}\"}}",
                "  - {id: shout, component: shout, with: {input: \"${nodes.extract.output}\"}}",
                "  - {id: write, component: write, with: {input: \"${nodes.shout.output}\", output: \"${params.output}\"}}");
        withPlugins.templates().add(file);
        Path config = fixture.config("template: t-shout", "params:", "  labels: " + fixture.ns + ".labels", "  output: " + fixture.ns + ".loud");

        RunRecord run = withPlugins.run(config, Set.of(), Executor.Options.defaults(), line -> { });

        assertThat(run.status()).isEqualTo(RunRecord.SUCCEEDED);
        assertThat(fixture.rows("loud")).hasSize(80).allSatisfy(row -> assertThat(row.getField("shouted")).isEqualTo("HELLO"));
        assertThatThrownBy(() -> fixture.plan(config)).as("without the plugin").hasMessageContaining("unknown component 'shout'");
    }

    /** Compiles a component from source into a jar of its own, with its service file: a team's plugin. */
    private void buildPlugin(Path jar) throws Exception {
        Path source = Files.createDirectories(dir.resolve("plugin-src/com/example"));
        Files.writeString(source.resolve("Shout.java"), String.join("\n",
                "package com.example;",
                "import io.granary.sample.component.*;",
                "import java.util.*;",
                "public final class Shout implements Component {",
                "  public String name() { return \"shout\"; }",
                "  public String version() { return \"1\"; }",
                "  public String description() { return \"adds a loud column\"; }",
                "  public List<Argument> arguments() { return List.of(Argument.required(\"input\", \"rows\")); }",
                "  public boolean rowLocal(NodeArgs args) { return true; }",
                "  public List<Column> check(NodeArgs args, CheckContext context) {",
                "    List<Column> columns = new ArrayList<>(args.table(\"input\").columns());",
                "    columns.add(new Column(\"shouted\", \"string\"));",
                "    return columns;",
                "  }",
                "  public NodeResult run(NodeArgs args, RunContext context) {",
                "    return new NodeResult.Frame(context.read(args.table(\"input\"))",
                "        .withColumn(\"shouted\", org.apache.spark.sql.functions.upper(org.apache.spark.sql.functions.lit(\"hello\"))), Map.of());",
                "  }",
                "}"));
        Path classes = Files.createDirectories(dir.resolve("plugin-classes"));
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        int code = compiler.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                source.resolve("Shout.java").toString());
        assertThat(code).as("the plugin compiles").isZero();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("com/example/Shout.class"));
            out.write(Files.readAllBytes(classes.resolve("com/example/Shout.class")));
            out.closeEntry();
            out.putNextEntry(new JarEntry("META-INF/services/io.granary.sample.component.Component"));
            out.write("com.example.Shout\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.closeEntry();
        }
    }

    /** The list of nodes' statuses, for messages. */
    static List<String> statuses(RunRecord run) {
        List<String> statuses = new ArrayList<>();
        run.nodes().forEach(n -> statuses.add(n.id() + "=" + n.status()));
        return statuses;
    }
}
