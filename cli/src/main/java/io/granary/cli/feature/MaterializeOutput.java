package io.granary.cli.feature;

import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.feature.materialize.MaterializeResult;
import java.io.PrintWriter;
import java.util.List;

/** The table materialization prints. */
final class MaterializeOutput {

    private MaterializeOutput() {}

    static void print(PrintWriter out, List<MaterializeResult> results) {
        TextTable table = new TextTable("view", "run", "snapshots", "rows read", "entities", "newer", "took").alignRight(2, 3, 4, 5);
        for (MaterializeResult result : results) {
            table.add(result.view(), result.mode(), result.snapshots(), Formats.count(result.rowsRead()), Formats.count(result.entities()),
                    Formats.count(result.newer()), Formats.seconds(result.took()));
        }
        table.print(out);
    }
}
