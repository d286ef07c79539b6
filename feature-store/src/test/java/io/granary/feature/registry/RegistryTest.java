package io.granary.feature.registry;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.catalog.CatalogSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryTest {

    @TempDir
    Path dir;

    Datasets datasets;
    Registry registry;

    static final String[] DEFINITIONS = {
        "entities:",
        "  - {name: user, join_key: user_id, value_type: INT64}",
        "feature_views:",
        "  - name: user_stats",
        "    entities: [user]",
        "    ttl: 2d",
        "    source: {dataset: demo.user_stats, timestamp_field: event_ts, created_timestamp_field: created_ts}",
        "    features:",
        "      - {name: clicks_7d, dtype: INT64}",
        "      - {name: avg_dwell, dtype: DOUBLE}",
        "feature_services:",
        "  - {name: ctr_v1, features: [user_stats:clicks_7d, user_stats:avg_dwell]}",
        "  - {name: everything, features: [user_stats]}",
    };

    @BeforeEach
    void setUp() {
        datasets = Datasets.open(CatalogSettings.localHadoop(dir.resolve("warehouse")));
        Path stats = write(dir, "stats.csv", "user_id,event_ts,created_ts,clicks_7d,avg_dwell,country",
                "1,2026-11-27T00:00:00Z,2026-11-27T01:00:00Z,5,1.5,de");
        datasets.create(DatasetName.parse("demo.user_stats"), List.of(stats), Optional.empty(), List.of(), WriteOptions.defaults(),
                Provenance.of("test", List.of()));
        registry = new Registry(dir.resolve("registry"));
    }

    @AfterEach
    void tearDown() throws Exception {
        datasets.close();
    }

    private Definitions definitions(String name, String... lines) {
        return Definitions.parse(write(dir, name, lines));
    }

    private RegistryState apply(Definitions definitions) {
        DefinitionChecker.check(definitions, registry.load(), datasets);
        return registry.apply(definitions);
    }

    @Test
    void applyingTheSameFileTwiceChangesNothing() {
        RegistryState first = apply(definitions("features.yaml", DEFINITIONS));
        assertThat(first.generation()).isEqualTo(1);
        assertThat(first.featureViews().get("user_stats").version()).isEqualTo(1);
        assertThat(first.featureView("user_stats").ttlSeconds()).isEqualTo(2 * 86_400);
        assertThat(first.featureView("user_stats").source().createdTimestamp()).contains("created_ts");

        RegistryState second = apply(definitions("features.yaml", DEFINITIONS));

        assertThat(second.generation()).isEqualTo(1);
        assertThat(registry.plan(definitions("features.yaml", DEFINITIONS))).allMatch(c -> c.action() == Change.Action.UNCHANGED);
        assertThat(registry.generation()).isEqualTo(1);
    }

    @Test
    void aChangedDefinitionGetsANewVersionAndTheOldStaysReadable() {
        apply(definitions("features.yaml", DEFINITIONS));
        String[] changed = DEFINITIONS.clone();
        changed[5] = "    ttl: 3d";
        changed[9] = "      - {name: country, dtype: STRING}";
        changed[11] = "  - {name: ctr_v1, features: [user_stats:clicks_7d]}";

        List<Change> plan = registry.plan(definitions("changed.yaml", changed));
        Change view = plan.stream().filter(c -> c.kind() == Kind.FEATURE_VIEW).findFirst().orElseThrow();
        assertThat(view.action()).isEqualTo(Change.Action.CHANGE);
        assertThat(view.details()).containsExactly("ttl 2d -> 3d", "feature country STRING added", "feature avg_dwell removed");
        assertThat(view.toString()).startsWith("~ feature view user_stats (v1 -> v2)");

        RegistryState state = apply(definitions("changed.yaml", changed));

        assertThat(state.generation()).isEqualTo(2);
        assertThat(state.featureViews().get("user_stats").version()).isEqualTo(2);
        assertThat(state.featureView("user_stats").featureNames()).containsExactly("clicks_7d", "country");
        List<Versioned<?>> history = registry.history(Kind.FEATURE_VIEW, "user_stats");
        assertThat(history).extracting(Versioned::version).containsExactly(1, 2);
        assertThat(((FeatureView) history.get(0).value()).ttlSeconds()).isEqualTo(2 * 86_400);
        assertThat(state.entities().get("user").version()).as("unchanged objects keep their version").isEqualTo(1);
        assertThat(state.featureServices().get("ctr_v1").version()).isEqualTo(2);
    }

    @Test
    void featuresAndServicesResolveAndUnknownNamesAreNamed() {
        RegistryState state = apply(definitions("features.yaml", DEFINITIONS));

        assertThat(state.resolveService("ctr_v1")).extracting(FeatureRef::toString).containsExactly("user_stats:clicks_7d", "user_stats:avg_dwell");
        assertThat(state.resolveService("everything")).hasSize(2);
        assertThat(state.joinKeys(state.featureView("user_stats"))).containsExactly("user_id");
        assertThatThrownBy(() -> state.resolve(List.of("user_stats:clicks_7x")))
                .isInstanceOf(GranaryException.class).hasMessage("unknown feature 'user_stats:clicks_7x'")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("clicks_7d, avg_dwell"))
                .satisfies(e -> assertThat(((GranaryException) e).kind()).isEqualTo(GranaryException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> state.resolve(List.of("item_stats:ctr"))).hasMessage("unknown feature view 'item_stats'");
        assertThatThrownBy(() -> state.resolveService("ctr_v2")).hasMessage("unknown feature service 'ctr_v2'");
        assertThatThrownBy(() -> state.resolve(List.of("clicks_7d"))).hasMessageContaining("invalid feature reference 'clicks_7d'");
    }

    private void assertRefused(String file, String expectedMessage, String... lines) {
        Path path = write(dir, file, lines);
        assertThatThrownBy(() -> apply(Definitions.parse(path)))
                .isInstanceOf(GranaryException.class)
                .hasMessageContaining(expectedMessage);
        assertThat(registry.generation()).as("nothing applied").isZero();
    }

    @Test
    void validationErrorsNameFileLineAndFix() {
        String[] unknownEntity = DEFINITIONS.clone();
        unknownEntity[4] = "    entities: [usr]";
        assertRefused("e1.yaml", "feature view 'user_stats' names unknown entity 'usr' (feature_views[0] at " + dir.resolve("e1.yaml") + ":4)", unknownEntity);

        String[] missingDataset = DEFINITIONS.clone();
        missingDataset[6] = "    source: {dataset: demo.nope, timestamp_field: event_ts}";
        assertRefused("e2.yaml", "source unknown dataset demo.nope", missingDataset);

        String[] missingColumn = DEFINITIONS.clone();
        missingColumn[8] = "      - {name: clicks_30d, dtype: INT64}";
        assertRefused("e3.yaml", "feature 'clicks_30d' is not a column of demo.user_stats", missingColumn);

        String[] wrongType = DEFINITIONS.clone();
        wrongType[9] = "      - {name: country, dtype: INT64}";
        assertRefused("e4.yaml", "feature country is string in demo.user_stats, which cannot be served as INT64", wrongType);

        String[] notTimestamp = DEFINITIONS.clone();
        notTimestamp[6] = "    source: {dataset: demo.user_stats, timestamp_field: clicks_7d}";
        assertRefused("e5.yaml", "timestamp_field clicks_7d is long, not a timestamp", notTimestamp);

        String[] wrongKeyType = DEFINITIONS.clone();
        wrongKeyType[1] = "  - {name: user, join_key: user_id, value_type: STRING}";
        assertRefused("e6.yaml", "join key user_id is long in demo.user_stats, but entity 'user' is STRING", wrongKeyType);

        String[] unknownServiceFeature = DEFINITIONS.clone();
        unknownServiceFeature[11] = "  - {name: ctr_v1, features: [user_stats:ctr]}";
        assertRefused("e7.yaml", "feature service 'ctr_v1' names unknown feature 'user_stats:ctr'", unknownServiceFeature);
    }

    @Test
    void malformedDefinitionsAreRefusedAtTheirLine() {
        Path duplicate = write(dir, "dup.yaml", "entities:", "  - {name: user, join_key: user_id, value_type: INT64}",
                "  - {name: user, join_key: uid, value_type: INT64}");
        assertThatThrownBy(() -> Definitions.parse(duplicate))
                .hasMessageContaining("entity 'user' is defined twice (first at " + duplicate + ":2)").hasMessageContaining(duplicate + ":3");

        Path badType = write(dir, "type.yaml", "entities:", "  - {name: user, value_type: INT46}");
        assertThatThrownBy(() -> Definitions.parse(badType)).hasMessageContaining("unknown value type 'INT46'").hasMessageContaining(badType + ":2");

        Path unknownKey = write(dir, "key.yaml", "entities:", "  - {name: user, value_type: INT64, joinkey: uid}");
        assertThatThrownBy(() -> Definitions.parse(unknownKey)).hasMessageContaining("unknown key 'joinkey'").hasMessageContaining(unknownKey + ":2")
                .satisfies(e -> assertThat(((GranaryException) e).hint()).contains("join_key"));

        String[] badTtl = DEFINITIONS.clone();
        badTtl[5] = "    ttl: two days";
        Path ttl = write(dir, "ttl.yaml", badTtl);
        assertThatThrownBy(() -> Definitions.parse(ttl)).hasMessageContaining("invalid duration 'two days'").hasMessageContaining(ttl + ":6");

        Path notYaml = write(dir, "broken.yaml", "entities:", "  - {name: user", "feature_views: []");
        assertThatThrownBy(() -> Definitions.parse(notYaml)).hasMessageContaining("malformed YAML at " + notYaml);

        Path empty = write(dir, "empty.yaml", "");
        assertThatThrownBy(() -> Definitions.parse(empty)).hasMessageContaining("no definitions in");
    }
}
