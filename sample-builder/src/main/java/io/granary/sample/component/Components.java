package io.granary.sample.component;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The components templates can name: the built-in ones and those in plugin jars, all found with
 * {@link ServiceLoader}. Two components of one name are refused, naming where each came from.
 */
public final class Components {

    private final Map<String, Component> byName;

    private Components(Map<String, Component> byName) {
        this.byName = byName;
    }

    /** The built-in components and those of every jar in {@code pluginDirs}. */
    public static Components load(List<Path> pluginDirs) {
        List<URL> jars = new ArrayList<>();
        for (Path dir : pluginDirs) {
            if (!Files.isDirectory(dir)) {
                throw GranaryException.notFound("plugin directory not found: " + dir, "give a directory of component jars (--plugins DIR)");
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path jar : files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                    jars.add(jar.toUri().toURL());
                }
            } catch (MalformedURLException e) {
                throw new IllegalStateException(e);
            } catch (IOException e) {
                throw new GranaryException("cannot list " + dir + ": " + e.getMessage(), "check the directory's permissions", e);
            }
        }
        ClassLoader loader = jars.isEmpty() ? Components.class.getClassLoader()
                : new URLClassLoader(jars.toArray(URL[]::new), Components.class.getClassLoader());
        Map<String, Component> byName = new TreeMap<>();
        try {
            for (Component component : ServiceLoader.load(Component.class, loader)) {
                Component earlier = byName.put(component.name(), component);
                if (earlier != null) {
                    throw new GranaryException("two components are named '" + component.name() + "': " + origin(earlier) + " and "
                            + origin(component), "remove one of the jars, or rename the component in it");
                }
            }
        } catch (ServiceConfigurationError e) {
            throw new GranaryException("cannot load a component: " + e.getMessage(),
                    "check the plugin jar's META-INF/services/io.granary.sample.component.Component and that its classes are in the jar", e);
        }
        return new Components(byName);
    }

    /** The built-in components only. */
    public static Components builtIn() {
        return load(List.of());
    }

    private static String origin(Component component) {
        var source = component.getClass().getProtectionDomain().getCodeSource();
        return component.getClass().getName() + (source == null ? "" : " in " + source.getLocation());
    }

    public Optional<Component> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Collection<Component> all() {
        return byName.values();
    }

    public List<String> names() {
        return List.copyOf(byName.keySet());
    }
}
