package io.granary.dataset.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.CatalogProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFileLockManagerTest {

    @TempDir
    Path dir;

    private LocalFileLockManager locks(long timeoutMs) {
        LocalFileLockManager locks = new LocalFileLockManager();
        locks.initialize(Map.of(CatalogProperties.LOCK_ACQUIRE_TIMEOUT_MS, String.valueOf(timeoutMs)));
        return locks;
    }

    private String metadataFile(String version) throws Exception {
        Files.createDirectories(dir.resolve("t/metadata"));
        return "file:" + dir.resolve("t/metadata/" + version + ".metadata.json");
    }

    @Test
    void oneTableIsLockedByOneCommitterAtATime() throws Exception {
        LocalFileLockManager first = locks(200);
        LocalFileLockManager second = locks(200);
        assertThat(first.acquire(metadataFile("v2"), "a")).isTrue();
        assertThat(second.acquire(metadataFile("v3"), "b")).as("same table, other version").isFalse();

        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> locks(5_000).acquire(uncheckedMetadataFile("v3"), "c"));
        Thread.sleep(100);
        assertThat(waiting).isNotDone();
        assertThat(first.release(metadataFile("v2"), "a")).isTrue();
        assertThat(waiting.get(5, TimeUnit.SECONDS)).isTrue();
    }

    private String uncheckedMetadataFile(String version) {
        try {
            return metadataFile(version);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anotherProcessHoldingTheLockExcludesUsUntilItDies() throws Exception {
        String entity = metadataFile("v7");
        Process child = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                HoldLock.class.getName(), entity)).redirectErrorStream(true).start();
        try (BufferedReader output = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
            assertThat(output.readLine()).isEqualTo("locked");
            assertThat(locks(300).acquire(entity, "parent")).as("held by the child process").isFalse();

            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

            LocalFileLockManager after = locks(5_000);
            assertThat(after.acquire(entity, "parent")).as("a dead process leaves no stale lock").isTrue();
            assertThat(after.release(entity, "parent")).isTrue();
        } finally {
            child.destroyForcibly();
        }
    }
}
