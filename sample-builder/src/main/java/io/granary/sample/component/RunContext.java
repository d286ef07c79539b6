package io.granary.sample.component;

import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.feature.registry.RegistryState;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** What a component runs with: the catalog, the feature registry, Spark (started on first use), where its output goes. */
public interface RunContext {

    Datasets datasets();

    RegistryState registry();

    /** The Spark session, started on first use (seconds): components that can run without it should. */
    SparkSession spark();

    /** A table's rows at its snapshot, on Spark. */
    Dataset<Row> read(TableArg table);

    Engine engine();

    /** With {@link Engine#auto}, the most rows to process in this process. */
    long localMaxRows();

    /**
     * Whether a node whose main input is {@code input} runs in this process: always with --engine
     * local, never with spark, and with auto when the input holds at most {@link LocalTables#MAX_ROWS} rows.
     */
    boolean inProcess(TableArg input);

    /** The table this node's output goes to, if the component writes it itself. */
    DatasetName outputTable();

    /**
     * True when the node takes only the rows its input gained by appends (its main input is just
     * those): a node that writes the user's datasets then appends to them instead of replacing them.
     */
    boolean appending();

    /** For a mergeable node given only its input's appended rows: its last output, to merge them into. */
    java.util.Optional<TableArg> previousOutput();

    /** What the node's commits record: the run, the node, its fingerprint and inputs. */
    Provenance provenance();
}
