package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.util.ArrayList;
import java.util.List;

/**
 * An RFC 4180 CSV reader that remembers the line each record starts on. Quoted fields may hold
 * delimiters, doubled quotes and newlines. An empty unquoted field reads as {@code null}; a quoted
 * empty field ({@code ""}) as the empty string. Blank lines are skipped.
 */
final class CsvParser implements Closeable {

    private static final char QUOTE = '"';

    private final Reader in;
    private final char delimiter;
    private final String file;
    private final char[] buffer = new char[1 << 16];
    private final StringBuilder spill = new StringBuilder();
    private final List<String> fields = new ArrayList<>();
    private int position;
    private int limit;
    private long line = 1;
    private long recordLine;
    private boolean started;

    CsvParser(Reader in, char delimiter, String file) {
        this.in = in;
        this.delimiter = delimiter;
        this.file = file;
    }

    /** The line the record last returned by {@link #next} starts on (1-based). */
    long recordLine() {
        return recordLine;
    }

    /** The next record's fields, or null at the end of the input. */
    String[] next() throws IOException {
        if (!started) {
            started = true;
            if (peek() == '\uFEFF') {
                position++;
            }
        }
        int c;
        while ((c = peek()) == '\n' || c == '\r') {
            consumeNewline();
        }
        if (c == -1) {
            return null;
        }
        recordLine = line;
        fields.clear();
        while (true) {
            if (peek() == QUOTE) {
                position++;
                fields.add(readQuoted());
                c = peek();
                if (c != delimiter && c != '\n' && c != '\r' && c != -1) {
                    throw new GranaryException(
                            file + " line " + line + ": unexpected '" + (char) c + "' after a closing quote",
                            "a quoted field ends at the next delimiter; write a literal quote as \"\" inside quotes");
                }
            } else {
                fields.add(readUnquoted());
                c = peek();
            }
            if (c == delimiter) {
                position++;
                continue;
            }
            consumeNewline();
            return fields.toArray(new String[0]);
        }
    }

    private String readUnquoted() throws IOException {
        spill.setLength(0);
        boolean spilled = false;
        while (true) {
            if (position >= limit && !fill()) {
                break;
            }
            int start = position;
            while (position < limit) {
                char c = buffer[position];
                if (c == delimiter || c == '\n' || c == '\r') {
                    break;
                }
                position++;
            }
            if (position < limit) {
                if (!spilled) {
                    return position == start ? null : new String(buffer, start, position - start);
                }
                spill.append(buffer, start, position - start);
                break;
            }
            spill.append(buffer, start, position - start);
            spilled = true;
        }
        return spill.isEmpty() ? null : spill.toString();
    }

    private String readQuoted() throws IOException {
        long startLine = line;
        spill.setLength(0);
        while (true) {
            if (position >= limit && !fill()) {
                throw new GranaryException(
                        file + " line " + startLine + ": quoted field is never closed",
                        "add the closing quote; a quote inside a quoted field is written as \"\"");
            }
            int start = position;
            while (position < limit && buffer[position] != QUOTE) {
                if (buffer[position] == '\n') {
                    line++;
                }
                position++;
            }
            spill.append(buffer, start, position - start);
            if (position < limit) {
                position++; // the quote
                if (peek() == QUOTE) {
                    spill.append(QUOTE);
                    position++;
                } else {
                    return spill.toString();
                }
            }
        }
    }

    private void consumeNewline() throws IOException {
        int c = peek();
        if (c == '\r') {
            position++;
            if (peek() == '\n') {
                position++;
            }
            line++;
        } else if (c == '\n') {
            position++;
            line++;
        }
    }

    private int peek() throws IOException {
        if (position >= limit && !fill()) {
            return -1;
        }
        return buffer[position];
    }

    private boolean fill() throws IOException {
        try {
            int read = in.read(buffer, 0, buffer.length);
            position = 0;
            limit = Math.max(read, 0);
            return read > 0;
        } catch (CharacterCodingException e) {
            throw new GranaryException(file + " near line " + line + ": text is not valid UTF-8",
                    "convert the file to UTF-8 (e.g. iconv -t UTF-8)", e);
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
