package io.granary.sample.component;

import java.util.List;

/**
 * A step of a sample pipeline, named in templates by {@link #name()}. Built-in ones ship with
 * Granary; a team's own are found with {@link java.util.ServiceLoader} in jars on the plugin path
 * (META-INF/services/io.granary.sample.component.Component).
 */
public interface Component {

    /** The name templates use: {@code component: NAME}. */
    String name();

    /** Part of every fingerprint: a new version reruns the nodes that use the component. */
    String version();

    /** One line on what it does, for `granary sample template show`. */
    String description();

    /** The arguments it takes; a node that gives another, or leaves out a required one, is refused before anything runs. */
    List<Argument> arguments();

    /**
     * True when, with these arguments, each output row depends on one input row of the main input
     * (and on the other arguments' tables): new input rows can then be processed alone and appended.
     */
    boolean rowLocal(NodeArgs args);

    /**
     * Checks the arguments against the columns of the tables they name, before anything runs, and
     * returns the columns of the output table (empty for a node that writes none).
     */
    List<Column> check(NodeArgs args, CheckContext context);

    /**
     * What the node reads beyond its table arguments (a feature view's source, say), pinned when
     * planned (e.g. "view:user_daily" -> "demo.user_stats@4711"), with anything else its output
     * depends on (a view's definition). Part of the fingerprint, so new data there reruns the node;
     * the run gets the same pins in {@link NodeArgs#reads()}.
     */
    default java.util.Map<String, String> reads(NodeArgs args, CheckContext context) {
        return java.util.Map.of();
    }

    /**
     * True when, with these arguments, its output for an input that gained appended rows can be made
     * from its last output and those rows alone (counts, sums, minima and maxima): it then runs on
     * the new rows with {@link RunContext#previousOutput()} and writes its whole new output.
     */
    default boolean mergeable(NodeArgs args) {
        return false;
    }

    /**
     * Why, with these arguments, the node cannot run in this process (--engine local refuses the run
     * before anything runs), if it cannot. A component without an in-process path says so.
     */
    default java.util.Optional<String> notInProcess(NodeArgs args) {
        return java.util.Optional.of("component " + name() + " runs on Spark only");
    }

    /** The argument holding the main input table, whose new rows alone a row-local component can process. */
    default String mainInput() {
        return "input";
    }

    /** True when, with these arguments, the node has nothing to do: its output is its main input, unchanged. */
    default boolean passesThrough(NodeArgs args) {
        return false;
    }

    /** The datasets of the user's that the node writes (a write node), as NS.NAME; empty for a node with an intermediate table. */
    default List<String> publishes(NodeArgs args) {
        return List.of();
    }

    /** Computes the node's output. */
    NodeResult run(NodeArgs args, RunContext context);
}
