package io.granary.dataset.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import java.io.InputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteChunkerTest {

    @TempDir
    Path dir;

    /** A CSV several chunks long, with quoted fields holding newlines, delimiters and quotes. */
    private static String csv(int rows) {
        StringBuilder text = new StringBuilder("id,note\n");
        for (int i = 0; i < rows; i++) {
            String note = switch (i % 4) {
                case 0 -> "plain" + i;
                case 1 -> "\"two\nlines " + i + "\"";
                case 2 -> "\"a, \"\"quoted\"\" " + i + "\"";
                default -> "";
            };
            text.append(i).append(',').append(note).append(i % 7 == 0 ? "\r\n" : "\n");
        }
        return text.toString();
    }

    private SourceFile file(String content) throws IOException {
        Path path = dir.resolve("data.csv");
        Files.writeString(path, content);
        return SourceFile.of(path);
    }

    @Test
    void chunksHoldWholeRecordsAndKnowTheirLines() throws IOException {
        int rows = 200_000;
        String content = csv(rows);
        assertThat(content.length()).as("several chunks").isGreaterThan(3 * ByteChunker.CHUNK_BYTES);
        SourceFile source = file(content);

        List<String> ids = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        long expectedLine = 2;
        int chunks = 0;
        try (ByteChunker chunker = new ByteChunker(source.openBytes(), true, "data.csv")) {
            ByteChunker.Chunk chunk;
            boolean header = true;
            while ((chunk = chunker.next()) != null) {
                chunks++;
                CsvRecords records = new CsvRecords(chunk.data(), 0, chunk.length(), chunk.firstLine(), (byte) ',', source);
                while (records.next()) {
                    if (header) {
                        header = false;
                        continue;
                    }
                    assertThat(records.fieldCount()).isEqualTo(2);
                    assertThat(records.line()).isEqualTo(expectedLine);
                    ids.add(records.text(0));
                    notes.add(records.text(1));
                    expectedLine += notes.get(notes.size() - 1) != null && notes.get(notes.size() - 1).contains("\n") ? 2 : 1;
                }
            }
        }
        assertThat(chunks).isGreaterThan(3);
        assertThat(ids).hasSize(rows);
        assertThat(ids.get(rows - 1)).isEqualTo(String.valueOf(rows - 1));
        assertThat(notes.get(1)).isEqualTo("two\nlines 1");
        assertThat(notes.get(2)).isEqualTo("a, \"quoted\" 2");
        assertThat(notes.get(3)).isNull();
        assertThat(notes.get(rows - 3)).isEqualTo("two\nlines " + (rows - 3));
    }

    @Test
    void aStrayQuoteInAnUnquotedFieldIsAnError() throws IOException {
        SourceFile source = file("id,size\n1,12\" pipe\n");
        ByteChunker.Chunk chunk = new ByteChunker(source.openBytes(), true, "data.csv").next();
        CsvRecords records = new CsvRecords(chunk.data(), 0, chunk.length(), 1, (byte) ',', source);
        records.next();
        assertThatThrownBy(records::next).isInstanceOf(GranaryException.class).hasMessageContaining("line 2: a quote inside an unquoted field");
    }

    @Test
    void anUnclosedQuoteInAHugeFileFailsWithoutReadingItAll() {
        byte[] start = "id,note\n1,\"never closed\n".getBytes(StandardCharsets.UTF_8);
        InputStream endless = new InputStream() {
            private long position;

            @Override
            public int read() {
                return position < start.length ? start[(int) position++] : 'x';
            }
        };
        ByteChunker chunker = new ByteChunker(endless, true, "huge.csv");
        assertThatThrownBy(() -> {
            while (chunker.next() != null) {
                // the header line comes first; the unclosed quote fails on the next chunk
            }
        })
                .hasMessageContaining("huge.csv line 2: a record runs on for more than 64 MiB")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("quote that is never closed"));
    }

    @Test
    void byteOrderMarkAndMissingFinalNewlineAreFine() throws IOException {
        SourceFile source = file("\uFEFFid,name\n1,a\n2,b");
        ByteChunker.Chunk chunk = new ByteChunker(source.openBytes(), true, "data.csv").next();
        CsvRecords records = new CsvRecords(chunk.data(), 0, chunk.length(), 1, (byte) ',', source);
        assertThat(records.next()).isTrue();
        assertThat(records.texts()).containsExactly("id", "name");
        records.next();
        assertThat(records.next()).isTrue();
        assertThat(records.texts()).containsExactly("2", "b");
        assertThat(records.next()).isFalse();
    }
}
