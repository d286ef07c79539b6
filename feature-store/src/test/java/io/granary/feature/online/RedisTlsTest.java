package io.granary.feature.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Redis store over TLS: a redis-server with a certificate of a CA made for the test (openssl). */
class RedisTlsTest {

    @TempDir
    Path dir;

    private void openssl(String... args) throws Exception {
        Process process = new ProcessBuilder(List.of(args)).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0).as(String.join(" ", args)).isTrue();
    }

    @Test
    void readsAndWritesOverTlsTrustingTheGivenCaAndNamesAFailedHandshake() throws Exception {
        LocalRedis.install();
        openssl("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=granary-test-ca");
        openssl("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
        Files.writeString(dir.resolve("san.cnf"), "subjectAltName=IP:127.0.0.1\n");
        openssl("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
                "-days", "2", "-extfile", "san.cnf");
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Process redis = new ProcessBuilder("redis-server", "--port", "0", "--tls-port", String.valueOf(port), "--bind", "127.0.0.1",
                "--tls-cert-file", "server.crt", "--tls-key-file", "server.key", "--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no",
                "--save", "", "--appendonly", "no", "--dir", dir.toString()).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        try {
            RedisSettings settings = RedisSettings.fromUrl("rediss://127.0.0.1:" + port).withTlsCa(Optional.of(dir.resolve("ca.crt")));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            try (OnlineStore reader = settings.openReader()) {
                while (true) {
                    try {
                        reader.catchUp();
                        break;
                    } catch (GranaryException notYet) {
                        assertThat(System.nanoTime()).as("redis-server over TLS did not start: " + notYet.getMessage()).isLessThan(deadline);
                        Thread.sleep(20);
                    }
                }
            }
            byte[] key = EntityKeys.encode(List.of(1L));
            try (OnlineStore writer = settings.openWriter()) {
                writer.writeNewer("v", List.of(key), List.of(new OnlineRow(1, 5, 5, List.of(Value.newBuilder().setInt64Val(42).build()))),
                        Optional.empty());
            }
            try (OnlineStore reader = settings.openReader()) {
                assertThat(reader.read("v", List.of(key)).get(0).orElseThrow().values().get(0).getInt64Val()).isEqualTo(42);
            }

            RedisSettings jvmTrustStore = RedisSettings.fromUrl("rediss://127.0.0.1:" + port).withOptions(true, "granary", false, Duration.ofSeconds(2));
            assertThatThrownBy(jvmTrustStore::openWriter).isInstanceOf(GranaryException.class)
                    .hasMessageContaining("the TLS handshake failed").hasMessageContaining("rediss://127.0.0.1:" + port)
                    .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("online_store.tls_ca"));
            Files.writeString(dir.resolve("empty.pem"), "");
            assertThatThrownBy(() -> RedisSettings.fromUrl("rediss://127.0.0.1:" + port).withTlsCa(Optional.of(dir.resolve("empty.pem"))).openReader())
                    .isInstanceOf(GranaryException.class).hasMessageContaining("holds no certificate");
        } finally {
            redis.destroy();
            redis.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
