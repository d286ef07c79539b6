package io.granary.cli;

import io.granary.cli.config.GranaryConfig;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Print the effective configuration: the config file used (if any) with every default filled in.")
public final class ConfigCommand extends Subcommand {

    @Override
    protected void run() {
        GranaryConfig config = context().config();
        PrintWriter out = out();
        out.println("# " + config.source().map(p -> "from " + p).orElse("built-in defaults (no granary.yaml found)"));
        out.println("data_dir: " + config.dataDir());
        out.println("catalog:");
        out.println("  type: " + config.catalog().type());
        out.println("  warehouse: " + config.catalog().warehouse());
        config.catalog().uri().ifPresent(uri -> out.println("  uri: " + uri));
        printMap(out, "properties", config.catalog().properties());
        printMap(out, "hadoop", config.catalog().hadoop());
        out.println("spark:");
        out.println("  master: " + config.spark().master());
        out.println("  conf: " + (config.spark().conf().isEmpty() ? "{}" : ""));
        config.spark().conf().forEach((k, v) -> out.println("    " + k + ": " + v));
        out.println("registry:");
        out.println("  path: " + config.featureStore().registry());
        out.println("online_store:");
        if (config.featureStore().onlineStore() instanceof io.granary.feature.online.OnlineStoreSettings.RocksDb rocksDb) {
            out.println("  type: rocksdb");
            out.println("  path: " + rocksDb.path());
        } else if (config.featureStore().onlineStore() instanceof io.granary.feature.online.RedisSettings redis) {
            out.println("  type: redis");
            out.println("  " + (redis.cluster() ? "cluster: " + redis.nodes() : "url: " + redis.describe()));
            redis.user().ifPresent(user -> out.println("  user: " + user));
            out.println("  password: " + (redis.password().isPresent() ? "(set)" : "(none)"));
            out.println("  tls: " + redis.tls());
            redis.tlsCa().ifPresent(ca -> out.println("  tls_ca: " + ca));
            out.println("  key_prefix: " + redis.keyPrefix());
            out.println("  expire_after_ttl: " + redis.expireAfterTtl());
            out.println("  timeout: " + redis.timeout().toMillis() + "ms");
        }
        var server = config.featureStore().server();
        out.println("feature_server:");
        out.println("  host: " + server.host());
        out.println("  port: " + server.grpcPort());
        out.println("  http_port: " + server.httpPort());
        out.println("  token: " + (server.token().isPresent() ? "(set)" : "(none)"));
        out.println("samples:");
        out.println("  path: " + config.samples().path());
        out.println("  plugins: " + (config.samples().plugins().isEmpty() ? "[]" : config.samples().plugins()));
        var cache = config.cache();
        out.println("cache:");
        out.println("  root: " + cache.root());
        out.println("  quota: " + (cache.quota().isPresent() ? io.granary.common.Sizes.format(cache.quota().getAsLong()) : "(80% of what its disk can hold)"));
        out.println("  high_watermark: " + cache.highWatermark());
        out.println("  low_watermark: " + cache.lowWatermark());
        out.println("  policy: " + cache.policy().name().toLowerCase(java.util.Locale.ROOT));
        out.println("  parallel: " + cache.parallel());
        out.println("  mirrors: " + (cache.mirrors().isEmpty() ? "{}" : ""));
        cache.mirrors().forEach((k, v) -> out.println("    " + k + ": " + v));
        var daemon = cache.daemon();
        out.println("  daemon:");
        out.println("    host: " + daemon.host());
        out.println("    port: " + daemon.port());
        out.println("    http_port: " + daemon.httpPort());
        out.println("    token: " + (daemon.token().isPresent() ? "(set)" : "(none)"));
        out.println("    connect: " + daemon.connect());
        var stream = config.stream();
        out.println("stream:");
        out.println("  host: " + stream.host());
        out.println("  port: " + stream.port());
        out.println("  http_port: " + stream.httpPort());
        out.println("  token: " + (stream.token().isPresent() ? "(set)" : "(none)"));
        out.println("  memory: " + io.granary.common.Sizes.format(stream.memory()));
        out.println("  lease_timeout: " + io.granary.common.Durations.format(stream.leaseTimeout()));
    }

    private static void printMap(PrintWriter out, String name, java.util.Map<String, String> values) {
        out.println("  " + name + ": " + (values.isEmpty() ? "{}" : ""));
        values.forEach((k, v) -> out.println("    " + k + ": " + v));
    }
}
