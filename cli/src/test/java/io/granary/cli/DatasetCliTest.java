package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every `granary dataset` verb through the command line, and the exit codes scripts rely on. */
class DatasetCliTest {

    @TempDir
    Path dir;

    GranaryCli granary;

    @BeforeEach
    void setUp() {
        granary = new GranaryCli(dir.resolve("data"));
    }

    private static long snapshotOf(GranaryCli.Run run) {
        Matcher matcher = Pattern.compile("snapshot (\\d+)").matcher(run.out());
        assertThat(matcher.find()).as(run.toString()).isTrue();
        return Long.parseLong(matcher.group(1));
    }

    private GranaryCli.Run ok(String... args) {
        GranaryCli.Run run = granary.run(args);
        assertThat(run.code()).as(run.toString()).isZero();
        return run;
    }

    @Test
    void theWholeDatasetLifecycleFromTheCommandLine() throws Exception {
        Path day1 = write(dir, "day1.csv", "user_id,item_id,clicked,ts", "1,10,true,2026-11-27T10:00:00Z", "2,11,false,2026-11-27T11:00:00Z");
        Path day2 = write(dir, "day2.jsonl", "{\"user_id\": 3, \"item_id\": 12, \"clicked\": true, \"ts\": \"2026-11-28T09:00:00Z\"}");

        GranaryCli.Run created = ok("dataset", "create", "demo.clicks", "--from", day1.toString(), "--partition-by", "day(ts)");
        assertThat(created.out()).contains("created demo.clicks: snapshot").contains("2 rows in");
        long first = snapshotOf(created);
        ok("dataset", "tag", "demo.clicks", "day1");
        long second = snapshotOf(ok("dataset", "append", "demo.clicks", day2.toString()));

        assertThat(ok("dataset", "list").out()).contains("demo.clicks").contains("3");
        assertThat(ok("dataset", "show", "demo.clicks").out())
                .contains("rows       3").contains("partition  day(ts)").contains("day1 -> " + first)
                .containsPattern("user_id +long").containsPattern("ts +timestamptz");
        assertThat(ok("dataset", "show", "demo.clicks@day1").out()).contains("rows       2");
        assertThat(ok("dataset", "log", "demo.clicks").out())
                .contains(String.valueOf(first)).contains(String.valueOf(second)).contains("dataset append").contains("tag:day1");
        assertThat(ok("dataset", "head", "demo.clicks@" + first).out()).contains("(2 rows of demo.clicks@" + first + ")");
        assertThat(ok("dataset", "head", "demo.clicks", "-n", "1").out()).contains("(1 row of demo.clicks@" + second + ")");

        Path exported = dir.resolve("out/clicks.csv");
        Files.createDirectories(exported.getParent());
        assertThat(ok("dataset", "export", "demo.clicks@day1", "--to", exported.toString()).out()).contains("exported 2 rows");
        assertThat(Files.readAllLines(exported)).hasSize(3).first().isEqualTo("user_id,item_id,clicked,ts");

        assertThat(ok("dataset", "branch", "demo.clicks", "exp").out()).contains("starts at snapshot " + second);
        ok("dataset", "append", "demo.clicks@exp", day1.toString());
        assertThat(ok("dataset", "show", "demo.clicks@exp").out()).contains("rows       5");
        assertThat(ok("dataset", "show", "demo.clicks").out()).contains("rows       3");

        assertThat(ok("dataset", "lineage", "demo.clicks").out())
                .contains("dataset demo.clicks@" + second).contains("dataset append").contains("day2.jsonl").contains("day1.csv");

        GranaryCli.Run expired = ok("dataset", "expire", "demo.clicks", "--older-than", "0s");
        assertThat(expired.out()).contains("nothing to expire").contains("tagged or branch heads");

        assertThat(ok("dataset", "drop", "demo.clicks").out()).contains("dropped demo.clicks");
        assertThat(ok("dataset", "list").out()).contains("no datasets yet");
    }

    @Test
    void schemaEvolutionFromTheCommandLine() {
        ok("dataset", "create", "demo.t", "--from", write(dir, "a.csv", "id", "1").toString());
        Path wider = write(dir, "b.csv", "id,score", "2,0.5");

        GranaryCli.Run refused = granary.run("dataset", "append", "demo.t", wider.toString());
        assertThat(refused.code()).isEqualTo(Main.USER_ERROR);
        assertThat(refused.err()).contains("error: ").contains("column 'score' is not in the dataset").contains("hint:  ").contains("--evolve");

        assertThat(ok("dataset", "append", "demo.t", wider.toString(), "--evolve").out()).contains("schema: added column score double");
    }

    @Test
    void createFromASchemaFileThenAppend() {
        Path schema = write(dir, "schema.yaml", "columns:", "  - {name: id, type: long, required: true}", "  - {name: tags, type: list<string>}");
        assertThat(ok("dataset", "create", "demo.s", "--schema", schema.toString()).out()).contains("no rows yet");
        assertThat(ok("dataset", "show", "demo.s").out()).contains("snapshot   none").containsPattern("tags +list<string> +no");
        ok("dataset", "append", "demo.s", write(dir, "s.csv", "id,tags", "1,\"[\"\"a\"\"]\"").toString());

        Path badSchema = write(dir, "bad.yaml", "columns:", "  - {name: id, type: lnog}");
        GranaryCli.Run bad = granary.run("dataset", "create", "demo.bad", "--schema", badSchema.toString());
        assertThat(bad.code()).isEqualTo(Main.USER_ERROR);
        assertThat(bad.err()).contains("unknown column type 'lnog'").contains("bad.yaml:2");
    }

    @Test
    void userErrorsExitOneWithMessageAndHint() {
        Path bad = write(dir, "bad.csv", "a,b", "1,2", "3");
        GranaryCli.Run malformed = granary.run("dataset", "create", "demo.x", "--from", bad.toString());
        assertThat(malformed.code()).isEqualTo(Main.USER_ERROR);
        assertThat(malformed.err()).startsWith("error: " + bad + " line 3: expected 2 fields").contains("hint:  ");
        assertThat(malformed.err()).doesNotContain("at io.granary");

        GranaryCli.Run unknown = granary.run("dataset", "show", "nope.nothing");
        assertThat(unknown.code()).isEqualTo(Main.USER_ERROR);
        assertThat(unknown.err()).contains("error: unknown namespace nope");

        GranaryCli.Run illegal = granary.run("dataset", "show", "Bad-Name");
        assertThat(illegal.code()).isEqualTo(Main.USER_ERROR);
        assertThat(illegal.err()).contains("illegal dataset name");

        GranaryCli.Run debug = granary.run("dataset", "show", "nope.nothing", "--debug");
        assertThat(debug.err()).contains("at io.granary.dataset.Datasets");

        GranaryCli.Run missing = granary.run("dataset", "append", "demo.x", dir.resolve("missing.csv").toString());
        assertThat(missing.code()).isEqualTo(Main.USER_ERROR);
    }

    @Test
    void engineFlagsThatDoNotGoTogetherAreRefused() {
        ok("dataset", "create", "demo.t", "--from", write(dir, "a.csv", "id", "1").toString());
        GranaryCli.Run remote = granary.run("dataset", "append", "demo.t", "s3a://bucket/data.csv");
        assertThat(remote.code()).isEqualTo(Main.USER_ERROR);
        assertThat(remote.err()).contains("the local engine reads local files, not s3a://bucket/data.csv").contains("--engine spark");
        assertThat(granary.run("dataset", "append", "demo.t", "x.csv", "--engine", "spark", "--evolve").err())
                .contains("--evolve works with the local engine only");
        assertThat(granary.run("dataset", "append", "demo.t", "x.csv", "--format", "csv").err()).contains("--format goes with --engine spark");
        assertThat(granary.run("dataset", "append", "demo.t", "x.csv", "--engine", "hadoop").code()).isEqualTo(Main.USAGE);
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(granary.run("dataset", "frobnicate").code()).isEqualTo(Main.USAGE);
        assertThat(granary.run("dataset", "create").code()).isEqualTo(Main.USAGE);
        assertThat(granary.run("dataset", "head", "demo.x", "-n", "many").code()).isEqualTo(Main.USAGE);
        assertThat(granary.run("dataset", "expire", "demo.x").code()).as("--older-than is required").isEqualTo(Main.USAGE);
    }

    @Test
    void helpAndVersionExitZero() {
        GranaryCli.Run help = GranaryCli.runRaw("--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("dataset").contains("doctor").contains("demo").contains("Exit codes");
        assertThat(GranaryCli.runRaw("dataset", "create", "--help").out()).contains("--partition-by").contains("--evolve");
        assertThat(GranaryCli.runRaw("--version").out()).contains("granary ").contains("Iceberg 1.11.0").contains("Spark 4.1.1");
    }
}
