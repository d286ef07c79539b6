package io.granary.packer.tar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarFormatTest {

    @TempDir
    Path temp;

    /** A tar of the given members, each holding its own name as content. */
    static byte[] archive(String... names) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String name : names) {
            byte[] data = name.getBytes(StandardCharsets.UTF_8);
            out.write(TarHeaders.regularFile(name, data.length, 1_700_000_000L));
            out.write(data);
            out.write(new byte[TarHeaders.padding(data.length)]);
        }
        out.write(TarHeaders.endOfArchive());
        return out.toByteArray();
    }

    static List<TarEntry> read(byte[] archive) throws IOException {
        List<TarEntry> entries = new ArrayList<>();
        try (TarReader reader = new TarReader(new ByteArrayInputStream(archive), "test.tar")) {
            for (Optional<TarEntry> entry = reader.next(); entry.isPresent(); entry = reader.next()) {
                entries.add(entry.get());
                assertThat(new String(reader.readData(), StandardCharsets.UTF_8)).isEqualTo(entry.get().name());
            }
        }
        return entries;
    }

    @Test
    void namesOfEveryLengthAroundTheUstarAndPaxBoundariesSurviveOurReaderAndGnuTar() throws Exception {
        List<String> names = new ArrayList<>();
        for (int length : new int[] {1, 99, 100, 101, 155, 256, 490, 491, 492, 493, 494, 495, 496, 497, 498, 999, 1000, 4000}) {
            names.add("d/" + "x".repeat(length) + ".bin");
        }
        names.add("ünïcödé/ファイル.wav");
        byte[] archive = archive(names.toArray(String[]::new));

        assertThat(read(archive)).extracting(TarEntry::name).containsExactlyElementsOf(names);
        Path file = Files.write(temp.resolve("names.tar"), archive);
        Process tar = new ProcessBuilder("tar", "-tf", file.toString()).redirectErrorStream(true).start();
        String listing = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tar.waitFor()).as(listing).isZero();
        assertThat(listing.lines().toList()).containsExactlyElementsOf(names);
    }

    @Test
    void dataOffsetsPointAtTheMembersBytes() throws Exception {
        byte[] archive = archive("a.txt", "b/" + "n".repeat(200) + ".txt");
        for (TarEntry entry : read(archive)) {
            String at = new String(archive, (int) entry.dataOffset(), (int) entry.size(), StandardCharsets.UTF_8);
            assertThat(at).isEqualTo(entry.name());
        }
    }

    @Test
    void aDamagedHeaderFailsItsChecksum() throws Exception {
        byte[] archive = archive("a.txt", "b.txt");
        archive[512 + 512 + 3] ^= 0x20;
        assertThatThrownBy(() -> read(archive)).isInstanceOf(GranaryException.class)
                .hasMessageContaining("test.tar is not a valid tar archive: bad header checksum at byte 1024");
    }

    @Test
    void aTruncatedArchiveIsReportedAsSuch() throws Exception {
        byte[] archive = archive("a.txt", "b.txt");
        byte[] cut = java.util.Arrays.copyOf(archive, 1024 + 300);
        assertThatThrownBy(() -> read(cut)).isInstanceOf(GranaryException.class).hasMessageContaining("truncated");
    }

    @Test
    void gnuTarArchivesReadBack() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("src/sub"));
        Files.writeString(dir.resolve("x.txt"), "sub/x.txt");
        String longName = "y".repeat(150) + ".txt";
        Files.writeString(dir.resolve(longName), "sub/" + longName);
        for (String format : new String[] {"gnu", "posix", "ustar"}) {
            Path file = temp.resolve(format + ".tar");
            List<String> members = format.equals("ustar") ? List.of("sub/x.txt") : List.of("sub/x.txt", "sub/" + longName);
            List<String> command = new ArrayList<>(List.of("tar", "--format=" + format, "-cf", file.toString(), "-C", temp.resolve("src").toString()));
            command.addAll(members);
            Process tar = new ProcessBuilder(command).redirectErrorStream(true).start();
            assertThat(tar.waitFor()).isZero();
            assertThat(read(Files.readAllBytes(file))).as(format).extracting(TarEntry::name).containsExactlyElementsOf(members);
        }
    }
}
