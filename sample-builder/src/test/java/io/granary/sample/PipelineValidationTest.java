package io.granary.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Everything a config can get wrong is refused before anything runs, naming the file, the line and the fix. */
class PipelineValidationTest {

    @TempDir
    Path dir;

    SampleFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new SampleFixture(dir);
        fixture.ctrData(10, 1);
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    /** The error planning a standard-samples config gives with these params lines replacing or adding to the defaults. */
    private GranaryException refused(String... params) {
        Path config = fixture.ctrConfig(params);
        try {
            fixture.plan(config);
        } catch (GranaryException e) {
            return e;
        }
        throw new AssertionError("planned without an error: " + List.of(params));
    }

    /** "file:N" of the config line that starts with {@code prefix}. */
    private static String lineOf(Path config, String prefix) throws Exception {
        List<String> lines = Files.readAllLines(config);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().startsWith(prefix)) {
                return config + ":" + (i + 1);
            }
        }
        throw new AssertionError(prefix + " not in " + config);
    }

    @Test
    void aWrongParameterIsNamedAtItsLine() throws Exception {
        Path config = fixture.ctrConfig("negative_rate: lots");
        assertThatThrownBy(() -> fixture.plan(config)).isInstanceOf(GranaryException.class)
                .hasMessageContaining("parameter negative_rate: expected a number, found 'lots'")
                .hasMessageContaining(lineOf(config, "negative_rate:"));

        Path unknown = fixture.ctrConfig("negativ_rate: 0.1");
        assertThatThrownBy(() -> fixture.plan(unknown)).hasMessageContaining("unknown parameter 'negativ_rate' for template standard-samples@1")
                .hasMessageContaining(lineOf(unknown, "negativ_rate:"))
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("negative_rate"));
    }

    @Test
    void aMissingRequiredParameterIsNamedWithItsHelp() {
        Path config = fixture.config("template: standard-samples", "params:", "  labels: " + fixture.ns + ".labels");
        assertThatThrownBy(() -> fixture.plan(config)).hasMessageContaining("parameter 'label_column' of template standard-samples@1 is required")
                .hasMessageContaining(config.toString())
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("add label_column:").contains("the label"));
    }

    @Test
    void unknownTemplatesDatasetsColumnsAndFeaturesAreNamed() throws Exception {
        Path template = fixture.config("template: standard-sampels", "params: {}");
        assertThatThrownBy(() -> fixture.plan(template)).hasMessageContaining("unknown template 'standard-sampels'")
                .hasMessageContaining(lineOf(template, "template:"))
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("standard-samples"));
        assertThatThrownBy(() -> fixture.plan(fixture.config("template: standard-samples@7", "params: {}")))
                .hasMessageContaining("built-in template standard-samples has no version 7");

        GranaryException dataset = refused("labels: " + fixture.ns + ".lables");
        assertThat(dataset.getMessage()).contains("parameter labels: ").contains(fixture.ns + ".lables").contains("(params.labels)");

        GranaryException column = refused("label_column: clickd");
        assertThat(column.getMessage()).contains("label_column: unknown column 'clickd'").contains("(params.label_column)");
        assertThat(column.hint()).contains("clicked");

        GranaryException filter = refused("filter: \"countryy = 'us'\"");
        assertThat(filter.getMessage()).contains("node extract, filter: unknown column 'countryy'");

        GranaryException feature = refused("features: [user_daily:clickz]");
        assertThat(feature.getMessage()).contains("parameter features: ").contains("clickz").contains("(params.features)");
    }

    @Test
    void valuesComponentsRefuseAreNamedWhereTheyWereSet() {
        GranaryException split = refused("split: {train: 0.5, test: 0.2}");
        assertThat(split.getMessage()).contains("node split, ratios: the shares add up to 0.7, not 1").contains("(params.split)");

        GranaryException by = refused("split: {train: 0.5, test: 0.5, by: usr}");
        assertThat(by.getMessage()).contains("unknown column 'usr'");

        GranaryException rate = refused("negative_rate: 1.5");
        assertThat(rate.getMessage()).contains("node sample, negative_rate: rate 1.5 is not in (0, 1]");

        GranaryException transform = refused("transforms: {z: {op: standardise, column: position}}");
        assertThat(transform.getMessage()).contains("z: unknown op 'standardise'");

        GranaryException bounds = refused("bounds: {rows: 1000}");
        assertThat(bounds.getMessage()).contains("bound of 'rows' is not {min: NUMBER, max: NUMBER}");
    }

    @Test
    void malformedConfigsAndForcedNodesThatDoNotExistAreRefused() {
        Path broken = fixture.config("template: standard-samples", "params:", "  labels: [unclosed");
        assertThatThrownBy(() -> fixture.plan(broken)).hasMessageContaining("malformed YAML at " + broken);
        Path badName = io.granary.dataset.testing.TestFiles.write(dir, "bad.yaml", "pipeline: Bad-Name", "template: standard-samples");
        assertThatThrownBy(() -> fixture.plan(badName)).hasMessageContaining("illegal pipeline name 'Bad-Name'");
        Path extraKey = fixture.config("template: standard-samples", "parms: {}");
        assertThatThrownBy(() -> fixture.plan(extraKey)).hasMessageContaining("unknown key 'parms'");
        assertThatThrownBy(() -> fixture.plan(fixture.ctrConfig(), "splitt")).hasMessageContaining("--force names no node of template "
                + "standard-samples: 'splitt'");
        assertThatThrownBy(() -> fixture.plan(dir.resolve("missing.yaml"))).hasMessageContaining("file not found");
    }
}
