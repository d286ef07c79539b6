package io.granary.cli.cache;

import io.granary.cache.CacheAccess;
import io.granary.cache.CacheStatus;
import io.granary.cache.k8s.KubernetesSpecs;
import io.granary.cli.Subcommand;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "node-labels", mixinStandardHelpOptions = true,
        description = {"Kubernetes node labels saying which snapshots this node's cache holds whole (cache.granary.io/DATASET-HASH=SNAPSHOT_ID),",
            "for a platform to apply: pods from `granary k8s pod-spec` prefer nodes that carry their snapshot's label."})
public final class NodeLabelsCommand extends Subcommand {

    @Option(names = "--node", paramLabel = "NODE", description = "Print `kubectl label node NODE ... --overwrite` commands instead of bare labels.")
    String node;

    @Override
    protected void run() {
        try (CacheAccess cache = context().cacheAccess()) {
            // per dataset, the snapshot staged last among those cached whole
            Map<String, Long> held = new LinkedHashMap<>();
            cache.status().snapshots().stream()
                    .filter(s -> s.cachedPercent() >= 100.0)
                    .sorted(Comparator.comparingLong(CacheStatus.SnapshotStatus::stagedMillis))
                    .forEach(s -> {
                        int at = s.key().lastIndexOf('@');
                        held.put(s.key().substring(0, at), Long.parseLong(s.key().substring(at + 1)));
                    });
            Map<String, String> labels = KubernetesSpecs.nodeLabels(held);
            if (labels.isEmpty()) {
                out().println("# no snapshot is cached whole on this node: nothing to label");
                return;
            }
            if (node == null) {
                labels.forEach((key, value) -> out().println(key + "=" + value));
                return;
            }
            StringBuilder command = new StringBuilder("kubectl label node ").append(node);
            labels.forEach((key, value) -> command.append(' ').append(key).append('=').append(value));
            out().println(command.append(" --overwrite"));
        }
    }
}
