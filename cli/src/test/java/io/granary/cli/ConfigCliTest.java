package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** granary.yaml: defaults, every error named by file:line, and a JDBC catalog by config. */
class ConfigCliTest {

    @TempDir
    Path dir;

    @Test
    void noConfigFileMeansDefaultsUnderTheDataDir() {
        GranaryCli.Run run = GranaryCli.runRaw("config", "--data-dir=" + dir.resolve("d"));
        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("built-in defaults").contains("type: hadoop")
                .contains("warehouse: " + dir.resolve("d/warehouse")).contains("master: local[*]");
    }

    @Test
    void relativePathsInAConfigFileAreRelativeToIt() {
        Path config = write(dir, "conf/granary.yaml", "data_dir: ../state", "spark:", "  master: local[2]", "  conf: {spark.sql.shuffle.partitions: 8}");
        GranaryCli.Run run = GranaryCli.runRaw("config", "--config", config.toString());
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(run.out()).contains("data_dir: " + dir.resolve("state")).contains("master: local[2]")
                .contains("spark.sql.shuffle.partitions: 8");
    }

    @Test
    void theStreamSectionIsShownWithItsDefaultsFilledIn() {
        Path config = write(dir, "granary.yaml", "stream:", "  port: 9915", "  memory: 2g", "  token: t");
        GranaryCli.Run run = GranaryCli.runRaw("config", "--config", config.toString());
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(run.out()).contains("stream:\n  host: 127.0.0.1\n  port: 9915\n  http_port: 8816\n  token: (set)\n  memory: 2.0 GiB\n  lease_timeout: 30s");
    }

    @Test
    void unknownKeysWrongTypesAndMalformedYamlNameFileAndLine() {
        Path unknown = write(dir, "unknown.yaml", "catalog:", "  type: hadoop", "  warehous: /tmp/x");
        GranaryCli.Run run = GranaryCli.runRaw("config", "--config", unknown.toString());
        assertThat(run.code()).isEqualTo(Main.USER_ERROR);
        assertThat(run.err()).contains("unknown key 'warehous' in catalog at " + unknown + ":3")
                .contains("valid keys here: hadoop, properties, type, uri, warehouse");

        Path wrongType = write(dir, "type.yaml", "spark:", "  conf: [a, b]");
        assertThat(GranaryCli.runRaw("config", "--config", wrongType.toString()).err())
                .contains("expected a mapping of keys to values for spark.conf at " + wrongType + ":2");

        Path malformed = write(dir, "malformed.yaml", "catalog:", "  type: [hadoop", "spark: {}");
        GranaryCli.Run broken = GranaryCli.runRaw("config", "--config", malformed.toString());
        assertThat(broken.code()).isEqualTo(Main.USER_ERROR);
        assertThat(broken.err()).contains("malformed YAML at " + malformed + ":");

        Path badType = write(dir, "catalog.yaml", "catalog:", "  type: hive", "  uri: thrift://x:9083");
        assertThat(GranaryCli.runRaw("config", "--config", badType.toString()).err())
                .contains("unknown catalog type 'hive'").contains(badType + ":2");

        Path sparkKey = write(dir, "spark.yaml", "spark:", "  conf: {executor.memory: 4g}");
        assertThat(GranaryCli.runRaw("config", "--config", sparkKey.toString()).err()).contains("does not start with 'spark.'");

        assertThat(GranaryCli.runRaw("config", "--config", dir.resolve("absent.yaml").toString()).err())
                .contains("config file not found");
    }

    @Test
    void aJdbcCatalogFromTheConfigHoldsDatasets() {
        Path config = write(dir, "granary.yaml", "catalog:", "  type: jdbc", "  uri: jdbc:sqlite:" + dir.resolve("catalog.db"),
                "  warehouse: " + dir.resolve("jdbc-warehouse"));
        Path data = write(dir, "d.csv", "id,name", "1,a", "2,b");

        GranaryCli.Run created = GranaryCli.runRaw("dataset", "create", "demo.t", "--from", data.toString(), "--config", config.toString());
        assertThat(created.code()).as(created.toString()).isZero();
        GranaryCli.Run show = GranaryCli.runRaw("dataset", "show", "demo.t", "--config", config.toString());
        assertThat(show.out()).contains("rows       2").contains(dir.resolve("jdbc-warehouse").toString());
        assertThat(GranaryCli.runRaw("dataset", "list", "--config", config.toString()).out()).contains("demo.t");
    }

    @Test
    void doctorChecksJavaDataDirCatalogAndRocksDb() {
        GranaryCli.Run run = GranaryCli.runRaw("doctor", "--skip-spark", "--data-dir=" + dir.resolve("d"));
        assertThat(run.code()).as(run.toString()).isZero();
        assertThat(run.out()).contains("ok   java").contains("ok   data dir").contains("ok   catalog").contains("ok   rocksdb");
    }
}
