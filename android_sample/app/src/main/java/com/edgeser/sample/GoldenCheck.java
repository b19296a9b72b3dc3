package com.edgeser.sample;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Compares {@link LogMelFrontend} with golden vectors written by the NumPy reference.
 *
 * <p>A golden directory holds, per signal NAME, {@code NAME.wave.f32} (raw little-endian float32
 * samples at 16 kHz) and {@code NAME.logmel.f32} (raw little-endian float32, row-major
 * (num_frames, 64), the log-mel of the waveform zero-padded to at least 15600 samples); signals
 * are paired by file name. Works on {@code reference_preprocess/golden/} and on the
 * {@code golden/} folder of an export.
 *
 * <p>Run with only a JDK: {@code javac -d out LogMelFrontend.java GoldenCheck.java && java -cp
 * out com.edgeser.sample.GoldenCheck GOLDEN_DIR [TOLERANCE]}. Exit status 0 when every signal is
 * within the tolerance, 1 when one is not, 2 on unusable input.
 */
public final class GoldenCheck {
    /**
     * Largest accepted absolute log-mel difference (natural-log units). The measured worst case
     * is 4.8e-7, one float32 ulp at |log-mel| in [4, 8), on the reference golden vectors and on
     * full-scale tones, noise and speech; an FFT evaluated in float32 instead of double already
     * reaches 5e-4 on a full-scale tone, which this tolerance rejects.
     */
    public static final double TOLERANCE = 1e-5;

    static final String WAVE_SUFFIX = ".wave.f32";
    static final String LOG_MEL_SUFFIX = ".logmel.f32";

    private GoldenCheck() {}

    /** Comparison of one golden signal. */
    public static final class Result {
        public final String name;
        public final int numFrames;
        public final double maxAbsDiff;
        public final double meanAbsDiff;
        /** Null when the shapes agree, otherwise why they do not. */
        public final String shapeError;

        Result(String name, int numFrames, double maxAbsDiff, double meanAbsDiff, String error) {
            this.name = name;
            this.numFrames = numFrames;
            this.maxAbsDiff = maxAbsDiff;
            this.meanAbsDiff = meanAbsDiff;
            this.shapeError = error;
        }

        /** Whether the shapes agree and every difference is within {@code tolerance}. */
        public boolean passes(double tolerance) {
            return shapeError == null && maxAbsDiff <= tolerance;
        }

        /** One line: name, frame count, max and mean absolute difference. */
        public String describe() {
            if (shapeError != null) {
                return String.format(Locale.ROOT, "%-16s shape mismatch: %s", name, shapeError);
            }
            return String.format(
                    Locale.ROOT,
                    "%-16s frames=%-5d max_abs_diff=%.3e mean_abs_diff=%.3e",
                    name,
                    numFrames,
                    maxAbsDiff,
                    meanAbsDiff);
        }
    }

    /** Reads a raw little-endian float32 file. */
    public static float[] readFloat32(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        if (bytes.length % Float.BYTES != 0) {
            throw new IOException(path + ": size " + bytes.length + " is not a multiple of 4");
        }
        float[] values = new float[bytes.length / Float.BYTES];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    /**
     * Runs the frontend on {@code waveform}, zero-padded to at least MIN_SAMPLES (step 8), and
     * compares with a flat (num_frames * 64) log-mel.
     */
    public static Result compare(
            String name, float[] waveform, float[] expectedLogMel, LogMelFrontend frontend) {
        float[][] actual = frontend.waveformToLogMel(LogMelFrontend.padToMinLength(waveform));
        int bands = LogMelFrontend.NUM_MEL_BANDS;
        if (expectedLogMel.length % bands != 0) {
            String error = expectedLogMel.length + " values is not a multiple of " + bands;
            return new Result(name, actual.length, Double.NaN, Double.NaN, error);
        }
        int expectedFrames = expectedLogMel.length / bands;
        if (expectedFrames != actual.length) {
            String error = "golden has " + expectedFrames + " frames, frontend " + actual.length;
            return new Result(name, actual.length, Double.NaN, Double.NaN, error);
        }
        double max = 0.0;
        double sum = 0.0;
        for (int frame = 0; frame < actual.length; frame++) {
            for (int band = 0; band < bands; band++) {
                double diff = Math.abs(actual[frame][band] - expectedLogMel[frame * bands + band]);
                max = Math.max(max, diff); // NaN propagates, so a NaN output fails
                sum += diff;
            }
        }
        int count = actual.length * bands;
        return new Result(name, actual.length, max, count == 0 ? 0.0 : sum / count, null);
    }

    /**
     * Compares every {@code NAME.wave.f32} in {@code goldenDir} with its {@code NAME.logmel.f32}.
     *
     * @return one result per signal, sorted by name
     * @throws IOException a file cannot be read or a wave file has no log-mel partner
     */
    public static List<Result> checkDirectory(Path goldenDir, LogMelFrontend frontend)
            throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> waves = Files.newDirectoryStream(goldenDir, "*" + WAVE_SUFFIX)) {
            for (Path wave : waves) {
                String file = wave.getFileName().toString();
                names.add(file.substring(0, file.length() - WAVE_SUFFIX.length()));
            }
        }
        names.sort(null);
        List<Result> results = new ArrayList<>();
        for (String name : names) {
            Path logMelPath = goldenDir.resolve(name + LOG_MEL_SUFFIX);
            if (!Files.exists(logMelPath)) {
                throw new IOException("missing " + logMelPath + " for " + name + WAVE_SUFFIX);
            }
            float[] waveform = readFloat32(goldenDir.resolve(name + WAVE_SUFFIX));
            results.add(compare(name, waveform, readFloat32(logMelPath), frontend));
        }
        return results;
    }

    /** Usage: {@code GoldenCheck GOLDEN_DIR [TOLERANCE]}. */
    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: GoldenCheck GOLDEN_DIR [TOLERANCE]");
            System.exit(2);
        }
        Path goldenDir = Paths.get(args[0]);
        double tolerance = args.length == 2 ? Double.parseDouble(args[1]) : TOLERANCE;
        List<Result> results;
        try {
            results = checkDirectory(goldenDir, new LogMelFrontend());
        } catch (IOException e) {
            System.err.println("error: " + e);
            System.exit(2);
            return;
        }
        if (results.isEmpty()) {
            System.err.println("error: no *" + WAVE_SUFFIX + " files in " + goldenDir);
            System.exit(2);
        }
        boolean allPass = true;
        double worst = 0.0;
        for (Result result : results) {
            boolean pass = result.passes(tolerance);
            allPass &= pass;
            worst = Math.max(worst, result.maxAbsDiff);
            System.out.println(result.describe() + (pass ? "  ok" : "  FAIL"));
        }
        System.out.println(
                String.format(
                        Locale.ROOT,
                        "signals=%d max_abs_diff=%.3e tolerance=%.1e %s",
                        results.size(),
                        worst,
                        tolerance,
                        allPass ? "PASS" : "FAIL"));
        System.exit(allPass ? 0 : 1);
    }
}
