package io.granary.cli;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `granary pack ...` through the command line: what users type, what they read, the exit codes. */
class PackCliTest {

    @TempDir
    Path dir;

    GranaryCli granary;
    Path source;
    Path shards;

    @BeforeEach
    void setUp() throws Exception {
        granary = new GranaryCli(dir.resolve("data"));
        source = dir.resolve("src");
        for (int i = 0; i < 30; i++) {
            write(source.resolve("spk" + (i % 3)), "utt" + i + ".txt", "transcript " + i);
            Files.write(source.resolve("spk" + (i % 3)).resolve("utt" + i + ".wav"), new byte[1000 + 100 * i]);
        }
        shards = dir.resolve("shards");
    }

    private GranaryCli.Run ok(String... args) {
        GranaryCli.Run run = granary.run(args);
        assertThat(run.code()).as(run.toString()).isZero();
        return run;
    }

    @Test
    void packVerifyListGetAndUnpack() throws Exception {
        assertThat(ok("pack", source.toString(), "--out", shards.toString(), "--shard-size", "16k").out())
                .contains("packed 30 samples (60 files").contains("shards");
        assertThat(ok("pack", "verify", shards.toString()).out()).startsWith("ok: ").contains("60 members");
        assertThat(ok("pack", "ls", shards.toString(), "--limit", "2").out())
                .contains("KEY").contains("spk0/utt0 ").contains("txt,wav").contains("... 28 more");
        GranaryCli.Run get = ok("pack", "get", shards.toString(), "spk1/utt4", "--out", dir.resolve("got").toString());
        assertThat(get.out()).contains("sample spk1/utt4: 2 files");
        assertThat(Files.readString(dir.resolve("got/utt4.txt"))).isEqualTo("transcript 4\n");
        assertThat(ok("pack", "unpack", shards.toString(), "--to", dir.resolve("back").toString()).out()).contains("unpacked 60 files");
        assertThat(Files.readAllBytes(dir.resolve("back/spk2/utt29.wav"))).isEqualTo(Files.readAllBytes(source.resolve("spk2/utt29.wav")));
    }

    @Test
    void aDatasetNameStandsForItsShardSet() {
        ok("pack", source.toString(), "--out", shards.toString(), "--dataset", "media.utterances");
        assertThat(ok("pack", "ls", "media.utterances").out()).contains("(dataset media.utterances)");
        assertThat(ok("dataset", "log", "media.utterances").out()).contains("pack");
    }

    @Test
    void userErrorsExitOneWithAMessageAndAHint() throws Exception {
        GranaryCli.Run noOut = granary.run("pack", source.toString());
        assertThat(noOut.code()).isEqualTo(2);
        assertThat(noOut.err()).contains("pack needs SRC_DIR and --out DIR");

        GranaryCli.Run missing = granary.run("pack", dir.resolve("nope").toString(), "--out", shards.toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("is not a directory");

        ok("pack", source.toString(), "--out", shards.toString());
        GranaryCli.Run unknownKey = granary.run("pack", "get", shards.toString(), "spk9/utt1");
        assertThat(unknownKey.code()).isEqualTo(1);
        assertThat(unknownKey.err()).contains("no sample 'spk9/utt1'").contains("granary pack ls");

        GranaryCli.Run notASet = granary.run("pack", "ls", source.toString());
        assertThat(notASet.code()).isEqualTo(1);
        assertThat(notASet.err()).contains("no shard set in");

        Path shard = shards.resolve("shard-000000.tar");
        try (RandomAccessFile file = new RandomAccessFile(shard.toFile(), "rw")) {
            file.seek(2000);
            file.write(0x55);
        }
        GranaryCli.Run damaged = granary.run("pack", "verify", shards.toString());
        assertThat(damaged.code()).isEqualTo(1);
        assertThat(damaged.out()).contains("BAD shard-000000.tar: member spk0/utt0.wav");
        assertThat(damaged.err()).contains("1 of 1 shards").contains("are damaged");
    }
}
