package io.granary.sample.component;

/** A column of a table a node reads or writes: its name and Iceberg type ("long", "timestamptz", ...; "?" when not known before running). */
public record Column(String name, String type) {

    public static final String UNKNOWN = "?";

    public boolean isTime() {
        return type.startsWith("timestamp") || type.equals("date");
    }

    public boolean isNumeric() {
        return switch (type) {
            case "int", "long", "float", "double" -> true;
            default -> type.startsWith("decimal");
        };
    }
}
