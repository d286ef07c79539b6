package io.granary.dataset.testing;

import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.spark.SparkSessions;
import io.granary.dataset.spark.SparkSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession of a test JVM (starting Spark costs seconds), on local[2] with the Granary
 * catalog over a warehouse in a temp dir shared by the JVM's tests. Tests keep apart by using
 * namespaces of their own. Everything is deleted when the JVM exits.
 */
public final class SharedSpark {

    private static Path root;

    private SharedSpark() {}

    public static synchronized CatalogSettings catalog() {
        if (root == null) {
            try {
                root = Files.createTempDirectory("granary-spark-test");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                SparkSessions.stop();
                deleteRecursively(root);
            }));
        }
        return CatalogSettings.localHadoop(root.resolve("warehouse"));
    }

    public static SparkSession session() {
        return SparkSessions.get(new SparkSettings("local[2]", Map.of("spark.sql.shuffle.partitions", "4")), catalog());
    }

    static void deleteRecursively(Path path) {
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp dir is harmless
        }
    }
}
