package io.granary.cli.cache;

import io.granary.cli.Main;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line that starts another `granary` in a JVM like this one (same java, flags and class path). */
final class BackgroundCommand {

    private BackgroundCommand() {}

    /** java, this JVM's options and class path, and the main class: append the granary arguments. */
    static List<String> sameJvm() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        return command;
    }
}
