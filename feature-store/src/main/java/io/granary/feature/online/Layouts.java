package io.granary.feature.online;

import io.granary.feature.registry.FeatureView;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * Which feature each value of a stored row is. A view's features can change between
 * materializations, so each row names its layout (a checksum of the feature names in order) and
 * the store keeps each layout's names as a state record, "layout/VIEW/ID", written with the rows.
 */
public final class Layouts {

    private final OnlineStore store;
    private final Map<String, Map<Integer, Map<String, Integer>>> cache = new ConcurrentHashMap<>();

    public Layouts(OnlineStore store) {
        this.store = store;
    }

    public static int id(FeatureView view) {
        CRC32C crc = new CRC32C();
        crc.update(String.join("\n", view.featureNames()).getBytes(StandardCharsets.UTF_8));
        return (int) crc.getValue();
    }

    public static OnlineStore.StateRecord record(FeatureView view) {
        return new OnlineStore.StateRecord(key(view.name(), id(view)),
                String.join("\n", view.featureNames()).getBytes(StandardCharsets.UTF_8));
    }

    private static String key(String view, int id) {
        return "layout/" + view + "/" + Integer.toHexString(id);
    }

    /** Feature name to value position for a row of {@code view} written with layout {@code id}. */
    public Map<String, Integer> positions(String view, int id) {
        return cache.computeIfAbsent(view, v -> new ConcurrentHashMap<>()).computeIfAbsent(id, layout -> {
            Optional<byte[]> names = store.state(key(view, layout));
            Map<String, Integer> positions = new HashMap<>();
            names.ifPresent(bytes -> {
                List<String> list = Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\n", -1));
                for (int i = 0; i < list.size(); i++) {
                    positions.put(list.get(i), i);
                }
            });
            return positions;
        });
    }
}
