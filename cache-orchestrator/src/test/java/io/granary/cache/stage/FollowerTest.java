package io.granary.cache.stage;

import static org.assertj.core.api.Assertions.assertThat;

import io.granary.cache.CacheFixture;
import io.granary.cache.CacheStatus;
import io.granary.cache.NodeCache;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FollowerTest {

    @TempDir
    Path temp;

    @Test
    void aNewSnapshotOnTheFollowedBranchIsStagedAndTheOneItReplacedUnpinned() throws Exception {
        try (CacheFixture fixture = new CacheFixture(temp); NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30))) {
            DatasetRef first = fixture.table("demo.events", 2, 50, 1);
            DatasetRef followed = DatasetRef.latest(DatasetName.parse("demo.events"));
            List<StageResult> staged = new CopyOnWriteArrayList<>();
            Follower follower = new Follower(cache, followed, Duration.ofMillis(100), 2, staged::add);
            Thread thread = new Thread(() -> {
                try {
                    follower.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            thread.start();
            try {
                String firstKey = cache.resolve(first).key();
                awaitTrue(() -> follower.current().filter(firstKey::equals).isPresent());
                DatasetRef second = fixture.table("demo.events", 1, 50, 2);
                String secondKey = cache.resolve(second).key();
                long committed = System.nanoTime();
                awaitTrue(() -> follower.current().filter(secondKey::equals).isPresent());
                assertThat(Duration.ofNanos(System.nanoTime() - committed)).as("staged within seconds").isLessThan(Duration.ofSeconds(10));
                assertThat(staged).hasSize(2);
                assertThat(staged.get(1).filesCopied()).as("only the appended file and the new view manifest").isEqualTo(2);
                CacheStatus status = cache.status();
                assertThat(pins(status, secondKey)).singleElement().asString().startsWith("follow demo.events");
                assertThat(pins(status, firstKey)).isEmpty();
            } finally {
                follower.close();
                thread.join(TimeUnit.SECONDS.toMillis(10));
            }
            assertThat(cache.status().snapshots()).allSatisfy(s -> assertThat(s.pinnedBy()).isEmpty());
        }
    }

    private static List<String> pins(CacheStatus status, String key) {
        return status.snapshots().stream().filter(s -> s.key().equals(key)).findFirst().orElseThrow().pinnedBy();
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition met before the deadline").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }
}
