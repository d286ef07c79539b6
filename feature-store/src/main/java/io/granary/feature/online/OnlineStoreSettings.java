package io.granary.feature.online;

import java.nio.file.Path;

/**
 * Which online store to use (granary.yaml's {@code online_store}): RocksDB on the serving machine,
 * the embedded default, or Redis, standalone or Cluster, which many serving replicas share.
 */
public sealed interface OnlineStoreSettings permits OnlineStoreSettings.RocksDb, RedisSettings {

    /** Opens the store to materialize into; only one process writes a store at a time. */
    OnlineStore openWriter();

    /** Opens the store to serve from while a writer may be writing it. */
    OnlineStore openReader();

    /** Where the store is, for messages: a path, or a Redis address. */
    String describe();

    /** True when a lookup waits for a network round trip (so a server must not answer it on an event loop). */
    boolean lookupsWaitOnNetwork();

    /** The embedded store: a RocksDB directory. */
    record RocksDb(Path path) implements OnlineStoreSettings {
        @Override
        public OnlineStore openWriter() {
            return RocksDbOnlineStore.openWriter(path);
        }

        @Override
        public OnlineStore openReader() {
            return RocksDbOnlineStore.openReader(path);
        }

        @Override
        public String describe() {
            return path.toString();
        }

        @Override
        public boolean lookupsWaitOnNetwork() {
            return false;
        }
    }
}
