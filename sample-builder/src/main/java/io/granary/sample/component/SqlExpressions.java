package io.granary.sample.component;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.catalyst.analysis.UnresolvedAttribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.parser.CatalystSqlParser$;
import scala.jdk.javaapi.CollectionConverters;

/** Spark SQL expressions in arguments, read without a Spark session: parsed, and the columns they name found. */
final class SqlExpressions {

    private SqlExpressions() {}

    /** The columns an expression names; an error for the argument when it does not parse. */
    static Set<String> columns(NodeArgs args, String argument, String expression) {
        Expression parsed;
        try {
            parsed = CatalystSqlParser$.MODULE$.parseExpression(expression);
        } catch (RuntimeException e) { // Spark's ParseException, unchecked from Scala
            throw args.error(argument, "cannot parse the expression '" + expression + "': " + e.getMessage().lines().findFirst().orElse(""),
                    "write a Spark SQL expression, e.g. log1p(clicks) or country = 'us'");
        }
        Set<String> names = new LinkedHashSet<>();
        collect(parsed, names);
        return names;
    }

    private static void collect(Expression expression, Set<String> names) {
        if (expression instanceof UnresolvedAttribute attribute) {
            List<String> parts = new ArrayList<>(CollectionConverters.asJava(attribute.nameParts()));
            names.add(parts.get(0));
            return;
        }
        for (Expression child : CollectionConverters.asJava(expression.children())) {
            collect(child, names);
        }
    }

    /** Fails unless every column the expression names is one of the table's. */
    static void requireColumns(NodeArgs args, String argument, String expression, TableArg table) {
        for (String column : columns(args, argument, expression)) {
            args.requireColumn(argument, table, column);
        }
    }

    /** A column name quoted for Spark SQL. */
    static String quote(String column) {
        return "`" + column.replace("`", "``") + "`";
    }
}
