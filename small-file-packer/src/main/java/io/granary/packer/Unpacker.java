package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.packer.tar.TarEntry;
import io.granary.packer.tar.TarReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/**
 * Extracts shards into a directory. A member name that is absolute, holds "..", or would land
 * outside the target through a symbolic link is refused before anything is written for it;
 * links and devices in a shard are refused too. Each file appears whole or not at all.
 */
public final class Unpacker {

    /** What was extracted. */
    public record Result(long files, long bytes) {}

    private Unpacker() {}

    public static Result unpack(List<Path> shards, Path target, Progress progress) throws IOException {
        Files.createDirectories(target);
        Path root = target.toRealPath();
        long files = 0;
        long bytes = 0;
        byte[] chunk = new byte[1 << 20];
        ShardInput.Buffers buffers = new ShardInput.Buffers();
        for (Path shard : shards) {
            try (TarReader reader = new TarReader(ShardInput.open(shard, buffers), shard.toString())) {
                for (Optional<TarEntry> next = reader.next(); next.isPresent(); next = reader.next()) {
                    TarEntry entry = next.get();
                    Path destination = destination(root, entry, shard);
                    if (entry.isDirectory()) {
                        makeDirectories(root, destination, entry, shard);
                        continue;
                    }
                    if (!entry.isRegularFile()) {
                        throw new GranaryException("member " + entry.name() + " of " + shard + " is a " + entry.typeName() + ": refused",
                                "Granary shards hold regular files only; this shard was not written by `granary pack`");
                    }
                    makeDirectories(root, destination.getParent(), entry, shard);
                    Path temporary = destination.resolveSibling(destination.getFileName() + ".unpacking");
                    try (OutputStream out = Files.newOutputStream(temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                            StandardOpenOption.WRITE)) {
                        for (int read = reader.readData(chunk, 0, chunk.length); read >= 0; read = reader.readData(chunk, 0, chunk.length)) {
                            out.write(chunk, 0, read);
                        }
                    } catch (IOException | RuntimeException e) {
                        Files.deleteIfExists(temporary);
                        throw e;
                    }
                    Files.move(temporary, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    files++;
                    bytes += entry.size();
                    progress.advance(1, entry.size());
                }
            }
        }
        return new Result(files, bytes);
    }

    private static Path destination(Path root, TarEntry entry, Path shard) {
        String name = entry.name();
        boolean escapes = name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.indexOf('\0') >= 0;
        for (String part : name.split("/")) {
            escapes |= part.equals("..");
        }
        Path destination = root.resolve(name).normalize();
        if (escapes || !destination.startsWith(root) || destination.equals(root)) {
            throw new GranaryException("member '" + name + "' of " + shard + " would be written outside " + root + ": refused",
                    "the shard was crafted or damaged; nothing was written for this member. Do not unpack untrusted shards elsewhere.");
        }
        return destination;
    }

    /** Creates the directories down to {@code directory} one by one, refusing to pass through a symbolic link. */
    private static void makeDirectories(Path root, Path directory, TarEntry entry, Path shard) throws IOException {
        Path current = root;
        for (Path part : root.relativize(directory)) {
            current = current.resolve(part);
            if (Files.isSymbolicLink(current)) {
                throw new GranaryException("member '" + entry.name() + "' of " + shard + " would be written through the symbolic link "
                        + current + ", which may lead outside " + root + ": refused", "remove the link from the target directory");
            }
            if (!Files.isDirectory(current)) {
                Files.createDirectory(current);
            }
        }
    }
}
