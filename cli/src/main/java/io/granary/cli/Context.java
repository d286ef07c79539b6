package io.granary.cli;

import io.granary.cli.config.GranaryConfig;
import io.granary.dataset.Datasets;
import io.granary.dataset.spark.SparkIngest;
import io.granary.dataset.spark.SparkQueries;
import io.granary.dataset.spark.SparkSessions;
import io.granary.feature.registry.Registry;
import java.io.IOException;
import java.io.PrintWriter;
import org.apache.spark.sql.SparkSession;

/**
 * What a command works with, wired by hand from the config: the datasets, and a Spark session
 * started only when a command needs one (it costs seconds).
 */
public final class Context implements AutoCloseable {

    private final GranaryConfig config;
    private final PrintWriter out;
    private final PrintWriter err;
    private Datasets datasets;
    private boolean sparkStarted;

    public Context(GranaryConfig config, PrintWriter out, PrintWriter err) {
        this.config = config;
        this.out = out;
        this.err = err;
    }

    public GranaryConfig config() {
        return config;
    }

    public PrintWriter out() {
        return out;
    }

    public PrintWriter err() {
        return err;
    }

    public synchronized Datasets datasets() {
        if (datasets == null) {
            datasets = Datasets.open(config.catalog());
        }
        return datasets;
    }

    public Registry registry() {
        return new Registry(config.featureStore().registry());
    }

    public synchronized SparkSession spark() {
        sparkStarted = true;
        return SparkSessions.get(config.spark(), config.catalog());
    }

    /** Sample pipelines, with the plugin directories of the config and {@code morePlugins}. */
    public io.granary.sample.SamplePipelines samplePipelines(java.util.List<java.nio.file.Path> morePlugins) {
        java.util.List<java.nio.file.Path> plugins = new java.util.ArrayList<>(config.samples().plugins());
        plugins.addAll(morePlugins);
        return new io.granary.sample.SamplePipelines(datasets(), () -> registry().load(), this::spark, config.samples().path(), plugins);
    }

    /**
     * The node's cache as a command should reach it: through the node's daemon when one runs (or
     * cache.daemon.connect names one), in this process otherwise.
     */
    public io.granary.cache.CacheAccess cacheAccess() {
        java.util.Optional<io.granary.cache.daemon.DaemonClient> daemon = io.granary.cache.daemon.DaemonClient.connect(config.cache());
        if (daemon.isPresent()) {
            return daemon.get();
        }
        return new io.granary.cache.InProcessCache(cache());
    }

    /** The node's cache, used in this process. */
    public io.granary.cache.NodeCache cache() {
        return new io.granary.cache.NodeCache(config.cache(), datasets(), io.granary.dataset.catalog.Catalogs.hadoopConfiguration(config.catalog()));
    }

    public SparkQueries queries() {
        return new SparkQueries(spark(), datasets());
    }

    public SparkIngest sparkIngest() {
        return new SparkIngest(spark(), datasets());
    }

    @Override
    public synchronized void close() {
        if (datasets != null) {
            try {
                datasets.close();
            } catch (IOException ignored) {
                // closing a catalog client; nothing left to save
            }
        }
        if (sparkStarted) {
            SparkSessions.stop();
        }
        out.flush();
        err.flush();
    }
}
