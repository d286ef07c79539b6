package io.granary.dataset.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.dataset.spark.SparkSessions;
import io.granary.dataset.spark.SparkSettings;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFilesTest {

    @TempDir
    Path dir;

    @Test
    void localWarehousesUseItUnlessGranaryYamlNamesAnother() throws Exception {
        Configuration conf = Catalogs.hadoopConfiguration(CatalogSettings.localHadoop(dir));
        assertThat(FileSystem.newInstance(dir.toUri(), conf)).isInstanceOf(LocalFiles.class);

        CatalogSettings named = new CatalogSettings("hadoop", dir.toString(), Optional.empty(), Map.of(),
                Map.of(Catalogs.LOCAL_FILE_SYSTEM, org.apache.hadoop.fs.LocalFileSystem.class.getName()));
        assertThat(FileSystem.newInstance(dir.toUri(), Catalogs.hadoopConfiguration(named)))
                .isNotInstanceOf(LocalFiles.class);
    }

    @Test
    void sparkInThisJvmUsesItAClustersExecutorsKeepHadoopsOwn() {
        CatalogSettings catalog = CatalogSettings.localHadoop(dir);
        assertThat(SparkSessions.config(SparkSettings.local(), catalog))
                .containsEntry("spark.hadoop." + Catalogs.LOCAL_FILE_SYSTEM, LocalFiles.class.getName());
        assertThat(SparkSessions.config(new SparkSettings("yarn", Map.of()), catalog))
                .doesNotContainKey("spark.hadoop." + Catalogs.LOCAL_FILE_SYSTEM);
    }

    @Test
    void filesGetTheirPermissionsAndContentsAsFromHadoopsOwn() throws Exception {
        FileSystem fs = FileSystem.newInstance(dir.toUri(), Catalogs.hadoopConfiguration(CatalogSettings.localHadoop(dir)));
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(dir.resolve("a/b/data.txt").toUri());
        try (OutputStream out = fs.create(file, new FsPermission("640"), false, 4096, (short) 1, 1 << 20, null)) {
            out.write("rows".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(Files.readString(dir.resolve("a/b/data.txt"))).isEqualTo("rows");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a/b/data.txt")))).isEqualTo("rw-r-----");
        assertThat(Files.exists(dir.resolve("a/b/.data.txt.crc"))).isTrue();

        fs.setPermission(file, new FsPermission("755"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a/b/data.txt")))).isEqualTo("rwxr-xr-x");
    }
}
