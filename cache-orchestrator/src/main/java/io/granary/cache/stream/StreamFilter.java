package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.expressions.Binder;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Types;

/**
 * A stream's {@code filter}: an SQL-like predicate over columns, read into an Iceberg expression
 * so that Iceberg's own evaluators prune files and row groups by their statistics and test rows.
 *
 * <pre>
 * label = 1 and country in ('FR', 'DE') and ts &gt;= '2026-01-01T00:00:00+00:00'
 * not (score &lt; 0.5 or score is null)       speaker between 'spk1' and 'spk4'
 * path like 'train/%'                        (a prefix: startsWith)
 * </pre>
 *
 * Operators: = == != &lt;&gt; &lt; &lt;= &gt; &gt;=, [not] in (...), is [not] null, between,
 * like 'prefix%', and, or, not, parentheses. Literals: numbers, 'strings' (dates and timestamps
 * as ISO strings), true, false. Keywords are case-insensitive; a column name may be `quoted`.
 */
public final class StreamFilter {

    private final String text;
    private final List<String> tokens;
    private int at;

    private StreamFilter(String text) {
        this.text = text;
        this.tokens = tokenize(text);
    }

    /** The expression, unbound (column names not yet checked). */
    public static Expression parse(String text) {
        StreamFilter parser = new StreamFilter(text);
        if (parser.tokens.isEmpty()) {
            throw parser.error("is empty");
        }
        Expression expression = parser.or();
        if (parser.at < parser.tokens.size()) {
            throw parser.error("has '" + parser.tokens.get(parser.at) + "' where it should end");
        }
        return expression;
    }

    /** The ids of the columns the expression reads in {@code schema}, its names and literals checked against their types. */
    public static Set<Integer> bind(String text, Expression expression, Schema schema) {
        try {
            return Binder.boundReferences(schema.asStruct(), List.of(expression), true);
        } catch (RuntimeException e) { // Iceberg's ValidationException: an unknown column or a literal of the wrong type
            throw new GranaryException("descriptor key 'filter': " + e.getMessage() + " in '" + text + "'",
                    "its columns are " + String.join(", ", schema.columns().stream().map(Types.NestedField::name).toList()));
        }
    }

    private Expression or() {
        Expression left = and();
        while (keyword("or")) {
            left = Expressions.or(left, and());
        }
        return left;
    }

    private Expression and() {
        Expression left = not();
        while (keyword("and")) {
            left = Expressions.and(left, not());
        }
        return left;
    }

    private Expression not() {
        if (keyword("not")) {
            return Expressions.not(not());
        }
        if (symbol("(")) {
            Expression inner = or();
            expect(")");
            return inner;
        }
        return predicate();
    }

    private Expression predicate() {
        String column = column();
        if (keyword("is")) {
            boolean negated = keyword("not");
            if (!keyword("null")) {
                throw error("needs null after 'is' for " + column);
            }
            return negated ? Expressions.notNull(column) : Expressions.isNull(column);
        }
        boolean negated = keyword("not");
        if (keyword("in")) {
            expect("(");
            List<Object> values = new ArrayList<>();
            do {
                values.add(literal());
            } while (symbol(","));
            expect(")");
            return negated ? Expressions.notIn(column, values.toArray()) : Expressions.in(column, values.toArray());
        }
        if (keyword("between")) {
            Object low = literal();
            if (!keyword("and")) {
                throw error("needs 'and' in 'between' for " + column);
            }
            Object high = literal();
            Expression between = Expressions.and(Expressions.greaterThanOrEqual(column, low), Expressions.lessThanOrEqual(column, high));
            return negated ? Expressions.not(between) : between;
        }
        if (keyword("like")) {
            Object pattern = literal();
            if (!(pattern instanceof String prefix) || !prefix.endsWith("%") || prefix.indexOf('%') != prefix.length() - 1 || prefix.contains("_")) {
                throw error("can only match a prefix with like, e.g. like 'train/%', not " + pattern);
            }
            String start = prefix.substring(0, prefix.length() - 1);
            return negated ? Expressions.notStartsWith(column, start) : Expressions.startsWith(column, start);
        }
        if (negated) {
            throw error("has 'not' after " + column + " where in, between or like should follow");
        }
        String operator = next("an operator after " + column);
        Object value = literal();
        return switch (operator) {
            case "=", "==" -> Expressions.equal(column, value);
            case "!=", "<>" -> Expressions.notEqual(column, value);
            case "<" -> Expressions.lessThan(column, value);
            case "<=" -> Expressions.lessThanOrEqual(column, value);
            case ">" -> Expressions.greaterThan(column, value);
            case ">=" -> Expressions.greaterThanOrEqual(column, value);
            default -> throw error("has '" + operator + "' where an operator (=, !=, <, <=, >, >=, in, between, like, is) should be");
        };
    }

    private String column() {
        String token = next("a column");
        if (token.startsWith("`")) {
            return token.substring(1, token.length() - 1).replace("``", "`");
        }
        if (!Character.isLetter(token.charAt(0)) && token.charAt(0) != '_') {
            throw error("has '" + token + "' where a column name should be");
        }
        return token;
    }

    private Object literal() {
        String token = next("a value");
        if (token.startsWith("'")) {
            return token.substring(1, token.length() - 1).replace("''", "'");
        }
        String lower = token.toLowerCase(Locale.ROOT);
        if (lower.equals("true") || lower.equals("false")) {
            return Boolean.parseBoolean(lower);
        }
        try {
            BigDecimal number = new BigDecimal(token);
            if (number.scale() <= 0 && token.indexOf('e') < 0 && token.indexOf('E') < 0) {
                long whole = number.longValueExact();
                return whole == (int) whole ? (Object) (int) whole : (Object) whole;
            }
            return number.doubleValue();
        } catch (NumberFormatException | ArithmeticException e) {
            throw error("has '" + token + "' where a value (a number, 'text', true or false) should be");
        }
    }

    private boolean keyword(String word) {
        if (at < tokens.size() && tokens.get(at).equalsIgnoreCase(word)) {
            at++;
            return true;
        }
        return false;
    }

    private boolean symbol(String symbol) {
        if (at < tokens.size() && tokens.get(at).equals(symbol)) {
            at++;
            return true;
        }
        return false;
    }

    private void expect(String symbol) {
        if (!symbol(symbol)) {
            throw error(at < tokens.size() ? "has '" + tokens.get(at) + "' where '" + symbol + "' should be" : "ends where '" + symbol + "' should be");
        }
    }

    private String next(String what) {
        if (at >= tokens.size()) {
            throw error("ends where " + what + " should be");
        }
        return tokens.get(at++);
    }

    private GranaryException error(String problem) {
        return new GranaryException("descriptor key 'filter': '" + text + "' " + problem,
                "write e.g. \"label = 1 and country in ('FR', 'DE')\": =, !=, <, <=, >, >=, in, between, like 'prefix%', is null, and, or, not");
    }

    private List<String> tokenize(String input) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < input.length()) {
            char c = input.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '\'' || c == '`') {
                int end = i + 1;
                while (true) {
                    if (end >= input.length()) {
                        throw new GranaryException("descriptor key 'filter': '" + input + "' has an unclosed " + c,
                                "close the quote; a quote inside is written twice");
                    }
                    if (input.charAt(end) == c) {
                        if (end + 1 < input.length() && input.charAt(end + 1) == c) {
                            end += 2;
                            continue;
                        }
                        break;
                    }
                    end++;
                }
                out.add(input.substring(i, end + 1));
                i = end + 1;
            } else if ("(),".indexOf(c) >= 0) {
                out.add(String.valueOf(c));
                i++;
            } else if ("=!<>".indexOf(c) >= 0) {
                int end = i + 1;
                if (end < input.length() && "=>".indexOf(input.charAt(end)) >= 0) {
                    end++;
                }
                out.add(input.substring(i, end));
                i = end;
            } else {
                int end = i;
                while (end < input.length() && !Character.isWhitespace(input.charAt(end)) && "(),=!<>'`".indexOf(input.charAt(end)) < 0) {
                    end++;
                }
                out.add(input.substring(i, end));
                i = end;
            }
        }
        return out;
    }
}
