package io.granary.packer.tar;

import io.granary.common.GranaryException;
import java.nio.charset.StandardCharsets;

/** The records of a PAX extended header that matter here: path and size. */
record PaxRecords(String path, long size) {

    static PaxRecords parse(byte[] body, String source, long headerOffset) {
        String path = null;
        long size = -1;
        int at = 0;
        while (at < body.length && body[at] != 0) {
            int space = at;
            while (space < body.length && body[space] != ' ') {
                space++;
            }
            int length;
            try {
                length = Integer.parseInt(new String(body, at, space - at, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw bad(source, headerOffset);
            }
            if (length <= space - at + 1 || at + length > body.length || body[at + length - 1] != '\n') {
                throw bad(source, headerOffset);
            }
            String record = new String(body, space + 1, at + length - space - 2, StandardCharsets.UTF_8);
            int equals = record.indexOf('=');
            if (equals > 0) {
                String key = record.substring(0, equals);
                String value = record.substring(equals + 1);
                if (key.equals("path")) {
                    path = value;
                } else if (key.equals("size")) {
                    try {
                        size = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw bad(source, headerOffset);
                    }
                }
            }
            at += length;
        }
        return new PaxRecords(path, size);
    }

    private static GranaryException bad(String source, long headerOffset) {
        return new GranaryException(source + " is not a valid tar archive: bad PAX header at byte " + headerOffset,
                "the shard is damaged; `granary pack verify DIR` checks every shard");
    }
}
