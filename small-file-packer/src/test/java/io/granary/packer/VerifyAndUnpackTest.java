package io.granary.packer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.packer.tar.TarHeaders;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyAndUnpackTest {

    @TempDir
    Path temp;

    private Path source;
    private Path out;

    @BeforeEach
    void pack() throws Exception {
        source = Trees.speech(temp.resolve("src"), 2, 20);
        out = temp.resolve("out");
        new Packer(null, false).pack(PackOptions.builder(source, out).shardBytes(128 << 10).build());
    }

    private Verifier.Report verify() throws Exception {
        try (ShardSet set = ShardSet.open(out)) {
            return Verifier.verify(set, Progress.silent("verify", "files"));
        }
    }

    @Test
    void anIntactShardSetVerifies() throws Exception {
        Verifier.Report report = verify();
        assertThat(report.problems()).isEmpty();
        assertThat(report.members()).isEqualTo(80);
    }

    @Test
    void verifyNamesTheFirstCorruptMember() throws Exception {
        IndexRow victim;
        try (ShardSet set = ShardSet.open(out)) {
            victim = set.index().sample("spk1/utt3").get(1);
        }
        try (RandomAccessFile file = new RandomAccessFile(out.resolve(victim.shard()).toFile(), "rw")) {
            file.seek(victim.offset() + victim.size() / 2);
            int b = file.read();
            file.seek(victim.offset() + victim.size() / 2);
            file.write(b ^ 0xff);
        }
        assertThat(verify().problems()).singleElement().asString()
                .startsWith(victim.shard() + ": member spk1/utt3.wav (byte " + victim.offset() + ") is corrupt: CRC32C");
        try (ShardSet set = ShardSet.open(out)) {
            assertThatThrownBy(() -> set.get("spk1/utt3")).isInstanceOf(GranaryException.class)
                    .hasMessageContaining("member spk1/utt3.wav of " + victim.shard() + " is corrupt");
        }
    }

    @Test
    void verifyReportsTruncatedAndMissingShards() throws Exception {
        Manifest manifest = Manifest.read(out);
        Path first = out.resolve(manifest.shards().get(0).name());
        try (RandomAccessFile file = new RandomAccessFile(first.toFile(), "rw")) {
            file.setLength(file.length() / 2);
        }
        Files.delete(out.resolve(manifest.shards().get(1).name()));

        List<String> problems = verify().problems();

        assertThat(problems).hasSize(2);
        assertThat(problems.get(0)).startsWith(manifest.shards().get(0).name() + ": truncated");
        assertThat(problems.get(1)).isEqualTo(manifest.shards().get(1).name() + ": missing");
    }

    @Test
    void verifyNoticesDamageOutsideTheMembers() throws Exception {
        Manifest manifest = Manifest.read(out);
        Path first = out.resolve(manifest.shards().get(0).name());
        try (RandomAccessFile file = new RandomAccessFile(first.toFile(), "rw")) {
            file.seek(file.length() - 10);
            file.write(7);
        }
        assertThat(verify().problems()).singleElement().asString().contains("SHA-256").contains("differs from the manifest");
    }

    private Path craftedShard(String memberName, char type) throws Exception {
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        byte[] safe = TarHeaders.regularFile("fine.txt", 2, 0);
        tar.write(safe);
        tar.write("ok".getBytes());
        tar.write(new byte[TarHeaders.padding(2)]);
        byte[] header = TarHeaders.regularFile(memberName, 4, 0);
        if (type != '0') {
            header[header.length - 512 + 156] = (byte) type;
            rewriteChecksum(header, header.length - 512);
        }
        tar.write(header);
        tar.write("evil".getBytes());
        tar.write(new byte[TarHeaders.padding(4)]);
        tar.write(TarHeaders.endOfArchive());
        return Files.write(temp.resolve("crafted.tar"), tar.toByteArray());
    }

    private static void rewriteChecksum(byte[] block, int at) {
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (block[at + i] & 0xff);
        }
        byte[] digits = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, block, at + 148, 6);
        block[at + 154] = 0;
        block[at + 155] = ' ';
    }

    @Test
    void rejectsTarMemberEscapingRoot() throws Exception {
        Path target = temp.resolve("target");
        for (String name : List.of("../escaped.txt", "a/../../escaped.txt", "/tmp/absolute-" + temp.getFileName() + ".txt")) {
            Path shard = craftedShard(name, '0');
            assertThatThrownBy(() -> Unpacker.unpack(List.of(shard), target, Progress.silent("u", "files")))
                    .isInstanceOf(GranaryException.class).hasMessageContaining("member '" + name + "'")
                    .hasMessageContaining("would be written outside");
        }
        assertThat(Files.exists(temp.resolve("escaped.txt"))).isFalse();
        assertThat(Files.exists(Path.of("/tmp/absolute-" + temp.getFileName() + ".txt"))).isFalse();
        assertThat(Files.readString(target.resolve("fine.txt"))).isEqualTo("ok");
    }

    @Test
    void rejectsLinksInShardsAndLinksInTheTarget() throws Exception {
        Path target = Files.createDirectories(temp.resolve("target"));
        Path linkShard = craftedShard("link.wav", '2');
        assertThatThrownBy(() -> Unpacker.unpack(List.of(linkShard), target, Progress.silent("u", "files")))
                .isInstanceOf(GranaryException.class).hasMessageContaining("is a symbolic link: refused");

        Path outside = Files.createDirectories(temp.resolve("outside"));
        Files.createSymbolicLink(target.resolve("via"), outside);
        Path throughLink = craftedShard("via/planted.txt", '0');
        assertThatThrownBy(() -> Unpacker.unpack(List.of(throughLink), target, Progress.silent("u", "files")))
                .isInstanceOf(GranaryException.class).hasMessageContaining("through the symbolic link");
        try (Stream<Path> planted = Files.list(outside)) {
            assertThat(planted).isEmpty();
        }
    }
}
