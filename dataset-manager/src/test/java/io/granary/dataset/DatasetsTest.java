package io.granary.dataset;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.testing.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

    @TempDir
    Path dir;

    Path warehouse;
    Datasets datasets;

    static final DatasetName CLICKS = DatasetName.parse("demo.clicks");

    @BeforeEach
    void openCatalog() {
        warehouse = dir.resolve("warehouse");
        datasets = Datasets.open(CatalogSettings.localHadoop(warehouse));
    }

    @AfterEach
    void closeCatalog() throws Exception {
        datasets.close();
    }

    private static Provenance test(String command) {
        return Provenance.of(command, List.of());
    }

    private WriteResult createClicks(String... rows) {
        List<String> lines = new ArrayList<>(List.of("user_id,item_id,clicked,ts"));
        lines.addAll(List.of(rows));
        Path file = write(dir, "clicks-" + System.nanoTime() + ".csv", lines.toArray(String[]::new));
        return datasets.create(CLICKS, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), test("dataset create"));
    }

    private WriteResult append(DatasetRef target, String... lines) {
        Path file = write(dir, "more-" + System.nanoTime() + ".csv", lines);
        return datasets.append(target, List.of(file), WriteOptions.defaults(), test("dataset append"));
    }

    private List<Long> userIds(DatasetRef ref) {
        return datasets.head(ref, 1000).stream().map(r -> (Long) r.getField("user_id")).sorted().toList();
    }

    @Test
    void createInfersColumnTypesFromEveryCsvValue() {
        Path file = write(dir, "typed.csv",
                "id,score,ok,ts,day,zip,name,late_double",
                "1,0.5,true,2026-11-28T10:00:00Z,2026-11-28,00123,\"Smith, J\",1",
                "2,1,false,2026-11-28T11:00:00+02:00,2026-11-29,00456,Lee,2.5");
        WriteResult result = datasets.create(CLICKS, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), test("create"));

        assertThat(result.rowsWritten()).isEqualTo(2);
        Schema schema = datasets.load(CLICKS).schema();
        assertThat(schema.findType("id")).isEqualTo(Types.LongType.get());
        assertThat(schema.findType("score")).isEqualTo(Types.DoubleType.get());
        assertThat(schema.findType("ok")).isEqualTo(Types.BooleanType.get());
        assertThat(schema.findType("ts")).isEqualTo(Types.TimestampType.withZone());
        assertThat(schema.findType("day")).isEqualTo(Types.DateType.get());
        assertThat(schema.findType("zip")).as("leading zeros keep a column text").isEqualTo(Types.StringType.get());
        assertThat(schema.findType("name")).isEqualTo(Types.StringType.get());
        assertThat(schema.findType("late_double")).as("long then double makes double").isEqualTo(Types.DoubleType.get());

        Record second = datasets.head(DatasetRef.latest(CLICKS), 10).stream()
                .filter(r -> r.getField("id").equals(2L)).findFirst().orElseThrow();
        assertThat(second.getField("ts")).isEqualTo(OffsetDateTime.parse("2026-11-28T09:00:00Z").atZoneSameInstant(ZoneOffset.UTC).toOffsetDateTime());
        assertThat(second.getField("day")).isEqualTo(LocalDate.parse("2026-11-29"));
        assertThat(second.getField("zip")).isEqualTo("00456");
        Record first = datasets.head(DatasetRef.latest(CLICKS), 10).stream()
                .filter(r -> r.getField("id").equals(1L)).findFirst().orElseThrow();
        assertThat(first.getField("name")).isEqualTo("Smith, J");
    }

    @Test
    void createFromJsonLinesInfersListsAndKeepsObjectsAsText() {
        Path file = write(dir, "events.jsonl",
                "{\"user_id\": 1, \"emb\": [0.1, 0.2], \"tags\": [\"a\"], \"meta\": {\"k\": 1}, \"ts\": \"2026-11-28T10:00:00Z\"}",
                "",
                "{\"user_id\": 2, \"emb\": [1, 2], \"tags\": [], \"meta\": null, \"ts\": \"2026-11-28T11:00:00Z\", \"extra\": null}");
        datasets.create(CLICKS, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), test("create"));

        Schema schema = datasets.load(CLICKS).schema();
        assertThat(schema.findType("emb").asListType().elementType()).isEqualTo(Types.DoubleType.get());
        assertThat(schema.findType("tags").asListType().elementType()).isEqualTo(Types.StringType.get());
        assertThat(schema.findType("meta")).isEqualTo(Types.StringType.get());
        assertThat(schema.findType("ts")).isEqualTo(Types.TimestampType.withZone());
        assertThat(schema.findType("extra")).as("only nulls seen: text").isEqualTo(Types.StringType.get());
        List<Record> rows = datasets.head(DatasetRef.latest(CLICKS), 10);
        Record two = rows.stream().filter(r -> r.getField("user_id").equals(2L)).findFirst().orElseThrow();
        assertThat(two.getField("emb")).isEqualTo(List.of(1.0, 2.0));
        Record one = rows.stream().filter(r -> r.getField("user_id").equals(1L)).findFirst().orElseThrow();
        assertThat(one.getField("meta")).isEqualTo("{\"k\":1}");
    }

    @Test
    void createFromSchemaFileMakesAnEmptyPartitionedDataset() {
        Path schema = write(dir, "schema.yaml",
                "columns:",
                "  - {name: user_id, type: long, required: true}",
                "  - {name: ts, type: timestamptz}",
                "  - {name: tags, type: list<string>}",
                "  - {name: price, type: 'decimal(10,2)'}",
                "partition_by: [day(ts)]");
        WriteResult result = datasets.create(CLICKS, List.of(), Optional.of(SchemaFile.parse(schema)), List.of(),
                WriteOptions.defaults(), test("create"));

        assertThat(result.rowsWritten()).isZero();
        DatasetInfo info = datasets.describe(DatasetRef.latest(CLICKS));
        assertThat(info.snapshot()).isEmpty();
        assertThat(info.schema().findField("user_id").isRequired()).isTrue();
        assertThat(info.partitionSpec().fields()).singleElement().satisfies(f -> assertThat(f.transform().toString()).isEqualTo("day"));
        assertThat(info.formatVersion()).isEqualTo(2);
        assertThat(info.properties()).containsEntry("write.parquet.compression-codec", "zstd");

        append(DatasetRef.latest(CLICKS), "user_id,ts,tags,price", "1,2026-11-28T10:00:00Z,\"[\"\"x\"\"]\",9.99",
                "2,2026-11-29T10:00:00Z,,1.5");
        Path data = Path.of(datasets.load(CLICKS).location().replaceFirst("^file:", ""), "data");
        assertThat(TestFiles.count(data, ".parquet")).as("one file per day partition").isEqualTo(2);
        assertThat(datasets.head(DatasetRef.latest(CLICKS), 10)).hasSize(2);
    }

    @Test
    void appendCommitsOneSnapshotForAllItsFiles() {
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        Path a = write(dir, "a.csv", "user_id,item_id,clicked,ts", "2,20,0,2026-11-28T10:00:00Z");
        Path b = write(dir, "b.csv", "ts,user_id", "2026-11-28T11:00:00Z,3");

        WriteResult result = datasets.append(DatasetRef.latest(CLICKS), List.of(a, b), WriteOptions.defaults(), test("dataset append"));

        assertThat(result.rowsWritten()).isEqualTo(2);
        assertThat(datasets.history(CLICKS)).hasSize(2);
        assertThat(datasets.history(CLICKS).get(0).id()).isEqualTo(result.snapshotId());
        assertThat(datasets.history(CLICKS).get(0).totalRows()).isEqualTo(3);
        assertThat(userIds(DatasetRef.latest(CLICKS))).containsExactly(1L, 2L, 3L);
        Record three = datasets.head(DatasetRef.latest(CLICKS), 10).stream().filter(r -> r.getField("user_id").equals(3L)).findFirst().orElseThrow();
        assertThat(three.getField("item_id")).as("a column the file lacks is null").isNull();
    }

    @Test
    void overwriteReplacesEveryRow() {
        createClicks("1,10,1,2026-11-27T10:00:00Z", "2,10,1,2026-11-27T10:00:00Z");
        Path file = write(dir, "new.csv", "user_id,item_id,clicked,ts", "9,90,0,2026-11-28T10:00:00Z");

        WriteResult result = datasets.overwrite(DatasetRef.latest(CLICKS), List.of(file), false, WriteOptions.defaults(), test("dataset overwrite"));

        assertThat(result.rowsWritten()).isEqualTo(1);
        assertThat(userIds(DatasetRef.latest(CLICKS))).containsExactly(9L);
        assertThat(datasets.history(CLICKS).get(0).deletedRows()).isEqualTo(2);
    }

    @Test
    void overwriteOfPartitionsKeepsUntouchedPartitions() {
        Path first = write(dir, "d1.csv", "user_id,day", "1,2026-11-27", "2,2026-11-28");
        datasets.create(CLICKS, List.of(first), Optional.empty(), List.of("day"), WriteOptions.defaults(), test("create"));
        Path redo = write(dir, "d2.csv", "user_id,day", "3,2026-11-28");

        datasets.overwrite(DatasetRef.latest(CLICKS), List.of(redo), true, WriteOptions.defaults(), test("overwrite"));

        assertThat(userIds(DatasetRef.latest(CLICKS))).containsExactly(1L, 3L);
    }

    @Test
    void appendRejectsAnUnknownColumnUnlessEvolving() {
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        Path file = write(dir, "wide.csv", "user_id,item_id,clicked,ts,dwell_ms", "2,20,1,2026-11-28T10:00:00Z,350");

        assertThatThrownBy(() -> datasets.append(DatasetRef.latest(CLICKS), List.of(file), WriteOptions.defaults(), test("append")))
                .isInstanceOf(GranaryException.class)
                .hasMessageContaining("column 'dwell_ms' is not in the dataset")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("--evolve"));
        assertThat(datasets.history(CLICKS)).hasSize(1);

        WriteResult evolved = datasets.append(DatasetRef.latest(CLICKS), List.of(file), WriteOptions.defaults().withEvolve(true), test("append"));

        assertThat(evolved.schemaChanges()).containsExactly("added column dwell_ms long");
        Types.NestedField added = datasets.load(CLICKS).schema().findField("dwell_ms");
        assertThat(added.isOptional()).isTrue();
        List<Record> rows = datasets.head(DatasetRef.latest(CLICKS), 10);
        assertThat(rows).extracting(r -> r.getField("dwell_ms")).containsExactlyInAnyOrder(null, 350L);
        assertThat(datasets.head(DatasetRef.at(CLICKS, datasets.history(CLICKS).get(1).id()), 10).get(0).struct().field("dwell_ms"))
                .as("the old snapshot keeps its old schema").isNull();
    }

    @Test
    void aBadValueNamesFileLineColumnAndTypeAndWritesNothing() {
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        Path data = Path.of(datasets.load(CLICKS).location().replaceFirst("^file:", ""), "data");
        long filesBefore = TestFiles.count(data, ".parquet");
        List<String> lines = new ArrayList<>(List.of("user_id,item_id,clicked,ts"));
        for (int i = 0; i < 10_000; i++) {
            lines.add(i + ",1,1,2026-11-28T10:00:00Z");
        }
        lines.add("oops,1,1,2026-11-28T10:00:00Z");
        Path bad = write(dir, "bad.csv", lines.toArray(String[]::new));

        assertThatThrownBy(() -> datasets.append(DatasetRef.latest(CLICKS), List.of(bad), WriteOptions.defaults(), test("append")))
                .isInstanceOf(GranaryException.class)
                .hasMessageContaining("bad.csv line 10002, column 'user_id': 'oops' is not a whole number (the dataset's type is long; the file's value reads as string)");

        assertThat(datasets.history(CLICKS)).hasSize(1);
        assertThat(TestFiles.count(data, ".parquet")).as("written data files are deleted").isEqualTo(filesBefore);
    }

    @Test
    void parquetColumnOfAnotherTypeNamesBothTypes() {
        Path file = write(dir, "s.csv", "user_id,score", "a,1.5");
        DatasetName strings = DatasetName.parse("demo.strings");
        datasets.create(strings, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), test("create"));
        Path parquet = dir.resolve("s.parquet");
        Export.toFile(datasets, DatasetRef.latest(strings), parquet);
        createClicks("1,10,1,2026-11-27T10:00:00Z");

        assertThatThrownBy(() -> datasets.append(DatasetRef.latest(CLICKS), List.of(parquet), WriteOptions.defaults().withEvolve(true), test("append")))
                .isInstanceOf(GranaryException.class)
                .hasMessageContaining("column 'user_id' is long in the dataset but string in");
    }

    @Test
    void parquetFromElsewhereIsMatchedByNameNotFieldId() {
        Path file = write(dir, "other.csv", "ts,clicked,item_id,user_id", "2026-11-28T10:00:00Z,1,77,5");
        DatasetName other = DatasetName.parse("demo.other_order");
        datasets.create(other, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), test("create"));
        Path parquet = dir.resolve("other.parquet");
        Export.toFile(datasets, DatasetRef.latest(other), parquet);
        createClicks("1,10,1,2026-11-27T10:00:00Z");

        datasets.append(DatasetRef.latest(CLICKS), List.of(parquet), WriteOptions.defaults(), test("append"));

        Record five = datasets.head(DatasetRef.latest(CLICKS), 10).stream().filter(r -> r.getField("user_id").equals(5L)).findFirst().orElseThrow();
        assertThat(five.getField("item_id")).isEqualTo(77L);
    }

    @Test
    void malformedCsvRowsAreReportedWithTheirLine() {
        Path shortRow = write(dir, "short.csv", "a,b,c", "1,2,3", "4,5");
        assertThatThrownBy(() -> datasets.create(CLICKS, List.of(shortRow), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .hasMessageContaining("short.csv line 3: expected 3 fields as in the header, found 2");

        Path unclosed = write(dir, "unclosed.csv", "a,b", "1,\"never closed", "2,3");
        assertThatThrownBy(() -> datasets.create(CLICKS, List.of(unclosed), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .hasMessageContaining("unclosed.csv line 2: quoted field is never closed");

        Path headerOnly = write(dir, "header.csv", "a,b");
        assertThatThrownBy(() -> datasets.create(CLICKS, List.of(headerOnly), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .hasMessageContaining("has a header but no rows");

        Path badJson = write(dir, "bad.jsonl", "{\"a\": 1}", "{\"a\": 2,}");
        assertThatThrownBy(() -> datasets.create(CLICKS, List.of(badJson), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .hasMessageContaining("bad.jsonl line 2: malformed JSON");
        assertThat(datasets.exists(CLICKS)).isFalse();
    }

    @Test
    void quotedFieldsKeepDelimitersQuotesAndNewlines() throws Exception {
        Path file = write(dir, "quoted.csv", "id,text", "1,\"a, b\"", "2,\"say \"\"hi\"\"\"", "3,\"two", "lines\"", "4,\"\"", "5,");
        datasets.create(CLICKS, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), test("create"));

        List<Record> rows = new ArrayList<>(datasets.head(DatasetRef.latest(CLICKS), 10));
        rows.sort((x, y) -> Long.compare((Long) x.getField("id"), (Long) y.getField("id")));
        assertThat(rows).extracting(r -> r.getField("text")).containsExactly("a, b", "say \"hi\"", "two\nlines", "", null);

        Path exported = dir.resolve("out.csv");
        Export.toFile(datasets, DatasetRef.latest(CLICKS), exported);
        DatasetName copy = DatasetName.parse("demo.copy");
        datasets.create(copy, List.of(exported), Optional.empty(), List.of(), WriteOptions.defaults(), test("create"));
        List<Record> again = new ArrayList<>(datasets.head(DatasetRef.latest(copy), 10));
        again.sort((x, y) -> Long.compare((Long) x.getField("id"), (Long) y.getField("id")));
        assertThat(again).extracting(r -> r.getField("text")).containsExactly("a, b", "say \"hi\"", "two\nlines", "", null);
        assertThat(Files.list(dir).filter(p -> p.getFileName().toString().contains(".tmp-")).count()).isZero();
    }

    @Test
    void missingEmptyAndUnknownInputsAreClearErrors() {
        assertThatThrownBy(() -> datasets.create(CLICKS, List.of(dir.resolve("nope.csv")), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .isInstanceOf(GranaryException.class).hasMessageContaining("input file not found").hasMessageContaining("nope.csv");
        Path empty = dir.resolve("empty.csv");
        try {
            Files.createFile(empty);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThatThrownBy(() -> datasets.create(CLICKS, List.of(empty), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .hasMessageContaining("input file is empty");
        Path xml = write(dir, "data.xml", "<a/>");
        assertThatThrownBy(() -> datasets.create(CLICKS, List.of(xml), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .hasMessageContaining("unknown input format");
        Path notUtf8 = dir.resolve("latin1.csv");
        try {
            Files.write(notUtf8, new byte[] {'a', '\n', (byte) 0xE9, 'x', '\n'});
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThatThrownBy(() -> datasets.create(CLICKS, List.of(notUtf8), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .hasMessageContaining("not valid UTF-8");
        assertThat(datasets.exists(CLICKS)).isFalse();
    }

    @Test
    void unknownDatasetsNamespacesAndRefsAreNotFound() {
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        assertThatThrownBy(() -> datasets.describe(DatasetRef.parse("demo.clickz")))
                .isInstanceOf(GranaryException.class)
                .hasMessage("unknown dataset demo.clickz")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("demo.clicks"))
                .satisfies(e -> assertThat(((GranaryException) e).kind()).isEqualTo(GranaryException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> datasets.describe(DatasetRef.parse("nowhere.clicks"))).hasMessage("unknown namespace nowhere");
        assertThatThrownBy(() -> datasets.head(DatasetRef.parse("demo.clicks@v9"), 1)).hasMessageContaining("no tag or branch 'v9'");
        assertThatThrownBy(() -> datasets.head(DatasetRef.parse("demo.clicks@123"), 1)).hasMessageContaining("no snapshot 123 in demo.clicks");
        assertThatThrownBy(() -> datasets.head(DatasetRef.parse("demo.clicks@ts=2000-01-01T00:00:00Z"), 1))
                .hasMessageContaining("no snapshot at or before 2000-01-01T00:00:00Z");
        assertThatThrownBy(() -> datasets.list(Optional.of("nowhere"))).hasMessage("unknown namespace nowhere");
    }

    @Test
    void illegalNamesAreRefused() {
        assertThatThrownBy(() -> DatasetName.parse("Demo.Clicks")).hasMessageContaining("illegal namespace 'Demo'");
        assertThatThrownBy(() -> DatasetName.parse("clicks")).hasMessageContaining("expected NS.NAME");
        assertThatThrownBy(() -> DatasetName.parse("a.b.c")).hasMessageContaining("expected NS.NAME");
        assertThatThrownBy(() -> DatasetName.parse("demo.2clicks")).hasMessageContaining("illegal dataset name '2clicks'");
        assertThatThrownBy(() -> DatasetRef.parse("demo.clicks@")).hasMessageContaining("missing version");
        assertThatThrownBy(() -> DatasetRef.parse("demo.clicks@ts=yesterday")).hasMessageContaining("invalid time 'yesterday'");
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        assertThatThrownBy(() -> datasets.tag(CLICKS, "123", OptionalLong.empty(), false)).hasMessageContaining("illegal tag or branch name");
    }

    @Test
    void timeTravelBySnapshotIdTagAndTimestamp() throws Exception {
        WriteResult day1 = createClicks("1,10,1,2026-11-27T10:00:00Z");
        datasets.tag(CLICKS, "v1", OptionalLong.empty(), false);
        Thread.sleep(5); // distinct commit milliseconds
        Instant between = Instant.now();
        Thread.sleep(5);
        WriteResult day2 = append(DatasetRef.latest(CLICKS), "user_id,item_id,clicked,ts", "2,20,0,2026-11-28T10:00:00Z");

        assertThat(userIds(DatasetRef.latest(CLICKS))).containsExactly(1L, 2L);
        assertThat(userIds(DatasetRef.parse("demo.clicks@" + day1.snapshotId()))).containsExactly(1L);
        assertThat(userIds(DatasetRef.parse("demo.clicks@v1"))).containsExactly(1L);
        assertThat(userIds(DatasetRef.parse("demo.clicks@ts=" + between))).containsExactly(1L);
        assertThat(userIds(DatasetRef.parse("demo.clicks@ts=" + Instant.now()))).containsExactly(1L, 2L);
        assertThat(userIds(DatasetRef.parse("demo.clicks@main"))).containsExactly(1L, 2L);
        assertThat(datasets.describe(DatasetRef.parse("demo.clicks@v1")).snapshot().orElseThrow().id()).isEqualTo(day1.snapshotId());
        assertThat(datasets.describe(DatasetRef.latest(CLICKS)).tags()).containsEntry("v1", day1.snapshotId());
        assertThat(datasets.history(CLICKS).get(1).refs()).containsExactly("tag:v1");
        assertThat(day2.snapshotId()).isNotEqualTo(day1.snapshotId());
    }

    @Test
    void tagsDoNotMoveUnlessForcedAndAreNotWritable() {
        WriteResult first = createClicks("1,10,1,2026-11-27T10:00:00Z");
        datasets.tag(CLICKS, "v1", OptionalLong.empty(), false);
        WriteResult second = append(DatasetRef.latest(CLICKS), "user_id", "2");

        assertThatThrownBy(() -> datasets.tag(CLICKS, "v1", OptionalLong.empty(), false))
                .hasMessageContaining("tag 'v1' of demo.clicks already exists (at snapshot " + first.snapshotId() + ")");
        datasets.tag(CLICKS, "v1", OptionalLong.empty(), true);
        assertThat(datasets.describe(DatasetRef.latest(CLICKS)).tags()).containsEntry("v1", second.snapshotId());
        assertThatThrownBy(() -> append(DatasetRef.parse("demo.clicks@v1"), "user_id", "3")).hasMessageContaining("cannot write to tag 'v1'");
        assertThatThrownBy(() -> datasets.tag(CLICKS, "v2", OptionalLong.of(42), false)).hasMessageContaining("no snapshot 42");
    }

    @Test
    void branchesTakeWritesWithoutChangingMain() {
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        datasets.branch(CLICKS, "experiment", OptionalLong.empty());

        WriteResult onBranch = append(DatasetRef.parse("demo.clicks@experiment"), "user_id", "7");

        assertThat(onBranch.branch()).isEqualTo("experiment");
        assertThat(userIds(DatasetRef.latest(CLICKS))).containsExactly(1L);
        assertThat(userIds(DatasetRef.parse("demo.clicks@experiment"))).containsExactly(1L, 7L);
        assertThat(datasets.describe(DatasetRef.latest(CLICKS)).branches()).containsKeys("main", "experiment");
        assertThatThrownBy(() -> append(DatasetRef.parse("demo.clicks@nobranch"), "user_id", "8")).hasMessageContaining("no branch 'nobranch'");
        assertThatThrownBy(() -> datasets.branch(CLICKS, "experiment", OptionalLong.empty())).hasMessageContaining("already exists");
    }

    @Test
    void expireNeverRemovesTaggedSnapshotsOrBranchHeads() {
        WriteResult tagged = createClicks("1,10,1,2026-11-27T10:00:00Z");
        datasets.tag(CLICKS, "release", OptionalLong.empty(), false);
        WriteResult untagged = append(DatasetRef.latest(CLICKS), "user_id", "2");
        datasets.branch(CLICKS, "old", OptionalLong.of(untagged.snapshotId()));
        WriteResult plain = append(DatasetRef.latest(CLICKS), "user_id", "3");
        WriteResult latest = append(DatasetRef.latest(CLICKS), "user_id", "4");

        ExpireResult result = datasets.expire(CLICKS, Instant.now().plusSeconds(1), 1);

        assertThat(result.expired()).extracting(SnapshotInfo::id).containsExactly(plain.snapshotId());
        assertThat(datasets.history(CLICKS)).extracting(SnapshotInfo::id)
                .containsExactlyInAnyOrder(tagged.snapshotId(), untagged.snapshotId(), latest.snapshotId());
        assertThat(userIds(DatasetRef.parse("demo.clicks@release"))).containsExactly(1L);
        assertThat(userIds(DatasetRef.latest(CLICKS))).containsExactly(1L, 2L, 3L, 4L);
        assertThat(datasets.expire(CLICKS, Instant.now().minusSeconds(3600), 1).expired()).as("nothing that old").isEmpty();
    }

    @Test
    void expireDeletesAFileOnceTheSnapshotThatRemovedItExpires() {
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        Path data = Path.of(datasets.load(CLICKS).location().replaceFirst("^file:", ""), "data");
        List<Path> first = parquetFiles(data);
        datasets.overwrite(DatasetRef.latest(CLICKS), List.of(write(dir, "second.csv", "user_id", "2")), false, WriteOptions.defaults(), test("overwrite"));
        List<Path> second = parquetFiles(data).stream().filter(p -> !first.contains(p)).toList();
        datasets.overwrite(DatasetRef.latest(CLICKS), List.of(write(dir, "third.csv", "user_id", "3")), false, WriteOptions.defaults(), test("overwrite"));

        ExpireResult result = datasets.expire(CLICKS, Instant.now().plusSeconds(1), 1);

        assertThat(result.expired()).hasSize(2);
        assertThat(first).as("removed by the second snapshot, which expired").allSatisfy(p -> assertThat(p).doesNotExist());
        assertThat(second).as("removed by the current snapshot, which is kept").allSatisfy(p -> assertThat(p).exists());
        assertThat(userIds(DatasetRef.latest(CLICKS))).containsExactly(3L);
    }

    private static List<Path> parquetFiles(Path dir) {
        try (var files = Files.walk(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void lineageFollowsCommitsFilesAndUpstreamDatasets() {
        WriteResult day1 = createClicks("1,10,1,2026-11-27T10:00:00Z");
        WriteResult day2 = append(DatasetRef.latest(CLICKS), "user_id", "2");
        Path stats = write(dir, "stats.csv", "user_id,clicks", "1,1", "2,0");
        DatasetName userStats = DatasetName.parse("demo.user_stats");
        datasets.create(userStats, List.of(stats), Optional.empty(), List.of(), WriteOptions.defaults(),
                Provenance.of("sample run", List.of("demo.clicks@" + day2.snapshotId())));

        LineageNode graph = datasets.lineage(DatasetRef.latest(userStats));

        assertThat(graph.kind()).isEqualTo(LineageNode.Kind.DATASET);
        assertThat(graph.name()).startsWith("demo.user_stats@");
        LineageNode commit = graph.upstream().get(0);
        assertThat(commit.name()).endsWith("sample run");
        assertThat(commit.upstream()).extracting(LineageNode::name)
                .containsExactly("demo.clicks@" + day2.snapshotId(), stats.toAbsolutePath().toUri().toString());
        LineageNode clicks = commit.upstream().get(0);
        assertThat(clicks.upstream()).as("both commits of clicks hold rows of that snapshot")
                .extracting(LineageNode::name)
                .containsExactly("snapshot " + day2.snapshotId() + " dataset append", "snapshot " + day1.snapshotId() + " dataset create");
        assertThat(clicks.upstream().get(1).upstream()).singleElement().satisfies(file -> assertThat(file.kind()).isEqualTo(LineageNode.Kind.FILE));

        datasets.overwrite(DatasetRef.latest(CLICKS), List.of(write(dir, "redo.csv", "user_id", "5")), false, WriteOptions.defaults(), test("dataset overwrite"));
        assertThat(datasets.lineage(DatasetRef.latest(CLICKS)).upstream()).as("an overwrite starts the history afresh").hasSize(1);
    }

    @Test
    void twoConcurrentAppendersBothLand() throws Exception {
        createClicks("0,0,0,2026-11-27T10:00:00Z");
        int perWriter = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            writers.add(pool.submit(() -> {
                // a catalog of its own, as another process would have
                try (Datasets own = Datasets.open(CatalogSettings.localHadoop(warehouse))) {
                    start.await();
                    for (int i = 0; i < perWriter; i++) {
                        Path file = write(dir, "w" + writer + "-" + i + ".csv", "user_id", String.valueOf(1000 * (writer + 1) + i));
                        own.append(DatasetRef.latest(CLICKS), List.of(file), WriteOptions.defaults(), test("append"));
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> writer : writers) {
            writer.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertThat(datasets.history(CLICKS)).hasSize(1 + 2 * perWriter);
        assertThat(userIds(DatasetRef.latest(CLICKS))).hasSize(1 + 2 * perWriter).contains(1000L, 1007L, 2000L, 2007L);
    }

    @Test
    void exportRoundTripsThroughEveryFormat() {
        Path file = write(dir, "all.jsonl",
                "{\"id\": 1, \"score\": 0.25, \"ok\": true, \"ts\": \"2026-11-28T10:00:00Z\", \"tags\": [\"a\", \"b\"], \"name\": \"x,y\"}",
                "{\"id\": 2, \"score\": null, \"ok\": false, \"ts\": \"2026-11-28T11:30:00Z\", \"tags\": [], \"name\": \"\"}");
        datasets.create(CLICKS, List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(), test("create"));
        List<Record> original = sortedById(datasets.head(DatasetRef.latest(CLICKS), 10));

        for (String extension : List.of("parquet", "csv", "jsonl")) {
            Path out = dir.resolve("export." + extension);
            long rows = Export.toFile(datasets, DatasetRef.latest(CLICKS), out);
            assertThat(rows).isEqualTo(2);
            DatasetName copy = DatasetName.parse("demo.copy_" + extension);
            datasets.create(copy, List.of(out), Optional.empty(), List.of(), WriteOptions.defaults(), test("create"));
            List<Record> again = sortedById(datasets.head(DatasetRef.latest(copy), 10));
            for (int i = 0; i < original.size(); i++) {
                for (Types.NestedField field : datasets.load(CLICKS).schema().columns()) {
                    assertThat(again.get(i).getField(field.name())).as(extension + " " + field.name())
                            .isEqualTo(original.get(i).getField(field.name()));
                }
            }
        }
        assertThatThrownBy(() -> Export.toFile(datasets, DatasetRef.latest(CLICKS), dir.resolve("x.xlsx"))).hasMessageContaining("cannot tell the export format of");
    }

    private static List<Record> sortedById(List<Record> records) {
        List<Record> sorted = new ArrayList<>(records);
        sorted.sort((a, b) -> Long.compare((Long) a.getField("id"), (Long) b.getField("id")));
        return sorted;
    }

    @Test
    void aRequiredColumnMustHaveAValue() {
        Path schema = write(dir, "schema.yaml", "columns:", "  - {name: user_id, type: long, required: true}", "  - {name: note, type: string}");
        datasets.create(CLICKS, List.of(), Optional.of(SchemaFile.parse(schema)), List.of(), WriteOptions.defaults(), test("create"));

        assertThatThrownBy(() -> append(DatasetRef.latest(CLICKS), "user_id,note", "1,a", ",b"))
                .hasMessageContaining("line 3: column 'user_id' is empty, but the dataset requires a value");
        assertThatThrownBy(() -> append(DatasetRef.latest(CLICKS), "note", "a"))
                .hasMessageContaining("has no column 'user_id', which the dataset requires");
    }

    @Test
    void createRefusesAnExistingDatasetAndNothingToCreateFrom() {
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        assertThatThrownBy(() -> createClicks("2,10,1,2026-11-27T10:00:00Z"))
                .hasMessage("dataset demo.clicks already exists")
                .satisfies(e -> assertThat(((GranaryException) e).kind()).isEqualTo(GranaryException.Kind.ALREADY_EXISTS));
        assertThatThrownBy(() -> datasets.create(DatasetName.parse("demo.x"), List.of(), Optional.empty(), List.of(), WriteOptions.defaults(), test("c")))
                .hasMessageContaining("nothing to create demo.x from");
    }

    @Test
    void listAndDropDatasets() {
        createClicks("1,10,1,2026-11-27T10:00:00Z");
        datasets.create(DatasetName.parse("other.users"), List.of(write(dir, "u.csv", "user_id", "1")), Optional.empty(), List.of(),
                WriteOptions.defaults(), test("c"));

        assertThat(datasets.list(Optional.empty())).extracting(DatasetName::toString).containsExactly("demo.clicks", "other.users");
        assertThat(datasets.list(Optional.of("demo"))).extracting(DatasetName::toString).containsExactly("demo.clicks");
        assertThat(datasets.namespaces()).containsExactly("demo", "other");

        datasets.drop(CLICKS, true);
        assertThat(datasets.exists(CLICKS)).isFalse();
    }
}
