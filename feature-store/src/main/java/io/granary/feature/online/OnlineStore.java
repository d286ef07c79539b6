package io.granary.feature.online;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the latest feature values of every entity are kept for serving. RocksDB on the serving
 * machine now; Redis (Feast's usual online store) is the planned second implementation.
 */
public interface OnlineStore extends AutoCloseable {

    /** The rows of {@code view} for these keys, in order; empty where the store has none. */
    List<Optional<OnlineRow>> read(String view, List<byte[]> keys);

    /** The rows of several views in one round trip: for each view, its keys' rows in order. */
    default Map<String, List<Optional<OnlineRow>>> read(Map<String, List<byte[]>> keysByView) {
        Map<String, List<Optional<OnlineRow>>> rows = new LinkedHashMap<>();
        keysByView.forEach((view, keys) -> rows.put(view, read(view, keys)));
        return rows;
    }

    /**
     * Stores the rows that are newer than what the store holds for their key (event time, then
     * created time), and the state record if given, atomically. Returns how many rows were newer.
     */
    int writeNewer(String view, List<byte[]> keys, List<OnlineRow> rows, Optional<StateRecord> state);

    /** A small named record kept with the data (materialization progress), written atomically with rows. */
    record StateRecord(String name, byte[] value) {}

    Optional<byte[]> state(String name);

    @Override
    void close();
}
