package io.granary.dataset.catalog;

import io.granary.common.GranaryException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;

/** Opens the Iceberg catalog that {@link CatalogSettings} describe. */
public final class Catalogs {

    /** The Hadoop setting naming the file system of file: paths; {@link LocalFiles} unless granary.yaml names another. */
    public static final String LOCAL_FILE_SYSTEM = "fs.file.impl";

    private Catalogs() {}

    public static Configuration hadoopConfiguration(CatalogSettings settings) {
        Configuration conf = new Configuration();
        conf.set(LOCAL_FILE_SYSTEM, LocalFiles.class.getName());
        settings.hadoop().forEach(conf::set);
        return conf;
    }

    public static Catalog open(CatalogSettings settings) {
        if (settings.type().equals("hadoop") && settings.localWarehouse()) {
            try {
                Files.createDirectories(Path.of(settings.warehouse().replaceFirst("^file:", "")));
            } catch (IOException e) {
                throw new GranaryException("cannot create the warehouse directory " + settings.warehouse()
                        + ": " + e.getMessage(), "check --data-dir or catalog.warehouse, and its permissions", e);
            }
        }
        try {
            return CatalogUtil.buildIcebergCatalog(CatalogSettings.NAME, settings.icebergProperties(),
                    hadoopConfiguration(settings));
        } catch (RuntimeException e) {
            throw new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot open the " + settings.type() + " catalog at "
                    + settings.uri().orElse(settings.warehouse()) + ": " + rootMessage(e),
                    "check the catalog section of granary.yaml (type, uri, warehouse) and that the service is up", e);
        }
    }

    private static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

}
