package io.granary.feature.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granary.common.AtomicFiles;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The feature registry, as files under one directory: every version of every object is kept
 * ({@code feature_views/user_stats/v2.json}), and {@code registry.json} names the current version
 * of each, with a generation number that grows with every change. Applying writes the new
 * versions first and then replaces registry.json atomically, under a file lock, so readers (a
 * serving process polling the generation) see one generation or the next, never a mix.
 */
public final class Registry {

    static final String CURRENT = "registry.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;

    public Registry(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** The current generation, read cheaply, for pollers; 0 when nothing was ever applied. */
    public long generation() {
        try {
            return JSON.readTree(dir.resolve(CURRENT).toFile()).path("generation").asLong(0);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            return 0;
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    public RegistryState load() {
        Path current = dir.resolve(CURRENT);
        if (!Files.exists(current)) {
            return RegistryState.empty();
        }
        try {
            JsonNode root = JSON.readTree(current.toFile());
            return new RegistryState(root.path("generation").asLong(),
                    loadKind(root, Kind.ENTITY, Entity.class),
                    loadKind(root, Kind.FEATURE_VIEW, FeatureView.class),
                    loadKind(root, Kind.FEATURE_SERVICE, FeatureService.class));
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    private <T> Map<String, Versioned<T>> loadKind(JsonNode root, Kind kind, Class<T> type) throws IOException {
        Map<String, Versioned<T>> objects = new HashMap<>();
        JsonNode entries = root.path("objects").path(kind.folder);
        for (var it = entries.fields(); it.hasNext(); ) {
            var entry = it.next();
            int version = entry.getValue().path("version").asInt();
            Instant appliedAt = Instant.parse(entry.getValue().path("applied_at").asText());
            objects.put(entry.getKey(), new Versioned<>(read(kind, entry.getKey(), version, type), version, appliedAt));
        }
        return objects;
    }

    private <T> T read(Kind kind, String name, int version, Class<T> type) throws IOException {
        return JSON.readValue(objectFile(kind, name, version).toFile(), type);
    }

    private Path objectFile(Kind kind, String name, int version) {
        return dir.resolve(kind.folder).resolve(name).resolve("v" + version + ".json");
    }

    /** Every version of an object, oldest first. */
    public List<Versioned<?>> history(Kind kind, String name) {
        Path folder = dir.resolve(kind.folder).resolve(name);
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        List<Versioned<?>> versions = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(p -> p.getFileName().toString().matches("v\\d+\\.json")).toList()) {
                int version = Integer.parseInt(file.getFileName().toString().replaceAll("\\D", ""));
                versions.add(new Versioned<>(JSON.readValue(file.toFile(), kind.type), version,
                        Files.getLastModifiedTime(file).toInstant()));
            }
        } catch (IOException e) {
            throw unreadable(e);
        }
        versions.sort((a, b) -> Integer.compare(a.version(), b.version()));
        return versions;
    }

    /** What applying {@code definitions} would change, object by object. */
    public List<Change> plan(Definitions definitions) {
        return plan(definitions, load());
    }

    private static List<Change> plan(Definitions definitions, RegistryState state) {
        List<Change> changes = new ArrayList<>();
        for (Located<Entity> entity : definitions.entities()) {
            changes.add(change(Kind.ENTITY, entity.value().name(), entity.value(), state.entities().get(entity.value().name())));
        }
        for (Located<FeatureView> view : definitions.featureViews()) {
            changes.add(change(Kind.FEATURE_VIEW, view.value().name(), view.value(), state.featureViews().get(view.value().name())));
        }
        for (Located<FeatureService> service : definitions.featureServices()) {
            changes.add(change(Kind.FEATURE_SERVICE, service.value().name(), service.value(),
                    state.featureServices().get(service.value().name())));
        }
        return changes;
    }

    private static Change change(Kind kind, String name, Object proposed, Versioned<?> current) {
        if (current == null) {
            return new Change(kind, name, Change.Action.ADD, 0, 1, List.of());
        }
        if (current.value().equals(proposed)) {
            return new Change(kind, name, Change.Action.UNCHANGED, current.version(), current.version(), List.of());
        }
        return new Change(kind, name, Change.Action.CHANGE, current.version(), current.version() + 1,
                Differences.between(current.value(), proposed));
    }

    /**
     * Registers the definitions: new objects get version 1, changed ones the next version; unchanged
     * ones stay as they are, so applying the same file twice changes nothing. Objects not in the
     * file are left alone.
     */
    public RegistryState apply(Definitions definitions) {
        try {
            Files.createDirectories(dir);
            try (FileChannel channel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                RegistryState state = load();
                List<Change> changes = plan(definitions, state);
                if (changes.stream().allMatch(c -> c.action() == Change.Action.UNCHANGED)) {
                    return state;
                }
                Instant now = Instant.now();
                Map<String, Object> proposed = new HashMap<>();
                definitions.entities().forEach(e -> proposed.put(key(Kind.ENTITY, e.value().name()), e.value()));
                definitions.featureViews().forEach(v -> proposed.put(key(Kind.FEATURE_VIEW, v.value().name()), v.value()));
                definitions.featureServices().forEach(s -> proposed.put(key(Kind.FEATURE_SERVICE, s.value().name()), s.value()));
                for (Change change : changes) {
                    if (change.action() != Change.Action.UNCHANGED) {
                        Object value = proposed.get(key(change.kind(), change.name()));
                        AtomicFiles.write(objectFile(change.kind(), change.name(), change.toVersion()), out -> JSON.writeValue(out, value));
                    }
                }
                ObjectNode root = JSON.createObjectNode();
                root.put("generation", state.generation() + 1);
                root.put("updated_at", now.toString());
                ObjectNode objects = root.putObject("objects");
                writeIndex(objects.putObject(Kind.ENTITY.folder), state.entities(), changes, Kind.ENTITY, now);
                writeIndex(objects.putObject(Kind.FEATURE_VIEW.folder), state.featureViews(), changes, Kind.FEATURE_VIEW, now);
                writeIndex(objects.putObject(Kind.FEATURE_SERVICE.folder), state.featureServices(), changes, Kind.FEATURE_SERVICE, now);
                AtomicFiles.write(dir.resolve(CURRENT), out -> JSON.writeValue(out, root));
                return load();
            }
        } catch (IOException e) {
            throw new GranaryException("cannot write the feature registry in " + dir + ": " + e.getMessage(),
                    "check the directory is writable and has space", e);
        }
    }

    private static String key(Kind kind, String name) {
        return kind + "/" + name;
    }

    private static void writeIndex(ObjectNode index, Map<String, ? extends Versioned<?>> current, List<Change> changes, Kind kind, Instant now) {
        Map<String, Versioned<?>> merged = new HashMap<>(current);
        for (Change change : changes) {
            if (change.kind() == kind && change.action() != Change.Action.UNCHANGED) {
                merged.put(change.name(), new Versioned<>(null, change.toVersion(), now));
            }
        }
        merged.keySet().stream().sorted().forEach(name -> {
            Versioned<?> versioned = merged.get(name);
            ObjectNode entry = index.putObject(name);
            entry.put("version", versioned.version());
            entry.put("applied_at", Objects.requireNonNull(versioned.appliedAt()).toString());
        });
    }

    private GranaryException unreadable(IOException e) {
        return new GranaryException("cannot read the feature registry in " + dir + ": " + e.getMessage(),
                "check the registry directory (registry.path); it is written by `granary feature apply`", e);
    }
}
