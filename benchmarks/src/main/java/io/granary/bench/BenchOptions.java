package io.granary.bench;

import io.granary.common.GranaryException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A benchmark's options, "--name value" pairs, checked against the names it knows. */
final class BenchOptions {

    private final Map<String, String> values = new HashMap<>();

    BenchOptions(String benchmark, List<String> args, Set<String> known) {
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg.startsWith("--") ? arg.substring(2) : null;
            if (name == null || !known.contains(name.split("=")[0])) {
                throw new GranaryException("unknown option '" + arg + "' for benchmark " + benchmark,
                        "its options: " + known.stream().sorted().map(k -> "--" + k).toList());
            }
            if (name.contains("=")) {
                values.put(name.substring(0, name.indexOf('=')), name.substring(name.indexOf('=') + 1));
            } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                values.put(name, args.get(++i));
            } else {
                values.put(name, "true");
            }
        }
    }

    long number(String name, long defaultValue) {
        String value = values.get(name);
        try {
            return value == null ? defaultValue : Long.parseLong(value.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new GranaryException("--" + name + " takes a whole number, not '" + value + "'", "");
        }
    }

    double decimal(String name, double defaultValue) {
        String value = values.get(name);
        try {
            return value == null ? defaultValue : Double.parseDouble(value.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new GranaryException("--" + name + " takes a number, not '" + value + "'", "");
        }
    }

    boolean flag(String name) {
        return Boolean.parseBoolean(values.getOrDefault(name, "false"));
    }
}
