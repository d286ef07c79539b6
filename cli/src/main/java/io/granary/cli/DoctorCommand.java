package io.granary.cli;

import io.granary.cli.config.GranaryConfig;
import io.granary.common.GranaryException;
import io.granary.common.Sizes;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.rocksdb.RocksDB;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Check this machine can run Granary: Java, the data dir, the catalog, RocksDB's native library, Spark.")
public final class DoctorCommand extends Subcommand {

    @Option(names = "--skip-spark", description = "Do not start Spark (the slowest check).")
    boolean skipSpark;

    private record Check(String name, boolean ok, String detail) {}

    @Override
    protected void run() {
        GranaryConfig config = context().config();
        List<Check> checks = new ArrayList<>();
        checks.add(check("java", () -> {
            int feature = Runtime.version().feature();
            String detail = System.getProperty("java.version") + " at " + System.getProperty("java.home");
            if (feature < 17) {
                throw new IllegalStateException(detail + ": Granary needs Java 17");
            }
            return feature == 17 ? detail : detail + " (tested on 17; Java 25 breaks Hadoop and Arrow Flight)";
        }));
        checks.add(check("data dir", () -> {
            Path dir = config.dataDir();
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".doctor", ".tmp");
            Files.delete(probe);
            return dir + " is writable, " + Sizes.format(Files.getFileStore(dir).getUsableSpace()) + " free";
        }));
        checks.add(check("catalog", () -> {
            int datasets = context().datasets().list(java.util.Optional.empty()).size();
            return config.catalog().type() + " catalog at " + config.catalog().uri().orElse(config.catalog().warehouse())
                    + ", " + datasets + " dataset" + (datasets == 1 ? "" : "s");
        }));
        checks.add(check("rocksdb", () -> {
            RocksDB.loadLibrary();
            return "native library loaded (RocksDB " + RocksDB.rocksdbVersion() + ")";
        }));
        if (config.featureStore().onlineStore() instanceof io.granary.feature.online.RedisSettings redis) {
            checks.add(check("redis", () -> {
                try (var store = redis.openReader()) {
                    long start = System.nanoTime();
                    store.catchUp();
                    return "the online store " + redis.describe() + " answers (" + (System.nanoTime() - start) / 1000 + " us)";
                }
            }));
        }
        if (!skipSpark) {
            checks.add(check("spark", () -> {
                long start = System.nanoTime();
                long count = context().spark().range(1000).count();
                if (count != 1000) {
                    throw new IllegalStateException("counted " + count + " of 1000 rows");
                }
                return config.spark().master() + " started and ran a job in " + (System.nanoTime() - start) / 1_000_000 + " ms";
            }));
        }
        PrintWriter out = out();
        boolean allOk = true;
        for (Check check : checks) {
            out.printf("%-4s %-9s %s%n", check.ok() ? "ok" : "FAIL", check.name(), check.detail());
            allOk &= check.ok();
        }
        out.flush();
        if (!allOk) {
            throw new GranaryException("some checks failed", "see the FAIL lines above");
        }
    }

    private static Check check(String name, Callable<String> probe) {
        try {
            return new Check(name, true, probe.call());
        } catch (Exception | LinkageError e) {
            String message = e instanceof GranaryException g ? g.getMessage() + (g.hint().isEmpty() ? "" : " (" + g.hint() + ")")
                    : e.getClass().getSimpleName() + ": " + e.getMessage();
            return new Check(name, false, message);
        }
    }
}
