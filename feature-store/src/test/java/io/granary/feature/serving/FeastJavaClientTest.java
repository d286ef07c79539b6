package io.granary.feature.serving;

import static io.granary.feature.testing.FeatureStoreFixture.DEFINITIONS;
import static org.assertj.core.api.Assertions.assertThat;

import io.granary.feature.materialize.Materializer;
import io.granary.feature.online.RocksDbOnlineStore;
import io.granary.feature.testing.FeatureStoreFixture;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feast's own Java serving client (dev.feast:feast-serving-client 0.38.0, with its gRPC 1.30 and
 * protobuf 3.16), unchanged, in a JVM of its own, against a Granary feature server.
 */
class FeastJavaClientTest {

    @TempDir
    Path dir;

    @Test
    void feastsJavaClientReadsFeaturesFromGranary() throws Exception {
        Path jars = Path.of("target", "feast-java-client");
        String classpath;
        try (Stream<Path> files = Files.list(jars)) {
            classpath = files.map(Path::toString).sorted().collect(Collectors.joining(File.pathSeparator));
        }
        Path source = dir.resolve("StockFeastClient.java");
        try (var in = FeastJavaClientTest.class.getResourceAsStream("/feast-client/StockFeastClient.java")) {
            Files.copy(in, source);
        }
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertThat(compiler.run(null, null, null, "-cp", classpath, "-d", dir.toString(), source.toString())).isZero();

        try (FeatureStoreFixture fixture = new FeatureStoreFixture(dir.resolve("store"))) {
            Instant recent = Instant.now().minusSeconds(600);
            fixture.userStats("1," + recent + "," + recent + ",7,1.5", "2," + recent + "," + recent + ",3,");
            fixture.itemStats("{\"item_id\": \"a\", \"event_ts\": \"2026-01-01T00:00:00Z\", \"ctr\": 0.1, \"tags\": []}");
            fixture.apply(DEFINITIONS);
            try (RocksDbOnlineStore writer = RocksDbOnlineStore.openWriter(fixture.onlinePath)) {
                new Materializer(fixture.datasets, fixture.registry.load(), writer).materialize(List.of(), Instant.EPOCH, Instant.now());
            }
            ServerSettings settings = new ServerSettings("127.0.0.1", 0, 0, Optional.empty(), Duration.ofMillis(50), Duration.ofSeconds(1));
            try (FeatureServer server = new FeatureServer(fixture.registry, fixture.onlinePath, settings, "granary-under-test")) {
                Process client = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp", dir + File.pathSeparator + classpath, "StockFeastClient", String.valueOf(server.grpcPort()))
                        .redirectErrorStream(true).start();
                String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(client.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(client.exitValue()).as(output).isZero();

                assertThat(output).contains("VERSION granary-under-test")
                        .contains("ROW user_id=1 clicks=7 PRESENT dwell=1.5 PRESENT")
                        .contains("ROW user_id=2 clicks=3 PRESENT dwell=null NULL_VALUE")
                        .contains("ROW user_id=3 clicks=null NOT_FOUND dwell=null NOT_FOUND")
                        .contains("UNKNOWN NOT_FOUND unknown feature 'user_stats:nope'");
            }
        }
    }
}
