package io.granary.sample.component;

/** An argument a component takes: its name, whether a node must give it, and what it is. */
public record Argument(String name, boolean required, String help) {

    public static Argument required(String name, String help) {
        return new Argument(name, true, help);
    }

    public static Argument optional(String name, String help) {
        return new Argument(name, false, help);
    }
}
