package io.granary.cli.feature;

import feast.proto.serving.ServingAPIProto.FeatureList;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesRequest;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.types.ValueProto.RepeatedValue;
import feast.proto.types.ValueProto.Value;
import io.granary.cli.Subcommand;
import io.granary.cli.output.Formats;
import io.granary.cli.output.TextTable;
import io.granary.common.GranaryException;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.registry.Entity;
import io.granary.feature.registry.RegistryState;
import io.granary.feature.serving.OnlineFeatures;
import java.time.Clock;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "get", mixinStandardHelpOptions = true,
        description = "Look up online features for some entities, as a model server would, and print them as a table.")
public final class GetCommand extends Subcommand {

    @ArgGroup(exclusive = true, multiplicity = "1")
    FeatureSelection what;

    @Option(names = "--entity", required = true, paramLabel = "KEY=V1,V2", description = "Entity key values, e.g. user_id=1001,1002; repeat for more keys.")
    List<String> entities;

    @Option(names = "--full-names", description = "Name columns VIEW__FEATURE.")
    boolean fullNames;

    @Override
    protected void run() {
        RegistryState registry = context().registry().load();
        GetOnlineFeaturesRequest.Builder request = GetOnlineFeaturesRequest.newBuilder().setFullFeatureNames(fullNames);
        what.resolve(registry);
        if (what.service != null) {
            request.setFeatureService(what.service);
        } else {
            request.setFeatures(FeatureList.newBuilder().addAllVal(what.features));
        }
        for (String entity : entities) {
            int equals = entity.indexOf('=');
            if (equals <= 0) {
                throw new GranaryException("--entity '" + entity + "' is not KEY=VALUES", "e.g. --entity user_id=1001,1002");
            }
            String joinKey = entity.substring(0, equals);
            Entity definition = registry.entities().values().stream().map(v -> v.value()).filter(e -> e.joinKey().equals(joinKey))
                    .findFirst().orElseThrow(() -> GranaryException.notFound("no entity has join key '" + joinKey + "'",
                            "join keys: " + String.join(", ", registry.entities().values().stream().map(v -> v.value().joinKey()).sorted().toList())));
            RepeatedValue.Builder column = RepeatedValue.newBuilder();
            for (String text : entity.substring(equals + 1).split(",")) {
                column.addVal(value(text.trim(), definition));
            }
            request.putEntities(joinKey, column.build());
        }
        try (OnlineStore store = context().config().featureStore().onlineStore().openReader()) {
            GetOnlineFeaturesResponse response = new OnlineFeatures(() -> registry, store, Clock.systemUTC(), (view, keys) -> { })
                    .get(request.build());
            print(response);
        }
    }

    private static Value value(String text, Entity entity) {
        return switch (entity.valueType()) {
            case INT64, INT32 -> {
                try {
                    yield Value.newBuilder().setInt64Val(Long.parseLong(text)).build();
                } catch (NumberFormatException e) {
                    throw new GranaryException("'" + text + "' is not a value of " + entity.joinKey() + " (" + entity.valueType() + ")", "give whole numbers");
                }
            }
            case BOOL -> Value.newBuilder().setBoolVal(Boolean.parseBoolean(text)).build();
            default -> Value.newBuilder().setStringVal(text).build();
        };
    }

    private void print(GetOnlineFeaturesResponse response) {
        List<String> names = response.getMetadata().getFeatureNames().getValList();
        TextTable table = new TextTable(names.toArray(String[]::new));
        int rows = response.getResultsCount() == 0 ? 0 : response.getResults(0).getValuesCount();
        for (int r = 0; r < rows; r++) {
            Object[] cells = new Object[names.size()];
            for (int c = 0; c < names.size(); c++) {
                GetOnlineFeaturesResponse.FeatureVector vector = response.getResults(c);
                FieldStatus status = vector.getStatuses(r);
                cells[c] = status == FieldStatus.PRESENT ? Formats.featureValue(vector.getValues(r)) : status.name();
            }
            table.add(cells);
        }
        table.print(out());
    }

}
