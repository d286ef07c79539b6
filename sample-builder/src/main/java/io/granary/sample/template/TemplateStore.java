package io.granary.sample.template;

import io.granary.common.AtomicFiles;
import io.granary.common.GranaryException;
import io.granary.sample.component.Components;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The templates a pipeline can name: those built into Granary, and a team's own in the template
 * directory (the "template market"), one file a version: {@code DIR/NAME/vN.yaml}. Adding a
 * template whose text changed stores it as the next version; pipelines pin a version
 * ({@code NAME@N}) or take the latest.
 */
public final class TemplateStore {

    /** The templates shipped inside the jar, as resources next to this class. */
    public static final List<String> BUILT_IN = List.of("standard-samples", "time-split-samples", "media-samples");

    private final Path dir;
    private final Components components;

    public TemplateStore(Path dir, Components components) {
        this.dir = dir;
        this.components = components;
    }

    /** A template's summary for `template list`. */
    public record Entry(String name, int latest, int versions, boolean builtIn, String description) {}

    /** What `template add` did. */
    public record Added(Template template, boolean changed) {}

    /** A template by "NAME" (the latest version) or "NAME@N". */
    public Template get(String reference) {
        int at = reference.indexOf('@');
        String name = at < 0 ? reference.trim() : reference.substring(0, at).trim();
        Optional<Integer> version = Optional.empty();
        if (at >= 0) {
            try {
                version = Optional.of(Integer.parseInt(reference.substring(at + 1).trim()));
            } catch (NumberFormatException e) {
                throw new GranaryException("cannot read the template version in '" + reference + "'", "write NAME or NAME@N, e.g. standard-samples@1");
            }
        }
        if (BUILT_IN.contains(name)) {
            Template template = builtIn(name);
            if (version.isPresent() && version.get() != template.version()) {
                throw GranaryException.notFound("built-in template " + name + " has no version " + version.get(),
                        "it is at version " + template.version() + "; write " + name + " or " + template.id());
            }
            return template;
        }
        List<Integer> versions = versions(name);
        if (versions.isEmpty()) {
            throw GranaryException.notFound("unknown template '" + name + "'", "templates: " + String.join(", ", names())
                    + ". Add your own with `granary sample template add FILE`.");
        }
        int chosen = version.orElse(versions.get(versions.size() - 1));
        if (!versions.contains(chosen)) {
            throw GranaryException.notFound("template " + name + " has no version " + chosen, "its versions: " + versions);
        }
        Path file = dir.resolve(name).resolve("v" + chosen + ".yaml");
        Template template = TemplateParser.parse(read(file), file.toString(), components);
        return new Template(template.name(), chosen, template.description(), template.params(), template.nodes(), template.source(), template.text());
    }

    public List<Entry> list() {
        List<Entry> entries = new ArrayList<>();
        for (String name : BUILT_IN) {
            Template template = builtIn(name);
            entries.add(new Entry(name, template.version(), 1, true, template.description()));
        }
        for (String name : stored()) {
            List<Integer> versions = versions(name);
            entries.add(new Entry(name, versions.get(versions.size() - 1), versions.size(), false, get(name).description()));
        }
        return entries;
    }

    /**
     * Validates a template file and stores it: as the next version when its text differs from the
     * latest stored one (or as the version the file names, which must then be higher), else nothing.
     */
    public Added add(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw GranaryException.notFound("file not found: " + file, "check the path");
        } catch (IOException e) {
            throw new GranaryException("cannot read " + file + ": " + e.getMessage(), "check the file's permissions", e);
        }
        Template template = TemplateParser.parse(text, file.toString(), components);
        if (BUILT_IN.contains(template.name())) {
            throw new GranaryException("template " + template.name() + " is built into Granary", "give yours another name");
        }
        boolean declaresVersion = text.lines().anyMatch(line -> line.startsWith("version:"));
        List<Integer> versions = versions(template.name());
        if (!versions.isEmpty()) {
            int latest = versions.get(versions.size() - 1);
            Template current = get(template.name() + "@" + latest);
            if (current.text().equals(text)) {
                return new Added(current, false);
            }
            if (declaresVersion && template.version() <= latest) {
                throw new GranaryException("template " + template.name() + " changed but still says version " + template.version()
                        + " (" + file + "), and version " + latest + " is stored", "raise its version: to " + (latest + 1) + ", or leave version: out");
            }
        }
        int version = declaresVersion ? template.version() : versions.isEmpty() ? 1 : versions.get(versions.size() - 1) + 1;
        Path target = dir.resolve(template.name()).resolve("v" + version + ".yaml");
        try {
            Files.createDirectories(target.getParent());
            Path temporary = AtomicFiles.temporarySibling(target);
            try {
                AtomicFiles.write(temporary, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
                Files.createLink(target, temporary); // fails if another add took this version meanwhile
            } finally {
                Files.deleteIfExists(temporary);
            }
        } catch (FileAlreadyExistsException e) {
            throw new GranaryException(GranaryException.Kind.CONFLICT, "version " + version + " of template " + template.name()
                    + " was added by someone else meanwhile", "run `granary sample template add` again", e);
        } catch (IOException e) {
            throw new GranaryException("cannot store the template in " + target.getParent() + ": " + e.getMessage(),
                    "check the template directory (samples.path in granary.yaml) is writable", e);
        }
        return new Added(new Template(template.name(), version, template.description(), template.params(), template.nodes(),
                target.toString(), text), true);
    }

    /** Every name there is, built-in first. */
    public List<String> names() {
        List<String> names = new ArrayList<>(BUILT_IN);
        names.addAll(stored());
        return names;
    }

    private List<String> stored() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(name -> TemplateParser.TEMPLATE_NAME.matcher(name).matches() && !versions(name).isEmpty()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<Integer> versions(String name) {
        Path templateDir = dir.resolve(name);
        if (!TemplateParser.TEMPLATE_NAME.matcher(name).matches() || !Files.isDirectory(templateDir)) {
            return List.of();
        }
        TreeMap<Integer, Path> versions = new TreeMap<>();
        try (Stream<Path> files = Files.list(templateDir)) {
            files.forEach(file -> {
                String fileName = file.getFileName().toString();
                if (fileName.matches("v[0-9]{1,9}\\.yaml")) {
                    versions.put(Integer.parseInt(fileName.substring(1, fileName.length() - 5)), file);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(versions.keySet());
    }

    private Template builtIn(String name) {
        try (InputStream in = TemplateStore.class.getResourceAsStream("/io/granary/sample/templates/" + name + ".yaml")) {
            if (in == null) {
                throw new IllegalStateException("built-in template " + name + " is missing from the jar");
            }
            return TemplateParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in template " + name, components);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new GranaryException("cannot read " + file + ": " + e.getMessage(), "check the template directory", e);
        }
    }
}
