package io.granary.cache.stage;

import io.granary.cache.NodeCache;
import io.granary.cache.store.Owner;
import io.granary.cache.store.Pin;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a ref (a dataset's current snapshot, a branch or a tag) staged as new snapshots land:
 * it polls the catalog, stages each newly committed snapshot, pins it, and unpins the one it
 * replaced (Fluid's scheduled DataLoad, driven by the catalog instead of a clock). The pins die
 * with this process.
 */
public final class Follower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Follower.class);

    private final NodeCache cache;
    private final DatasetRef ref;
    private final Duration interval;
    private final int parallel;
    private final Consumer<StageResult> onStaged;
    private final Owner owner = Owner.thisProcess();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile String current;
    private volatile String currentPin;

    public Follower(NodeCache cache, DatasetRef ref, Duration interval, int parallel, Consumer<StageResult> onStaged) {
        this.cache = cache;
        this.ref = ref;
        this.interval = interval;
        this.parallel = parallel;
        this.onStaged = onStaged;
    }

    /** Stages the ref's snapshot now (failing loudly if it cannot), then follows it until {@link #close}. */
    public void run() throws InterruptedException {
        poll(true);
        while (!stopped.await(interval.toMillis(), TimeUnit.MILLISECONDS)) {
            poll(false);
        }
    }

    /** The snapshot staged and pinned now, e.g. demo.speech@123. */
    public Optional<String> current() {
        return Optional.ofNullable(current);
    }

    private void poll(boolean first) {
        try {
            SnapshotFiles snapshot = cache.resolve(ref);
            if (snapshot.key().equals(current)) {
                return;
            }
            String pinId = "follow-" + owner.token() + "-" + snapshot.snapshotId();
            Pin pin = new Pin(pinId, snapshot.key(), "follow", "follow " + ref + " by pid " + owner.pid(), owner, System.currentTimeMillis());
            StageResult result = cache.stage(snapshot, parallel, first, Optional.of(pin));
            String replaced = currentPin;
            if (replaced != null) {
                cache.store().transact(txn -> {
                    txn.deletePin(replaced);
                    return null;
                });
            }
            current = snapshot.key();
            currentPin = pinId;
            onStaged.accept(result);
        } catch (GranaryException e) {
            if (first) {
                throw e;
            }
            LOG.warn("following {}: {} ({}); trying again in {} s", ref, e.getMessage(), e.hint(), interval.toSeconds());
        }
    }

    /** Stops following and unpins the snapshot it kept. */
    @Override
    public void close() {
        stopped.countDown();
        String pin = currentPin;
        if (pin != null) {
            cache.store().transact(txn -> {
                txn.deletePin(pin);
                return null;
            });
        }
    }
}
