package io.granary.cli.demo;

import io.granary.common.AtomicFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Random;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;

/**
 * Generates a small CTR data set, the same for the same seed: users (CSV), items (Parquet), and
 * two days of click events with a clicked label (day 1 as CSV, day 2 as JSON Lines). Clicks
 * follow each user's taste for categories and each item's appeal, so statistics carry signal.
 */
public final class DemoData {

    static final String[] COUNTRIES = {"de", "fr", "us", "br", "jp", "in"};
    static final String[] CATEGORIES = {"music", "news", "sports", "games", "food", "travel", "tech", "film"};

    /** The generated files and the two days they cover. */
    public record Files(Path users, Path items, Path clicksDay1, Path clicksDay2, LocalDate day1, LocalDate day2) {}

    private final int users;
    private final int items;
    private final int clicksPerDay;
    private final long seed;

    public DemoData(int users, int items, int clicksPerDay, long seed) {
        this.users = users;
        this.items = items;
        this.clicksPerDay = clicksPerDay;
        this.seed = seed;
    }

    /** Writes the files under {@code dir}; the two days are the two before {@code today}. */
    public Files write(Path dir, LocalDate today) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        Random random = new Random(seed);
        LocalDate day1 = today.minusDays(2);
        LocalDate day2 = today.minusDays(1);
        World world = world(random);
        int[] favourite = world.favourite();
        int[] category = world.category();
        double[] appeal = world.appeal();

        Path usersFile = dir.resolve("users.csv");
        AtomicFiles.write(usersFile, out -> {
            Writer w = writer(out);
            w.write("user_id,country,age_bucket,signup_date,favourite_category\n");
            for (int u = 0; u < users; u++) {
                w.write(String.format(Locale.ROOT, "%d,%s,%d,%s,%s%n", 1000 + u, COUNTRIES[random.nextInt(COUNTRIES.length)],
                        18 + 10 * random.nextInt(5), day1.minusDays(30 + random.nextInt(700)), CATEGORIES[favourite[u]]));
            }
            w.flush();
        });

        Path itemsFile = dir.resolve("items.parquet");
        writeItems(itemsFile, category, appeal, random);

        Path day1File = dir.resolve("clicks-" + day1 + ".csv");
        Path day2File = dir.resolve("clicks-" + day2 + ".jsonl");
        writeClicks(day1File, day1, false, favourite, category, appeal, new Random(seed + 1));
        writeClicks(day2File, day2, true, favourite, category, appeal, new Random(seed + 2));
        return new Files(usersFile, itemsFile, day1File, day2File, day1, day2);
    }

    /** Who likes which category, and each item's category and appeal: drawn first from the seed, the same for every day. */
    private record World(int[] favourite, int[] category, double[] appeal) {}

    private World world(Random random) {
        int[] favourite = new int[users];
        for (int u = 0; u < users; u++) {
            favourite[u] = random.nextInt(CATEGORIES.length);
        }
        int[] category = new int[items];
        double[] appeal = new double[items];
        for (int i = 0; i < items; i++) {
            category[i] = random.nextInt(CATEGORIES.length);
            appeal[i] = 0.02 + 0.18 * random.nextDouble() * random.nextDouble();
        }
        return new World(favourite, category, appeal);
    }

    /** One more day of clicks (day 3: {@code day}) as CSV, from the same users and items as {@link #write}'s. */
    public Path writeMoreClicks(Path dir, LocalDate day) throws IOException {
        World world = world(new Random(seed));
        Path file = dir.resolve("clicks-" + day + ".csv");
        writeClicks(file, day, false, world.favourite(), world.category(), world.appeal(), new Random(seed + 3));
        return file;
    }

    private void writeItems(Path file, int[] category, double[] appeal, Random random) throws IOException {
        Schema schema = new Schema(
                Types.NestedField.required(1, "item_id", Types.LongType.get()),
                Types.NestedField.optional(2, "category", Types.StringType.get()),
                Types.NestedField.optional(3, "price", Types.DoubleType.get()),
                Types.NestedField.optional(4, "quality", Types.DoubleType.get()));
        Path temporary = AtomicFiles.temporarySibling(file);
        try (FileAppender<Record> appender = Parquet.write(org.apache.iceberg.Files.localOutput(temporary.toFile()))
                .schema(schema).createWriterFunc(GenericParquetWriter::create).build()) {
            GenericRecord template = GenericRecord.create(schema);
            for (int i = 0; i < items; i++) {
                Record record = template.copy();
                record.setField("item_id", 50_000L + i);
                record.setField("category", CATEGORIES[category[i]]);
                record.setField("price", Math.round(100 * (1 + 99 * random.nextDouble())) / 100.0);
                record.setField("quality", Math.round(1000 * appeal[i] / 0.2) / 1000.0);
                appender.add(record);
            }
        }
        AtomicFiles.commit(temporary, file);
    }

    private void writeClicks(Path file, LocalDate day, boolean json, int[] favourite, int[] category, double[] appeal, Random random)
            throws IOException {
        long dayStart = day.atStartOfDay(ZoneOffset.UTC).toEpochSecond();
        AtomicFiles.write(file, out -> {
            Writer w = writer(out);
            if (!json) {
                w.write("user_id,item_id,ts,position,clicked,dwell_ms\n");
            }
            for (int c = 0; c < clicksPerDay; c++) {
                int user = (int) Math.min(users - 1, Math.abs(random.nextGaussian()) * users / 2.5);
                int item = random.nextInt(items);
                int position = 1 + random.nextInt(10);
                double p = appeal[item] * (category[item] == favourite[user] ? 3 : 1) / Math.sqrt(position);
                boolean clicked = random.nextDouble() < p;
                long second = Math.min(86_399, (long) c * 86_400 / clicksPerDay + random.nextInt(60));
                Instant ts = Instant.ofEpochSecond(dayStart + second);
                String dwell = clicked ? String.valueOf(500 + random.nextInt(60_000)) : "";
                if (json) {
                    w.write(String.format(Locale.ROOT, "{\"user_id\": %d, \"item_id\": %d, \"ts\": \"%s\", \"position\": %d, \"clicked\": %s%s}%n",
                            1000 + user, 50_000 + item, ts, position, clicked, clicked ? ", \"dwell_ms\": " + dwell : ""));
                } else {
                    w.write(String.format(Locale.ROOT, "%d,%d,%s,%d,%s,%s%n", 1000 + user, 50_000 + item, ts, position, clicked, dwell));
                }
            }
            w.flush();
        });
    }

    private static Writer writer(java.io.OutputStream out) {
        return new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
    }
}
