package io.granary.cli.config;

import io.granary.common.GranaryException;
import io.granary.common.yaml.YamlNode;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.spark.SparkSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything granary.yaml can set, with its defaults. Every key is optional, so no file is
 * needed to start; unknown keys and wrong types are errors naming file:line and the valid keys.
 *
 * <pre>
 * data_dir: ./granary-data            # where embedded state lives
 * catalog:
 *   type: hadoop                      # hadoop | jdbc | rest
 *   warehouse: ./granary-data/warehouse
 *   uri: jdbc:sqlite:/srv/catalog.db  # jdbc and rest catalogs
 *   properties: {}                    # passed to the Iceberg catalog
 *   hadoop: {}                        # Hadoop configuration (fs.s3a.*, ...)
 * spark:
 *   master: local[*]                  # or yarn, k8s://..., spark://...
 *   conf: {}                          # any spark.* setting
 * </pre>
 */
public record GranaryConfig(Path dataDir, CatalogSettings catalog, SparkSettings spark, Optional<Path> source) {

    public static final String FILE_NAME = "granary.yaml";
    private static final List<String> TOP_KEYS = List.of("data_dir", "catalog", "spark");
    private static final List<String> CATALOG_KEYS = List.of("type", "warehouse", "uri", "properties", "hadoop");
    private static final List<String> SPARK_KEYS = List.of("master", "conf");

    /** The defaults: everything under {@code dataDir}. */
    public static GranaryConfig defaults(Path dataDir) {
        Path absolute = dataDir.toAbsolutePath().normalize();
        return new GranaryConfig(absolute, CatalogSettings.localHadoop(absolute.resolve("warehouse")),
                SparkSettings.local(), Optional.empty());
    }

    /**
     * Loads the config: {@code explicit} if given (it must exist), else granary.yaml in the working
     * directory if there is one, else the defaults. {@code dataDirOverride} (--data-dir) wins over
     * the file's data_dir.
     */
    public static GranaryConfig load(Optional<Path> explicit, Optional<Path> dataDirOverride, Path workingDir) {
        Optional<Path> file = explicit;
        if (explicit.isPresent() && !Files.isRegularFile(explicit.get())) {
            throw GranaryException.notFound("config file not found: " + explicit.get(),
                    "check the path given to --config, or leave it out to use the defaults");
        }
        if (file.isEmpty() && Files.isRegularFile(workingDir.resolve(FILE_NAME))) {
            file = Optional.of(workingDir.resolve(FILE_NAME));
        }
        if (file.isEmpty()) {
            return defaults(dataDirOverride.orElse(workingDir.resolve("granary-data")));
        }
        return parse(file.get(), dataDirOverride);
    }

    static GranaryConfig parse(Path file, Optional<Path> dataDirOverride) {
        YamlNode root = YamlNode.parse(file);
        Path base = file.toAbsolutePath().getParent();
        Map<String, YamlNode> top = root.asMapWithKeys(TOP_KEYS);

        Path dataDir = dataDirOverride.map(p -> p.toAbsolutePath().normalize())
                .orElseGet(() -> YamlNode.optional(top, "data_dir").map(n -> resolve(base, n.asString()))
                        .orElse(base.resolve("granary-data").normalize()));

        CatalogSettings catalog = CatalogSettings.localHadoop(dataDir.resolve("warehouse"));
        Optional<YamlNode> catalogNode = YamlNode.optional(top, "catalog");
        if (catalogNode.isPresent()) {
            Map<String, YamlNode> entries = catalogNode.get().asMapWithKeys(CATALOG_KEYS);
            String type = YamlNode.optional(entries, "type").map(YamlNode::asString).orElse("hadoop");
            String warehouse = YamlNode.optional(entries, "warehouse").map(YamlNode::asString)
                    .map(w -> w.contains("://") ? w : resolve(base, w).toString())
                    .orElse(dataDir.resolve("warehouse").toString());
            try {
                catalog = new CatalogSettings(type, warehouse,
                        YamlNode.optional(entries, "uri").map(YamlNode::asString),
                        YamlNode.optional(entries, "properties").map(YamlNode::asStringMap).orElse(Map.of()),
                        YamlNode.optional(entries, "hadoop").map(YamlNode::asStringMap).orElse(Map.of()));
            } catch (GranaryException e) {
                throw catalogNode.get().error(e.getMessage(), e.hint());
            }
        }

        SparkSettings spark = SparkSettings.local();
        Optional<YamlNode> sparkNode = YamlNode.optional(top, "spark");
        if (sparkNode.isPresent()) {
            Map<String, YamlNode> entries = sparkNode.get().asMapWithKeys(SPARK_KEYS);
            Map<String, String> conf = YamlNode.optional(entries, "conf").map(YamlNode::asStringMap).orElse(Map.of());
            for (String key : conf.keySet()) {
                if (!key.startsWith("spark.")) {
                    throw entries.get("conf").error("spark.conf key '" + key + "' does not start with 'spark.'",
                            "write the full Spark setting name, e.g. spark.executor.memory");
                }
            }
            spark = new SparkSettings(YamlNode.optional(entries, "master").map(YamlNode::asString).orElse("local[*]"), conf);
        }
        return new GranaryConfig(dataDir, catalog, spark, Optional.of(file.toAbsolutePath()));
    }

    private static Path resolve(Path base, String path) {
        Path given = Path.of(path.startsWith("~/") ? System.getProperty("user.home") + path.substring(1) : path);
        return base.resolve(given).normalize();
    }
}
