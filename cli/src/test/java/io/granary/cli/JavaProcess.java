package io.granary.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a class of this test class path in a JVM of its own, with the flags Spark needs, its output to a log file. */
final class JavaProcess {

    private JavaProcess() {}

    static Process start(Path log, String mainClass, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        for (String flag : System.getProperty("granary.jvm.flags", "").split(" ")) {
            if (!flag.isBlank()) {
                command.add(flag);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
