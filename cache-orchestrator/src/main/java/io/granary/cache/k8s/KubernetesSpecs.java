package io.granary.cache.k8s;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTermBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.granary.cache.daemon.DaemonSettings;
import io.granary.common.GranaryException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Kubernetes objects for a cluster of GPU nodes, built with the fabric8 model: the DaemonSet that
 * keeps a Granary cache on every GPU node's SSD, and a training pod that gets a snapshot mounted
 * read-only from its node's cache, preferring nodes that hold it already (as Fluid schedules).
 *
 * <p>The daemon sees the node's /var/lib/granary as one hostPath, the cache and the views side by
 * side on one file system, so a view's files are hard links into the cache and a pod that mounts
 * only its view reads them.
 */
public final class KubernetesSpecs {

    /** Granary's directory on every node (a hostPath on the SSD): the cache and the views of mounted snapshots. */
    public static final String NODE_DIR = "/var/lib/granary";
    public static final String NODE_CACHE = NODE_DIR + "/cache";
    public static final String NODE_VIEWS = NODE_DIR + "/views";
    /** Node label prefix saying which snapshot of a dataset a node holds: cache.granary.io/DATASET-HASH = SNAPSHOT_ID. */
    public static final String LABEL_PREFIX = "cache.granary.io/";
    /** The ConfigMap holding granary.yaml (the catalog the daemon reads), and the Secret with the daemon's token; both optional. */
    public static final String CONFIG_MAP = "granary-config";
    public static final String TOKEN_SECRET = "granary-cache-token";

    private static final String CONFIG_DIR = "/etc/granary";
    private static final String APP_LABEL = "app.kubernetes.io/name";
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final YAMLMapper YAML = new YAMLMapper();

    private KubernetesSpecs() {}

    /** The DaemonSet running `granary serve cache` on every GPU node, reachable by pods on their node's address. */
    public static DaemonSet daemonSet(String image, String namespace) {
        requireName(namespace, "namespace");
        Container daemon = new ContainerBuilder()
                .withName("granary-cache")
                .withImage(image)
                .withArgs("serve", "cache", "--host", "0.0.0.0", "--config", CONFIG_DIR + "/granary.yaml")
                .addNewPort().withName("grpc").withContainerPort(DaemonSettings.DEFAULT_PORT).withHostPort(DaemonSettings.DEFAULT_PORT).endPort()
                .addNewPort().withName("metrics").withContainerPort(DaemonSettings.DEFAULT_HTTP_PORT).endPort()
                .withEnv(new EnvVarBuilder().withName("GRANARY_CACHE_ROOT").withValue(NODE_CACHE).build(), tokenEnv())
                .addNewVolumeMount().withName("granary").withMountPath(NODE_DIR).endVolumeMount()
                .addNewVolumeMount().withName("config").withMountPath(CONFIG_DIR).withReadOnly(true).endVolumeMount()
                .withNewReadinessProbe().withNewHttpGet().withPath("/health").withNewPort("metrics").endHttpGet()
                .withPeriodSeconds(10).endReadinessProbe()
                .withNewResources()
                .addToRequests("cpu", new Quantity("500m")).addToRequests("memory", new Quantity("2Gi"))
                .addToLimits("memory", new Quantity("4Gi"))
                .endResources()
                .build();
        return new DaemonSetBuilder()
                .withNewMetadata().withName("granary-cache").withNamespace(namespace)
                .addToLabels(APP_LABEL, "granary-cache").endMetadata()
                .withNewSpec()
                .withNewSelector().addToMatchLabels(APP_LABEL, "granary-cache").endSelector()
                .withNewTemplate()
                .withNewMetadata().addToLabels(APP_LABEL, "granary-cache")
                .addToAnnotations("prometheus.io/scrape", "true")
                .addToAnnotations("prometheus.io/port", Integer.toString(DaemonSettings.DEFAULT_HTTP_PORT))
                .endMetadata()
                .withNewSpec()
                .withContainers(daemon)
                .withVolumes(new VolumeBuilder().withName("granary").withNewHostPath().withPath(NODE_DIR).withType("DirectoryOrCreate")
                                .endHostPath().build(),
                        new VolumeBuilder().withName("config").withNewConfigMap().withName(CONFIG_MAP).withOptional(true).endConfigMap().build())
                .withTolerations(gpuToleration())
                .withNewAffinity().withNewNodeAffinity().withNewRequiredDuringSchedulingIgnoredDuringExecution()
                .addNewNodeSelectorTerm().addToMatchExpressions(new NodeSelectorRequirementBuilder()
                        .withKey("nvidia.com/gpu.present").withOperator("In").withValues("true").build()).endNodeSelectorTerm()
                .endRequiredDuringSchedulingIgnoredDuringExecution().endNodeAffinity().endAffinity()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
    }

    /**
     * A training pod: its initContainer asks the node's daemon to mount the snapshot into the
     * node's views directory (staging what the cache lacks), and the training container reads
     * that view read-only at /data/NAME. Nodes labelled as holding the snapshot are preferred.
     *
     * @param snapshotId the snapshot the ref names now: the pod mounts that one (a rerun trains on
     *     the same data even if the ref moved), and prefers nodes that hold it
     */
    public static Pod trainingPod(String ref, String dataset, long snapshotId, String image, String name, String namespace) {
        requireName(name, "pod name");
        requireName(namespace, "namespace");
        String view = NODE_VIEWS + "/" + namespace + "-" + name;
        Container mount = new ContainerBuilder()
                .withName("granary-mount")
                .withImage(image)
                .withArgs("mount", dataset + "@" + snapshotId, view)
                .withEnv(new EnvVarBuilder().withName("NODE_IP").withNewValueFrom().withNewFieldRef().withFieldPath("status.hostIP")
                                .endFieldRef().endValueFrom().build(),
                        new EnvVarBuilder().withName("GRANARY_CACHE_DAEMON").withValue("$(NODE_IP):" + DaemonSettings.DEFAULT_PORT).build(),
                        tokenEnv())
                .build();
        Container trainer = new ContainerBuilder()
                .withName("train")
                .withImage(image)
                .addNewEnv().withName("GRANARY_DATA").withValue("/data/" + name).endEnv()
                .addNewVolumeMount().withName("data").withMountPath("/data/" + name).withReadOnly(true).endVolumeMount()
                .withNewResources().addToLimits("nvidia.com/gpu", new Quantity("1")).endResources()
                .build();
        return new PodBuilder()
                .withNewMetadata().withName(name).withNamespace(namespace)
                .addToLabels("app.kubernetes.io/managed-by", "granary")
                .addToAnnotations("granary.io/dataset", ref)
                .addToAnnotations("granary.io/snapshot", Long.toString(snapshotId))
                .addToAnnotations("granary.io/view", view)
                .endMetadata()
                .withNewSpec()
                .withRestartPolicy("Never")
                .withInitContainers(mount)
                .withContainers(trainer)
                // created empty by the kubelet; the daemon fills it in before the trainer starts
                .withVolumes(new VolumeBuilder().withName("data").withNewHostPath().withPath(view).withType("DirectoryOrCreate").endHostPath().build())
                .withTolerations(gpuToleration())
                .withNewAffinity().withNewNodeAffinity()
                .withPreferredDuringSchedulingIgnoredDuringExecution(new PreferredSchedulingTermBuilder()
                        .withWeight(100)
                        .withNewPreference().addToMatchExpressions(new NodeSelectorRequirementBuilder()
                                .withKey(labelKey(dataset)).withOperator("In").withValues(Long.toString(snapshotId)).build())
                        .endPreference().build())
                .endNodeAffinity().endAffinity()
                .endSpec()
                .build();
    }

    /** The node label saying a node holds a snapshot of {@code dataset} (its value is the snapshot id): readable, and unique by a hash. */
    public static String labelKey(String dataset) {
        String readable = dataset.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        String name = (readable.length() > 50 ? readable.substring(0, 50) : readable) + "-" + sha1(dataset).substring(0, 8);
        return LABEL_PREFIX + name.replaceAll("^-+", "");
    }

    /** Labels for a node holding these snapshots (dataset to snapshot id), as `granary cache node-labels` prints them. */
    public static Map<String, String> nodeLabels(Map<String, Long> snapshots) {
        Map<String, String> labels = new TreeMap<>();
        snapshots.forEach((dataset, id) -> labels.put(labelKey(dataset), Long.toString(id)));
        return labels;
    }

    public static String yaml(Object object) {
        return YAML.writeValueAsString(object);
    }

    public static <T> T parse(String yaml, Class<T> type) {
        return YAML.readValue(yaml, type);
    }

    private static EnvVar tokenEnv() {
        return new EnvVarBuilder().withName("GRANARY_CACHE_TOKEN").withNewValueFrom().withNewSecretKeyRef()
                .withName(TOKEN_SECRET).withKey("token").withOptional(true).endSecretKeyRef().endValueFrom().build();
    }

    private static List<Toleration> gpuToleration() {
        return List.of(new TolerationBuilder().withKey("nvidia.com/gpu").withOperator("Exists").withEffect("NoSchedule").build());
    }

    private static void requireName(String name, String what) {
        if (!NAME.matcher(name).matches()) {
            throw new GranaryException("'" + name + "' is not a valid Kubernetes " + what,
                    "use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters");
        }
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
