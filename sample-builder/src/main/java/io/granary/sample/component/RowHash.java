package io.granary.sample.component;

import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;

/**
 * A row's (or some columns') place in [0, 1), from a 64-bit hash of its values and a seed: the same
 * on every run and on every machine, so sampling and splitting are deterministic and row-local.
 */
final class RowHash {

    private static final double TWO_TO_53 = 9007199254740992.0;

    private RowHash() {}

    static Column uniform(long seed, List<String> columns) {
        Column[] hashed = new Column[columns.size() + 1];
        hashed[0] = functions.lit(seed);
        for (int i = 0; i < columns.size(); i++) {
            hashed[i + 1] = functions.col(SqlExpressions.quote(columns.get(i)));
        }
        return functions.pmod(functions.xxhash64(hashed), functions.lit((long) TWO_TO_53)).cast("double").divide(TWO_TO_53);
    }
}
