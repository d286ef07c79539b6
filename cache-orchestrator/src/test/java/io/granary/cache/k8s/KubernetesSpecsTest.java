package io.granary.cache.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.granary.common.GranaryException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The YAML `granary k8s` prints, read back into the fabric8 model. */
class KubernetesSpecsTest {

    @Test
    void aTrainingPodMountsTheSnapshotThroughItsNodesDaemonAndPrefersNodesThatHoldIt() {
        String yaml = KubernetesSpecs.yaml(KubernetesSpecs.trainingPod("demo.speech@v1", "demo.speech", 42L, "acme/train:3", "asr-run-7", "ml"));
        Pod pod = KubernetesSpecs.parse(yaml, Pod.class);

        assertThat(pod.getKind()).isEqualTo("Pod");
        assertThat(pod.getApiVersion()).isEqualTo("v1");
        assertThat(pod.getMetadata().getName()).isEqualTo("asr-run-7");
        assertThat(pod.getMetadata().getNamespace()).isEqualTo("ml");
        assertThat(pod.getMetadata().getAnnotations()).containsEntry("granary.io/dataset", "demo.speech@v1").containsEntry("granary.io/snapshot", "42");
        PodSpec spec = pod.getSpec();

        Container init = spec.getInitContainers().get(0);
        String view = "/var/lib/granary/views/ml-asr-run-7";
        assertThat(init.getArgs()).containsExactly("mount", "demo.speech@42", view);
        assertThat(init.getEnv()).extracting(EnvVar::getName).containsExactly("NODE_IP", "GRANARY_CACHE_DAEMON", "GRANARY_CACHE_TOKEN");
        assertThat(init.getEnv().get(0).getValueFrom().getFieldRef().getFieldPath()).isEqualTo("status.hostIP");
        assertThat(init.getEnv().get(1).getValue()).isEqualTo("$(NODE_IP):7070");
        assertThat(init.getEnv().get(2).getValueFrom().getSecretKeyRef().getOptional()).isTrue();

        Container trainer = spec.getContainers().get(0);
        assertThat(trainer.getImage()).isEqualTo("acme/train:3");
        VolumeMount data = trainer.getVolumeMounts().get(0);
        assertThat(data.getMountPath()).isEqualTo("/data/asr-run-7");
        assertThat(data.getReadOnly()).isTrue();
        Volume volume = spec.getVolumes().stream().filter(v -> v.getName().equals(data.getName())).findFirst().orElseThrow();
        assertThat(volume.getHostPath().getPath()).isEqualTo(view);

        NodeSelectorRequirement preferred = spec.getAffinity().getNodeAffinity().getPreferredDuringSchedulingIgnoredDuringExecution().get(0)
                .getPreference().getMatchExpressions().get(0);
        assertThat(preferred.getKey()).isEqualTo(KubernetesSpecs.labelKey("demo.speech"));
        assertThat(preferred.getOperator()).isEqualTo("In");
        assertThat(preferred.getValues()).containsExactly("42");
        assertThat(spec.getTolerations()).anySatisfy(t -> assertThat(t.getKey()).isEqualTo("nvidia.com/gpu"));
    }

    @Test
    void theDaemonSetRunsTheCacheDaemonOnGpuNodesWithTheNodesDirectory() {
        DaemonSet daemonSet = KubernetesSpecs.parse(KubernetesSpecs.yaml(KubernetesSpecs.daemonSet("acme/granary:0.1", "granary")), DaemonSet.class);

        assertThat(daemonSet.getApiVersion()).isEqualTo("apps/v1");
        assertThat(daemonSet.getMetadata().getNamespace()).isEqualTo("granary");
        assertThat(daemonSet.getSpec().getSelector().getMatchLabels()).isEqualTo(daemonSet.getSpec().getTemplate().getMetadata().getLabels());
        PodSpec spec = daemonSet.getSpec().getTemplate().getSpec();
        Container daemon = spec.getContainers().get(0);
        assertThat(daemon.getArgs()).startsWith("serve", "cache", "--host", "0.0.0.0");
        assertThat(daemon.getPorts()).anySatisfy(p -> {
            assertThat(p.getContainerPort()).isEqualTo(7070);
            assertThat(p.getHostPort()).isEqualTo(7070);
        });
        assertThat(daemon.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("GRANARY_CACHE_ROOT");
            assertThat(e.getValue()).isEqualTo(KubernetesSpecs.NODE_CACHE);
        });
        // the cache and the views in one mount, so views are hard links into the cache
        assertThat(daemon.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo(KubernetesSpecs.NODE_DIR));
        assertThat(spec.getVolumes()).anySatisfy(v -> assertThat(v.getHostPath().getPath()).isEqualTo(KubernetesSpecs.NODE_DIR));
        assertThat(spec.getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0)
                .getMatchExpressions().get(0).getKey()).isEqualTo("nvidia.com/gpu.present");
    }

    @Test
    void nodeLabelsAreValidKubernetesLabelsAndTellDatasetsApart() {
        Map<String, String> labels = KubernetesSpecs.nodeLabels(Map.of("demo.speech", 42L, "demo.Speech", 7L,
                "a_very_long_namespace_name.with_a_very_long_dataset_name_that_goes_on", 1L));
        assertThat(labels).hasSize(3);
        for (String key : labels.keySet()) {
            String name = key.substring(KubernetesSpecs.LABEL_PREFIX.length());
            assertThat(key).startsWith("cache.granary.io/");
            assertThat(name).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
        }
        assertThat(labels).containsEntry(KubernetesSpecs.labelKey("demo.speech"), "42");
    }

    @Test
    void badNamesAreRefused() {
        assertThatThrownBy(() -> KubernetesSpecs.trainingPod("demo.speech", "demo.speech", 1L, "img", "Bad_Name", "default"))
                .isInstanceOf(GranaryException.class).hasMessageContaining("'Bad_Name' is not a valid Kubernetes pod name");
        assertThatThrownBy(() -> KubernetesSpecs.daemonSet("img", "-ns"))
                .isInstanceOf(GranaryException.class).hasMessageContaining("not a valid Kubernetes namespace");
    }
}
