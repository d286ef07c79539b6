package io.granary.packer;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Walks a source tree in a fixed order (per directory: its files sorted by name, then its
 * subdirectories sorted by name) and yields its samples one at a time, so memory holds one
 * directory listing per level, whatever the number of files. The same tree always gives the same
 * sequence, which is what lets a rerun resume.
 */
final class SourceWalker implements Iterator<SourceSample> {

    /** How the walk treats what is not a plain readable file. */
    record Rules(boolean followSymlinks, boolean skipUnreadable, Optional<Path> exclude) {}

    private final Path root;
    private final Rules rules;
    private final Consumer<String> skipped;
    private final Deque<Path> directories = new ArrayDeque<>();
    private final Deque<SourceSample> ready = new ArrayDeque<>();
    private final Set<Object> visitedDirectories = new HashSet<>();
    private int hiddenFiles;

    /** {@code skipped} hears about each file or directory left out under --skip-unreadable. */
    SourceWalker(Path root, Rules rules, Consumer<String> skipped) {
        this.root = root.toAbsolutePath().normalize();
        this.rules = rules;
        this.skipped = skipped;
        if (!Files.isDirectory(this.root)) {
            throw GranaryException.notFound("source " + root + " is not a directory", "give the folder that holds the files to pack");
        }
        directories.push(this.root);
    }

    /** Files and directories whose name starts with '.' (.DS_Store, .git), left out of the walk so far. */
    int hiddenFiles() {
        return hiddenFiles;
    }

    @Override
    public boolean hasNext() {
        while (ready.isEmpty() && !directories.isEmpty()) {
            visit(directories.pop());
        }
        return !ready.isEmpty();
    }

    @Override
    public SourceSample next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        return ready.poll();
    }

    private void visit(Path directory) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(directory)) {
            for (Path child : children) {
                names.add(child.getFileName().toString());
            }
        } catch (AccessDeniedException e) {
            unreadable(directory, "cannot list it (permission denied)");
            return;
        } catch (IOException e) {
            unreadable(directory, "cannot list it (" + e.getMessage() + ")");
            return;
        }
        Collections.sort(names);
        List<Path> subdirectories = new ArrayList<>();
        List<SourceMember> group = new ArrayList<>();
        String groupKey = null;
        for (String name : names) {
            Path path = directory.resolve(name);
            if (rules.exclude().isPresent() && path.equals(rules.exclude().get())) {
                continue;
            }
            String relative = relativeName(path);
            if (name.indexOf('\uFFFD') >= 0) {
                throw new GranaryException("the name of " + path + " is not valid UTF-8",
                        "tar members and sample keys are UTF-8 text; rename the file (e.g. with `convmv -f latin1 -t utf8`)");
            }
            BasicFileAttributes attributes = attributes(path);
            if (attributes == null) {
                continue;
            }
            if (name.startsWith(".")) {
                hiddenFiles++;
                continue;
            }
            if (attributes.isDirectory()) {
                if (!rules.followSymlinks() || attributes.fileKey() == null || visitedDirectories.add(attributes.fileKey())) {
                    subdirectories.add(path);
                }
                continue;
            }
            if (!attributes.isRegularFile()) {
                throw new GranaryException(path + " is not a regular file (" + kind(attributes) + ")",
                        "the packer takes regular files only; move it out of " + root);
            }
            SampleKeys.KeyAndExtension split = SampleKeys.split(relative).orElseThrow(() -> new GranaryException(
                    "file " + relative + " has no extension, so it belongs to no sample",
                    "WebDataset keys a sample by the name up to the first '.', and the rest names the member: "
                            + "rename it (e.g. " + relative + ".bin) or move it out of " + root));
            if (!split.key().equals(groupKey)) {
                flush(groupKey, group);
                groupKey = split.key();
            }
            group.add(new SourceMember(relative, split.extension(), path, attributes.size(),
                    attributes.lastModifiedTime().toMillis()));
        }
        flush(groupKey, group);
        for (int i = subdirectories.size() - 1; i >= 0; i--) {
            directories.push(subdirectories.get(i));
        }
    }

    private void flush(String key, List<SourceMember> group) {
        if (group.isEmpty()) {
            return;
        }
        Set<String> extensions = new HashSet<>();
        for (SourceMember member : group) {
            if (!extensions.add(member.extension())) {
                throw new GranaryException("sample " + key + " has two members with extension '" + member.extension() + "'",
                        "each file of a sample needs its own extension; rename one of them");
            }
        }
        ready.add(new SourceSample(key, group));
        group.clear();
    }

    private BasicFileAttributes attributes(Path path) {
        try {
            BasicFileAttributes own = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!own.isSymbolicLink()) {
                return own;
            }
            if (!rules.followSymlinks()) {
                throw new GranaryException(path + " is a symbolic link",
                        "links are not followed by default: pass --follow-symlinks to pack what they point to, or remove them");
            }
            return Files.readAttributes(path, BasicFileAttributes.class);
        } catch (AccessDeniedException e) {
            unreadable(path, "permission denied");
            return null;
        } catch (java.nio.file.NoSuchFileException e) {
            unreadable(path, "it is a link to a missing file, or it disappeared");
            return null;
        } catch (IOException e) {
            unreadable(path, e.getMessage());
            return null;
        }
    }

    private void unreadable(Path path, String why) {
        if (!rules.skipUnreadable()) {
            throw new GranaryException("cannot read " + path + ": " + why,
                    "fix its permissions, or pass --skip-unreadable to leave such files out and list them");
        }
        skipped.accept(path + ": " + why);
    }

    private String relativeName(Path path) {
        String relative = root.relativize(path).toString();
        return path.getFileSystem().getSeparator().equals("/") ? relative : relative.replace(path.getFileSystem().getSeparator(), "/");
    }

    private static String kind(BasicFileAttributes attributes) {
        return attributes.isOther() ? "a device, FIFO or socket" : "not a file or directory";
    }
}
