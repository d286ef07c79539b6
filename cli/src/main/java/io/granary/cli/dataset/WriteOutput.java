package io.granary.cli.dataset;

import io.granary.cli.output.Formats;
import io.granary.dataset.WriteResult;
import java.io.PrintWriter;
import java.time.Duration;

/** How a write reports what it committed. */
final class WriteOutput {

    private WriteOutput() {}

    static void print(PrintWriter out, String verb, WriteResult result, Duration took) {
        for (String change : result.schemaChanges()) {
            out.println("schema: " + change);
        }
        String where = result.branch().equals("main") ? "" : " (branch " + result.branch() + ")";
        if (result.snapshotId() < 0) {
            out.printf("%s %s%s: no rows yet%n", verb, result.dataset(), where);
            return;
        }
        // a rate is only telling once the fixed cost of a commit stops dominating
        String rate = result.rowsWritten() >= 100_000 ? ", " + Formats.rate(result.rowsWritten(), took) + " rows/s" : "";
        out.printf("%s %s%s: snapshot %d, %s rows in %d file%s (%s), %s%s%n",
                verb, result.dataset(), where, result.snapshotId(), Formats.count(result.rowsWritten()),
                result.filesWritten(), result.filesWritten() == 1 ? "" : "s", Formats.bytes(result.bytesWritten()),
                Formats.seconds(took), rate);
    }
}
