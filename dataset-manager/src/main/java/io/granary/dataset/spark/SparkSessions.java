package io.granary.dataset.spark;

import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.catalog.Catalogs;
import io.granary.dataset.catalog.LocalFiles;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one SparkSession of a JVM, with the Granary catalog registered as Spark's default catalog
 * {@code granary}, so that {@code SELECT * FROM demo.clicks VERSION AS OF 42} reads our datasets.
 * Starting Spark costs seconds: callers get it lazily, and it is never touched on a serving path.
 */
public final class SparkSessions {

    private static final Logger LOG = LoggerFactory.getLogger(SparkSessions.class);
    private static SparkSession session;
    private static Map<String, String> sessionConfig;

    private SparkSessions() {}

    /** The settings the session is built with; later entries win. */
    public static Map<String, String> config(SparkSettings spark, CatalogSettings catalog) {
        Map<String, String> config = new LinkedHashMap<>();
        String prefix = "spark.sql.catalog." + CatalogSettings.NAME;
        config.put("spark.master", spark.master());
        config.put("spark.app.name", "granary");
        config.put("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions");
        config.put(prefix, "org.apache.iceberg.spark.SparkCatalog");
        catalog.icebergProperties().forEach((key, value) -> config.put(prefix + "." + key, value));
        // Other granary processes (and this one, without Spark) commit too: never read a cached, stale table.
        config.put(prefix + ".cache-enabled", "false");
        if (spark.isLocal()) {
            // in this JVM only: a cluster's executors do not have Granary's classes
            config.put("spark.hadoop." + Catalogs.LOCAL_FILE_SYSTEM, LocalFiles.class.getName());
        }
        catalog.hadoop().forEach((key, value) -> config.put("spark.hadoop." + key, value));
        config.put("spark.sql.defaultCatalog", CatalogSettings.NAME);
        config.put("spark.sql.session.timeZone", "UTC");
        config.put("spark.sql.debug.maxToStringFields", "1000");
        if (spark.isLocal()) {
            // Bind to loopback: otherwise Spark advertises this machine's external address.
            config.put("spark.driver.host", "127.0.0.1");
            config.put("spark.driver.bindAddress", "127.0.0.1");
            config.put("spark.ui.enabled", "false");
            config.put("spark.sql.shuffle.partitions", String.valueOf(Math.max(4, 2 * Runtime.getRuntime().availableProcessors())));
            config.put("spark.sql.adaptive.enabled", "true");
        }
        if (!spark.isLocal()) {
            // a cluster's executors have Spark's jars only: ship what reading and writing Iceberg takes
            String jars = String.join(",", jarsForExecutors());
            config.put("spark.jars", jars);
            // the executors must reach the driver: the address this machine reaches the master from
            String host = driverHost(spark.master());
            config.put("spark.driver.host", host);
            config.put("spark.driver.bindAddress", host.equals("127.0.0.1") ? host : "0.0.0.0");
        }
        config.putAll(spark.conf());
        if (!spark.isLocal() && spark.conf().containsKey("spark.jars")) {
            config.put("spark.jars", spark.conf().get("spark.jars") + "," + String.join(",", jarsForExecutors()));
        }
        return config;
    }

    /**
     * The jars a Spark distribution lacks that executors need for Granary's datasets: Iceberg's
     * (with its vectorized Arrow reads), Caffeine (Iceberg's caches), parquet-avro and
     * parquet-variant, found on this process's class path.
     */
    static List<String> jarsForExecutors() {
        List<String> jars = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName() == null ? "" : Path.of(entry).getFileName().toString();
            if (name.endsWith(".jar") && (name.startsWith("iceberg-") || name.startsWith("caffeine-") || name.startsWith("parquet-avro-")
                    || name.startsWith("parquet-variant-"))) {
                jars.add(Path.of(entry).toAbsolutePath().toUri().toString());
            }
        }
        return jars;
    }

    /**
     * The driver's address for a cluster's executors: loopback when the master is on loopback, else
     * the address this machine reaches the master's host from (for masters without one, YARN or
     * Kubernetes, this host's address). spark.driver.host in spark.conf overrides it.
     */
    static String driverHost(String master) {
        java.util.regex.Matcher hostPort = java.util.regex.Pattern.compile("^[a-z0-9+]+://(?:[^@/]*@)?\\[?([^\\]/:]+)\\]?:(\\d+)").matcher(master);
        try {
            if (hostPort.find()) {
                java.net.InetAddress masterHost = java.net.InetAddress.getByName(hostPort.group(1));
                if (masterHost.isLoopbackAddress()) {
                    return "127.0.0.1";
                }
                try (java.net.DatagramSocket probe = new java.net.DatagramSocket()) {
                    // a UDP "connect" sends nothing: it only picks the local address that routes there
                    probe.connect(masterHost, Integer.parseInt(hostPort.group(2)));
                    return probe.getLocalAddress().getHostAddress();
                }
            }
            return java.net.InetAddress.getLocalHost().getHostAddress();
        } catch (java.io.IOException e) {
            LOG.warn("cannot tell this machine's address for the Spark cluster's executors ({}): set spark.driver.host in spark.conf",
                    e.getMessage());
            return "127.0.0.1";
        }
    }

    /** The session of this JVM, started on first use with these settings. */
    public static synchronized SparkSession get(SparkSettings spark, CatalogSettings catalog) {
        Map<String, String> config = config(spark, catalog);
        if (session != null) {
            if (!config.equals(sessionConfig)) {
                LOG.warn("a Spark session with other settings is already running in this JVM; reusing it");
            }
            return session;
        }
        SparkSession.Builder builder = SparkSession.builder();
        config.forEach(builder::config);
        long start = System.nanoTime();
        session = builder.getOrCreate();
        sessionConfig = config;
        session.sparkContext().setLogLevel("WARN");
        LOG.info("Spark session started on {} in {} ms", spark.master(), (System.nanoTime() - start) / 1_000_000);
        return session;
    }

    /** Stops this JVM's session, if one was started. */
    public static synchronized void stop() {
        if (session != null) {
            session.stop();
            session = null;
            sessionConfig = null;
        }
    }
}
