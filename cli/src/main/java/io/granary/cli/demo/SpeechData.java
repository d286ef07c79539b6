package io.granary.cli.demo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

/**
 * The demo's media: short WAV recordings (16 kHz mono PCM tones of 0.1-0.5 s, computed here)
 * with a JSON sidecar each, under spkNN/uttNNNN, and a CSV of per-sample labels for the index.
 */
public final class SpeechData {

    private static final int SAMPLE_RATE = 16_000;
    private static final String[] WORDS = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};

    private final int speakers;
    private final long seed;

    public SpeechData(int speakers, long seed) {
        this.speakers = speakers;
        this.seed = seed;
    }

    /** Writes utterances {@code first} to {@code first + count - 1} of every speaker; returns the labels CSV. */
    public Path write(Path root, int first, int count) throws IOException {
        Random random = new Random(seed + first);
        StringBuilder labels = new StringBuilder("key,speaker,word,duration_s\n");
        for (int s = 0; s < speakers; s++) {
            Path dir = Files.createDirectories(root.resolve(String.format("spk%02d", s)));
            for (int u = first; u < first + count; u++) {
                String word = WORDS[random.nextInt(WORDS.length)];
                double seconds = 0.1 + 0.4 * random.nextDouble();
                double frequency = 200 + 40 * s + 20 * random.nextDouble();
                String name = String.format("utt%04d", u);
                Files.write(dir.resolve(name + ".wav"), wav(frequency, seconds));
                Files.writeString(dir.resolve(name + ".json"), String.format(Locale.ROOT,
                        "{\"speaker\": \"spk%02d\", \"text\": \"%s\", \"tone_hz\": %.1f}%n", s, word, frequency));
                labels.append(String.format(Locale.ROOT, "spk%02d/%s,spk%02d,%s,%.3f%n", s, name, s, word, seconds));
            }
        }
        Path csv = root.resolveSibling(root.getFileName() + "-labels-" + first + ".csv");
        Files.writeString(csv, labels);
        return csv;
    }

    /** A RIFF/WAVE file: 16-bit mono PCM of a sine tone with a short fade in and out. */
    static byte[] wav(double frequency, double seconds) {
        int samples = (int) (SAMPLE_RATE * seconds);
        ByteBuffer bytes = ByteBuffer.allocate(44 + 2 * samples).order(ByteOrder.LITTLE_ENDIAN);
        bytes.put("RIFF".getBytes()).putInt(36 + 2 * samples).put("WAVE".getBytes());
        bytes.put("fmt ".getBytes()).putInt(16).putShort((short) 1).putShort((short) 1)
                .putInt(SAMPLE_RATE).putInt(SAMPLE_RATE * 2).putShort((short) 2).putShort((short) 16);
        bytes.put("data".getBytes()).putInt(2 * samples);
        int fade = SAMPLE_RATE / 100;
        for (int i = 0; i < samples; i++) {
            double envelope = Math.min(1, Math.min(i, samples - 1 - i) / (double) fade);
            bytes.putShort((short) (12_000 * envelope * Math.sin(2 * Math.PI * frequency * i / SAMPLE_RATE)));
        }
        return bytes.array();
    }
}
