package io.granary.packer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Source trees for packer tests: files of seeded random bytes, and whole-tree comparison. */
final class Trees {

    private Trees() {}

    static Path file(Path root, String name, int size, long seed) throws IOException {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return file(root, name, data);
    }

    static Path file(Path root, String name, byte[] data) throws IOException {
        Path path = root.resolve(name);
        Files.createDirectories(path.getParent());
        Files.write(path, data);
        return path;
    }

    /** {@code speakers} x {@code utterances} samples of a .wav (sizes between 1 and 40 KB) and a .json each. */
    static Path speech(Path root, int speakers, int utterances) throws IOException {
        Random random = new Random(7);
        for (int s = 0; s < speakers; s++) {
            for (int u = 0; u < utterances; u++) {
                String key = "spk" + s + "/utt" + u;
                file(root, key + ".wav", 1000 + random.nextInt(40_000), random.nextLong());
                file(root, key + ".json", ("{\"speaker\": " + s + ", \"utterance\": " + u + "}").getBytes());
            }
        }
        return root;
    }

    /** Every regular file under {@code root} by relative path, with its bytes. */
    static Map<String, byte[]> contents(Path root) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(path).toString(), Files.readAllBytes(path));
            }
        }
        return files;
    }

    static void assertSameTree(Path actual, Path expected) throws IOException {
        Map<String, byte[]> want = contents(expected);
        Map<String, byte[]> got = contents(actual);
        assertThat(got.keySet()).containsExactlyElementsOf(want.keySet());
        want.forEach((name, bytes) -> assertThat(got.get(name)).as(name).isEqualTo(bytes));
    }

    static int run(Path directory, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        return process.waitFor();
    }

    static String output(Path directory, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        String text = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + text).isZero();
        return text;
    }
}
