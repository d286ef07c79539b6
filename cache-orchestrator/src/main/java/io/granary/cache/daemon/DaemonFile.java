package io.granary.cache.daemon;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.granary.cache.store.Owner;
import io.granary.common.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a running daemon says it listens: daemon.json under the cache root, written when it
 * starts and removed when it stops. A file left by a daemon that died is ignored (its process,
 * told apart by pid and start time, is gone).
 */
public final class DaemonFile {

    /** What the file records. */
    public record Address(String host, int port, int httpPort, long pid, long startMillis) {

        /** Where a client on this machine reaches it (a daemon bound to every address answers on loopback). */
        public String target() {
            String reachable = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
            return (reachable.contains(":") ? "[" + reachable + "]" : reachable) + ":" + port;
        }

        boolean alive() {
            return new Owner(pid, startMillis, "").alive();
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final String NAME = "daemon.json";

    private DaemonFile() {}

    static void write(Path cacheRoot, Address address) throws IOException {
        Files.createDirectories(cacheRoot);
        AtomicFiles.write(cacheRoot.resolve(NAME), out -> JSON.writeValue(out, address));
    }

    static void remove(Path cacheRoot, long pid) {
        read(cacheRoot).filter(a -> a.pid() == pid).ifPresent(a -> {
            try {
                Files.deleteIfExists(cacheRoot.resolve(NAME));
            } catch (IOException e) {
                // a stale file is ignored by readers once this process is gone
            }
        });
    }

    private static Optional<Address> read(Path cacheRoot) {
        Path file = cacheRoot.resolve(NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), Address.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The daemon serving this cache root, if one runs. */
    public static Optional<Address> running(Path cacheRoot) {
        return read(cacheRoot).filter(Address::alive);
    }
}
