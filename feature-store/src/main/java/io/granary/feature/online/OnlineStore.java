package io.granary.feature.online;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the latest feature values of every entity are kept for serving: RocksDB on the serving
 * machine ({@link RocksDbOnlineStore}), or Redis shared by serving replicas ({@link RedisOnlineStore}).
 */
public interface OnlineStore extends AutoCloseable {

    /**
     * The rows of several views in one round trip, as stored: for each view, its keys' rows in
     * order, empty where the store has none.
     */
    Map<String, List<Optional<EncodedRow>>> read(Map<String, List<byte[]>> keysByView);

    /** The rows of {@code view} for these keys, decoded, in order; empty where the store has none. */
    default List<Optional<OnlineRow>> read(String view, List<byte[]> keys) {
        return read(Map.of(view, keys)).get(view).stream().map(row -> row.map(EncodedRow::decode)).toList();
    }

    /**
     * Calls {@code action} with every key the store holds a row of {@code view} for, in no
     * particular order (a full scan: for checks, never on the serving path).
     */
    void forEachKey(String view, java.util.function.Consumer<byte[]> action);

    /**
     * Stores the rows that are newer than what the store holds for their key (event time, then
     * created time, then write order: see {@link OnlineRow#isNewerThan}), and the state record if
     * given, atomically. Returns how many rows were newer.
     */
    int writeNewer(String view, List<byte[]> keys, List<OnlineRow> rows, Optional<StateRecord> state);

    /**
     * Tells the store that a materialization run is done writing {@code view} after sending it
     * {@code rows} rows, so it can make them quick to open and read (a no-op where nothing is to do).
     */
    default void finishWrites(String view, long rows) {}

    /**
     * Tells the store how long {@code view}'s rows stay useful (its ttl), for a store that may drop
     * them after that (a no-op by default: serving answers old rows as OUTSIDE_MAX_AGE).
     */
    default void expireAfter(String view, java.time.Duration ttl) {}

    /**
     * For a reader: takes in what writers wrote since and checks the store can be read; a failure
     * says why it cannot. Called by servers every {@code storeCatchUp}.
     */
    default void catchUp() {}

    /** A small named record kept with the data (materialization progress), written atomically with rows. */
    record StateRecord(String name, byte[] value) {}

    Optional<byte[]> state(String name);

    @Override
    void close();
}
