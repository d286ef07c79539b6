package io.granary.sample;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.sample.component.Components;
import io.granary.sample.template.Template;
import io.granary.sample.template.TemplateParser;
import io.granary.sample.template.TemplateStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Templates: the built-in ones, every mistake a template file can hold (at its line), and the template directory's versions. */
class TemplatesTest {

    @TempDir
    Path dir;

    final Components components = Components.builtIn();

    private static String template(String... nodes) {
        List<String> lines = new ArrayList<>(List.of(
                "name: mine",
                "params:",
                "  labels: {type: dataset, required: true}",
                "  rate: {type: double, default: 0.5, help: the rate}",
                "nodes:"));
        lines.addAll(List.of(nodes));
        return String.join("\n", lines) + "\n";
    }

    private GranaryException refused(String text) {
        try {
            TemplateParser.parse(text, "mine.yaml", components);
        } catch (GranaryException e) {
            return e;
        }
        throw new AssertionError("parsed without an error:\n" + text);
    }

    @Test
    void theBuiltInTemplatesParseWithTheirParameters() {
        TemplateStore store = new TemplateStore(dir, components);

        assertThat(store.list()).extracting(TemplateStore.Entry::name).containsExactly("standard-samples", "time-split-samples", "media-samples");
        Template standard = store.get("standard-samples");
        assertThat(standard.id()).isEqualTo("standard-samples@1");
        assertThat(standard.nodes()).extracting(n -> n.id()).containsExactly("extract", "profile", "features", "sample", "split", "transform",
                "stats", "write");
        assertThat(standard.param("negative_rate").orElseThrow().defaultValue()).contains(1.0);
        assertThat(standard.param("labels").orElseThrow().required()).isTrue();
        assertThat(components.names()).contains("extract", "join_profile", "join_features", "transform", "sample", "split", "stats", "write");
    }

    @Test
    void everyMistakeIsNamedAtItsLine() {
        assertThat(refused(template("  - {id: a, component: extrac, with: {dataset: \"${params.labels}\"}}")).getMessage())
                .contains("unknown component 'extrac'").contains("mine.yaml:6");
        assertThat(refused(template("  - {id: a, component: extract, with: {dataset: \"${params.labels}\", colums: [x]}}")).getMessage())
                .contains("component extract takes no argument 'colums'").contains("mine.yaml:6");
        assertThat(refused(template("  - {id: a, component: extract, with: {}}")).getMessage())
                .contains("node a leaves out argument 'dataset' of component extract");
        assertThat(refused(template("  - {id: a, component: extract, with: {dataset: \"${params.label}\"}}")).getMessage())
                .contains("unknown parameter 'label'").contains("mine.yaml:6");
        assertThat(refused(template("  - {id: a, component: extract, with: {dataset: \"${nodes.b.output}\"}}")).getMessage())
                .contains("no node 'b' in template mine");
        assertThat(refused(template("  - {id: a, component: extract, with: {dataset: \"${nodes.a.outputs}\"}}")).getMessage())
                .contains("cannot read the reference ${nodes.a.outputs}");
        assertThat(refused(template(
                "  - {id: a, component: split, with: {input: \"${nodes.b.output}\", ratios: {train: 1.0}}}",
                "  - {id: b, component: split, with: {input: \"${nodes.a.output}\", ratios: {train: 1.0}}}")).getMessage())
                .contains("nodes a -> b -> a form a cycle");
        assertThat(refused(template(
                "  - {id: a, component: extract, with: {dataset: \"${params.labels}\"}}",
                "  - {id: a, component: extract, with: {dataset: \"${params.labels}\"}}")).getMessage())
                .contains("node id 'a' is used twice");
        assertThat(refused("name: mine\nparams:\n  n: {type: int, default: many}\nnodes: []\n").getMessage())
                .contains("expected a whole number, found 'many'").contains("mine.yaml:3");
        assertThat(refused("name: mine\nparams:\n  n: {type: integer}\nnodes: []\n").getMessage()).contains("unknown parameter type 'integer'");
        assertThat(refused("name: mine\nparams:\n  n: {type: string, default: c, allowed: [a, b]}\nnodes: []\n").getMessage())
                .contains("default c is not among the allowed values [a, b]");
        assertThat(refused("name: Mine\nnodes: []\n").getMessage()).contains("illegal template name 'Mine'");
        assertThat(refused("name: mine\nnodes: []\n").getMessage()).contains("template mine has no nodes");
    }

    @Test
    void addingAChangedTemplateMakesANewVersionAndPipelinesPinOrTakeTheLatest() {
        TemplateStore store = new TemplateStore(dir.resolve("templates"), components);
        Path file = write(dir, "mine.yaml", template("  - {id: a, component: extract, with: {dataset: \"${params.labels}\"}}").split("\n"));

        TemplateStore.Added first = store.add(file);
        assertThat(first.changed()).isTrue();
        assertThat(first.template().version()).isEqualTo(1);
        assertThat(store.add(file).changed()).as("the same file again").isFalse();

        write(dir, "mine.yaml", template("  - {id: a, component: extract, with: {dataset: \"${params.labels}\", filter: \"x > 1\"}}").split("\n"));
        TemplateStore.Added second = store.add(file);
        assertThat(second.template().version()).isEqualTo(2);
        assertThat(store.get("mine").version()).isEqualTo(2);
        assertThat(store.get("mine@1").nodes().get(0).with()).doesNotContainKey("filter");
        assertThat(store.list()).filteredOn(e -> e.name().equals("mine")).singleElement()
                .satisfies(e -> assertThat(e.versions()).isEqualTo(2));

        Path stale = write(dir, "stale.yaml", ("version: 2\n" + template("  - {id: b, component: extract, with: {dataset: \"${params.labels}\"}}"))
                .split("\n"));
        assertThatThrownBy(() -> store.add(stale)).hasMessageContaining("changed but still says version 2").hasMessageContaining("stale.yaml");
        assertThatThrownBy(() -> store.get("mine@5")).hasMessageContaining("template mine has no version 5");
        Path builtIn = write(dir, "standard.yaml", "name: standard-samples", "nodes:",
                "  - {id: a, component: extract, with: {dataset: x.y}}");
        assertThatThrownBy(() -> store.add(builtIn)).hasMessageContaining("template standard-samples is built into Granary");
    }
}
