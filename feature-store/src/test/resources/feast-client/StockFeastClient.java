import dev.feast.FeastClient;
import dev.feast.Row;
import java.util.List;

/**
 * Calls a feature server with Feast's own Java client (dev.feast:feast-serving-client), unchanged,
 * and prints what it understood, one line per entity row, for FeastJavaClientTest to check.
 */
public class StockFeastClient {
    public static void main(String[] args) throws Exception {
        try (FeastClient client = FeastClient.create("127.0.0.1", Integer.parseInt(args[0]))) {
            System.out.println("VERSION " + client.getFeastServingInfo().getVersion());
            List<Row> rows = client.getOnlineFeatures(
                    List.of("user_stats:clicks", "user_stats:dwell"),
                    List.of(Row.create().set("user_id", 1L), Row.create().set("user_id", 2L), Row.create().set("user_id", 3L)));
            for (Row row : rows) {
                System.out.println("ROW user_id=" + row.getLong("user_id")
                        + " clicks=" + row.getLong("clicks") + " " + row.getStatus("clicks")
                        + " dwell=" + row.getDouble("dwell") + " " + row.getStatus("dwell"));
            }
            try {
                client.getOnlineFeatures(List.of("user_stats:nope"), List.of(Row.create().set("user_id", 1L)));
                System.out.println("UNKNOWN accepted");
            } catch (io.grpc.StatusRuntimeException e) {
                System.out.println("UNKNOWN " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
            }
        }
    }
}
