package io.granary.cache;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.catalog.CatalogSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * A separate process staging into a shared cache, for the tests that kill one or run two at once.
 * Args: warehouse, cache root, quota bytes, threads, rounds, mirror ("-" for none: FROM=TO), refs...
 * Each thread stages every ref in turn, {@code rounds} times; a stage refused for the quota is
 * expected when many pinned snapshots compete, anything else fails the process.
 */
public final class StageInChildProcess {

    public static void main(String[] args) throws Exception {
        Path warehouse = Path.of(args[0]);
        CacheSettings settings = CacheSettings.defaults(Path.of(args[1])).withQuota(Long.parseLong(args[2]));
        int threads = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        if (!args[5].equals("-")) {
            String[] mirror = args[5].split("=", 2);
            settings = settings.withMirrors(Map.of(mirror[0], mirror[1]));
        }
        List<DatasetRef> refs = Arrays.stream(args).skip(6).map(DatasetRef::parse).toList();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        try (Datasets datasets = Datasets.open(CatalogSettings.localHadoop(warehouse));
             NodeCache cache = new NodeCache(settings, datasets, new Configuration())) {
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int offset = t;
                Thread worker = new Thread(() -> {
                    for (int round = 0; round < rounds; round++) {
                        for (int i = 0; i < refs.size(); i++) {
                            DatasetRef ref = refs.get((i + offset) % refs.size());
                            try {
                                System.out.println("staged " + cache.stage(ref, 1, false));
                            } catch (GranaryException e) {
                                if (e.kind() == GranaryException.Kind.CONFLICT && e.getMessage().contains("quota is")) {
                                    System.out.println("refused " + e.getMessage());
                                } else {
                                    failures.add(e);
                                }
                            } catch (RuntimeException e) {
                                failures.add(e);
                            }
                        }
                    }
                });
                worker.start();
                workers.add(worker);
            }
            for (Thread worker : workers) {
                worker.join();
            }
        }
        for (Throwable failure : failures) {
            failure.printStackTrace();
        }
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
