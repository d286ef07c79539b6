package io.granary.sample.component;

import io.granary.dataset.DatasetName;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** What a node produced: values it computed, and the rows of its output table in one of several forms. */
public sealed interface NodeResult {

    Map<String, Object> values();

    /** Rows to be written as the node's output table (by the executor, in one atomic commit). */
    record Frame(Dataset<Row> rows, Map<String, Object> values) implements NodeResult {}

    /** Rows computed in this process, to be written as the node's output table (by the executor, in one atomic commit). */
    record Records(org.apache.iceberg.Schema schema, org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows,
                   Map<String, Object> values) implements NodeResult {}

    /** The node wrote its output table itself, in one commit (an in-process path). */
    record Written(DatasetName table, long snapshotId, long rows, Map<String, Object> values) implements NodeResult {}

    /** The node's output is its input, unchanged (nothing to do with these arguments). */
    record PassThrough(TableArg input, Map<String, Object> values) implements NodeResult {}

    /** The node wrote datasets of the user's (a write node): each as "ns.name@snapshot". */
    record Published(List<String> datasets, long rows, Map<String, Object> values) implements NodeResult {}
}
