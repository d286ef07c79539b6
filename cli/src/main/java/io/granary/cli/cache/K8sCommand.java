package io.granary.cli.cache;

import io.granary.cache.k8s.KubernetesSpecs;
import io.granary.cli.Subcommand;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `granary k8s ...`: Kubernetes YAML for the node cache and for training pods that mount snapshots from it. */
@Command(name = "k8s", mixinStandardHelpOptions = true,
        description = "Print Kubernetes YAML: the cache DaemonSet for GPU nodes, and training pods that mount a snapshot from their node's cache.",
        subcommands = {K8sCommand.PodSpec.class, K8sCommand.DaemonSetSpec.class})
public final class K8sCommand {

    @Command(name = "pod-spec", mixinStandardHelpOptions = true,
            description = {"A training pod: an initContainer has the node's cache daemon mount REF (staging what is missing),",
                "the trainer reads it read-only at /data/NAME, and nodes that hold the snapshot already are preferred."})
    public static final class PodSpec extends Subcommand {

        @Parameters(index = "0", paramLabel = "REF", description = "A dataset ref: NS.NAME, NS.NAME@TAG, @BRANCH or @SNAPSHOT_ID.")
        String ref;

        @Option(names = "--image", paramLabel = "IMAGE", required = true, description = "The image of the trainer (with granary in it, for the initContainer).")
        String image;

        @Option(names = "--name", paramLabel = "NAME", description = "Pod name, also the data directory /data/NAME (default: the dataset's name).")
        String name;

        @Option(names = "--namespace", paramLabel = "NS", defaultValue = "default", description = "Namespace (default: ${DEFAULT-VALUE}).")
        String namespace;

        @Override
        protected void run() {
            DatasetRef parsed = DatasetRef.parse(ref);
            io.granary.dataset.ResolvedRef resolved = context().datasets().resolve(parsed);
            long snapshotId = resolved.snapshot().map(s -> s.snapshotId()).orElseThrow(() -> new GranaryException(
                    parsed.dataset() + " has no snapshot yet", "write data into it before training on it"));
            String podName = name != null ? name : parsed.dataset().name().replace('_', '-').toLowerCase(java.util.Locale.ROOT);
            out().print(KubernetesSpecs.yaml(KubernetesSpecs.trainingPod(ref, parsed.dataset().toString(), snapshotId, image, podName, namespace)));
        }
    }

    @Command(name = "daemonset", mixinStandardHelpOptions = true,
            description = {"The DaemonSet that runs `granary serve cache` on every GPU node, its cache and views on the hostPath "
                    + KubernetesSpecs.NODE_DIR + ",", "granary.yaml from the ConfigMap " + KubernetesSpecs.CONFIG_MAP
                    + " and the token from the Secret " + KubernetesSpecs.TOKEN_SECRET + " (both optional)."})
    public static final class DaemonSetSpec extends Subcommand {

        @Option(names = "--image", paramLabel = "IMAGE", required = true, description = "An image with granary in it.")
        String image;

        @Option(names = "--namespace", paramLabel = "NS", defaultValue = "default", description = "Namespace (default: ${DEFAULT-VALUE}).")
        String namespace;

        @Override
        protected void run() {
            out().print(KubernetesSpecs.yaml(KubernetesSpecs.daemonSet(image, namespace)));
        }
    }
}
