package io.granary.bench;

import java.io.IOException;
import java.nio.file.Path;

/** Peer commands, as benchmarks run them. */
final class Shell {

    private Shell() {}

    /** Runs a command in a directory; fails with its output if it exits non-zero. */
    static void run(Path directory, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** The first line a command prints about its version, or "?". */
    static String version(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String first = new String(process.getInputStream().readAllBytes()).lines().findFirst().orElse("?");
            process.waitFor();
            return first;
        } catch (IOException | InterruptedException e) {
            return "?";
        }
    }
}
