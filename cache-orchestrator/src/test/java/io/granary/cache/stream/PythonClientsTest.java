package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.granary.cache.CacheFixture;
import io.granary.cache.NodeCache;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Python client (a PyTorch IterableDataset over pyarrow.flight) and its HTTP snippet,
 * run as written against a real data server: static ranks over DoGet, a dynamic worker over
 * DoExchange that stops part way (what it did not acknowledge goes to the next reader), and the
 * HTTP stream read by pyarrow.ipc. Runs where python3 has pyarrow and torch (`.ci/run` installs
 * them from the machine's package index when it has them).
 */
class PythonClientsTest {

    @TempDir
    Path temp;

    private static boolean pythonHas(String modules) {
        try {
            Process probe = new ProcessBuilder("python3", "-c", "import " + modules).redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            return probe.waitFor(120, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The README's code block that defines {@code class GranaryStream}, as written. */
    private static String readmeSnippet() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher block = Pattern.compile("```python\n(.*?)```", Pattern.DOTALL).matcher(readme);
        while (block.find()) {
            if (block.group(1).contains("class GranaryStream")) {
                return block.group(1);
            }
        }
        throw new AssertionError("the README has no Python block defining GranaryStream");
    }

    @Test
    void theReadmesPythonClientReadsStaticRanksADynamicWorkerThatStopsAndTheHttpStream() throws Exception {
        assumeTrue(pythonHas("pyarrow.flight, torch"), "python3 with pyarrow and torch");
        try (CacheFixture fixture = new CacheFixture(temp)) {
            fixture.table("demo.events", 16, 100, 3);
            try (NodeCache cache = fixture.cache(fixture.settings("cache", 1L << 30));
                 DataServer server = new DataServer(cache, StreamSettings.defaults().withListen("127.0.0.1", 0, 0))) {
                String driver = readmeSnippet() + """

                        import sys, urllib.request, pyarrow as pa
                        location = "grpc://127.0.0.1:%d"
                        # static, world size 1 (torch.distributed not initialized): every row, through a DataLoader
                        ids = [i for batch in torch.utils.data.DataLoader(GranaryStream("demo.events", location, batch_rows=25), batch_size=None)
                               for i in batch.column("id").to_pylist()]
                        print("static", len(ids), len(set(ids)))
                        # dynamic: a worker that stops after 150 rows (one unit of 100 read and acknowledged, the next half read) ...
                        worker = GranaryStream("demo.events", location, batch_rows=25, mode="dynamic")
                        worker.set_epoch(1)
                        early = []
                        for batch in worker:
                            early += batch.column("id").to_pylist()
                            if len(early) >= 150:
                                break
                        # ... then the rest of the epoch, read by the same worker again
                        rest = [i for batch in worker for i in batch.column("id").to_pylist()]
                        print("dynamic", len(early), len(rest), len(set(rest)), len(set(early[:100]) & set(rest)), len(set(early[100:]) - set(rest)))
                        # HTTP: the Arrow IPC stream, read by pyarrow.ipc
                        with urllib.request.urlopen("http://127.0.0.1:%d/v1/stream?dataset=demo.events&rank=0&world_size=2") as response:
                            print("http", pa.ipc.open_stream(response).read_all().num_rows)
                        """.formatted(server.port(), server.httpPort());
                Path script = temp.resolve("clients.py");
                Files.writeString(script, driver);
                Process python = new ProcessBuilder("python3", script.toString()).redirectErrorStream(true).start();
                String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(python.waitFor(120, TimeUnit.SECONDS)).isTrue();
                assertThat(python.exitValue()).as(output).isZero();
                assertThat(output).contains("static 1600 1600")
                        // the acknowledged unit is not read again; the half-read one (and any leased ahead) is
                        .contains("dynamic 150 1500 1500 0 0")
                        .contains("http 800");
            }
        }
    }
}
