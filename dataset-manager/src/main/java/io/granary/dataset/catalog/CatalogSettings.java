package io.granary.dataset.catalog;

import io.granary.common.GranaryException;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;

/**
 * Where datasets live: an Iceberg catalog of a {@code type} (hadoop, jdbc or rest), its
 * {@code warehouse} location, the catalog service {@code uri} when it has one, pass-through
 * Iceberg catalog {@code properties} and Hadoop configuration for the file system.
 */
public record CatalogSettings(
        String type,
        String warehouse,
        Optional<String> uri,
        Map<String, String> properties,
        Map<String, String> hadoop) {

    public static final String NAME = "granary";
    public static final List<String> TYPES = List.of("hadoop", "jdbc", "rest");

    public CatalogSettings {
        if (!TYPES.contains(type)) {
            throw new GranaryException("unknown catalog type '" + type + "'",
                    "catalog.type is one of " + String.join(", ", TYPES)
                            + (type.equals("hive") ? " (the Hive metastore client is not bundled; use rest or jdbc)" : ""));
        }
        if (!type.equals("hadoop") && uri.isEmpty()) {
            throw new GranaryException("catalog type '" + type + "' needs catalog.uri",
                    type.equals("jdbc") ? "e.g. uri: jdbc:sqlite:/path/catalog.db or jdbc:postgresql://host/db"
                            : "e.g. uri: http://iceberg-rest:8181");
        }
        properties = Map.copyOf(properties);
        hadoop = Map.copyOf(hadoop);
    }

    /** The embedded default: a Hadoop catalog on local disk. */
    public static CatalogSettings localHadoop(Path warehouse) {
        return new CatalogSettings("hadoop", warehouse.toAbsolutePath().normalize().toString(),
                Optional.empty(), Map.of(), Map.of());
    }

    /** True when the warehouse is a path on this machine rather than s3a://, hdfs://, .... */
    public boolean localWarehouse() {
        String scheme = URI.create(warehouse.replace(" ", "%20")).getScheme();
        return scheme == null || scheme.equals("file");
    }

    /** The properties Iceberg's CatalogUtil and Spark's SparkCatalog both understand. */
    public Map<String, String> icebergProperties() {
        Map<String, String> props = new LinkedHashMap<>();
        props.put(CatalogUtil.ICEBERG_CATALOG_TYPE, type);
        props.put(CatalogProperties.WAREHOUSE_LOCATION, warehouse);
        uri.ifPresent(value -> props.put(CatalogProperties.URI, value));
        if (type.equals("hadoop") && localWarehouse()) {
            // Several granary processes may commit to one local warehouse: lock across processes.
            props.put(CatalogProperties.LOCK_IMPL, LocalFileLockManager.class.getName());
        }
        if (type.equals("jdbc")) {
            props.put("jdbc.schema-version", "V1");
        }
        props.putAll(properties);
        return props;
    }
}
