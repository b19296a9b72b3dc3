package com.edgeser.sample;

/**
 * Which windows of a recording are silence, and the clip average without them: the rule of
 * reference_preprocess/SPEC.md, "Silent windows (clip aggregation)". Plain Java, no Android
 * dependencies.
 *
 * <p>A window's {@link Levels} are read from its log-mel patch: its level (the mean of the
 * patch), its peak (its loudest frame, in dB) and its ends level (the smaller of the loudest of
 * its first {@link LogMelFrontend#SPEECH_EDGE_FRAMES} frames and the loudest of its last ones,
 * in dB). A frame's level in dB is {@code 20 log10(max(sum_b (exp(logmel[b]) - 0.01), 1e-9))},
 * computed in double precision. A window is silence when
 *
 * <ul>
 *   <li>its level is more than {@link LogMelFrontend#SILENCE_LEVEL_DROP} below the loudest
 *       window's level (the level rule), or
 *   <li>its ends level is more than {@link LogMelFrontend#SPEECH_FRAME_DROP_DB} below the
 *       loudest peak, the loudest frame of all windows (the ends rule): one of its ends holds no
 *       frame within 30 dB of the loudest frame, so it is the start or the end of an utterance,
 *       mostly silence.
 * </ul>
 *
 * <p>On a whole clip ({@link #silent(Levels[])}), if the two rules together leave no window,
 * only the level rule applies, so a clip always keeps at least its loudest window. A live stream
 * ({@link Live}) compares each window with the loudest level and the loudest peak heard so far,
 * without that fallback.
 */
public final class SilenceRule {
    /**
     * The spec's log offset in double precision: a frame's level removes it from each mel
     * magnitude in float64, as the reference does ({@link LogMelFrontend#LOG_OFFSET} is the
     * float32 value the log-mel adds).
     */
    static final double LOG_OFFSET = 0.01;
    /** Floor of a frame's summed mel magnitudes before the log (-180 dB). */
    static final double MIN_FRAME_MAGNITUDE = 1e-9;

    private SilenceRule() {}

    /** What the rule reads from one window ({@link #levels(float[])}). */
    public static final class Levels {
        /** The mean of the window's log-mel patch (natural-log units). */
        public final double level;
        /** The quieter end's loudest frame, in dB: the ends rule compares it with the peak. */
        public final double endsDb;
        /** The window's loudest frame, in dB. */
        public final double peakDb;

        public Levels(double level, double endsDb, double peakDb) {
            this.level = level;
            this.endsDb = endsDb;
            this.peakDb = peakDb;
        }

        @Override
        public String toString() {
            return "Levels(level=" + level + ", endsDb=" + endsDb + ", peakDb=" + peakDb + ")";
        }
    }

    /**
     * The rule on a live stream: each window against the loudest window level and the loudest
     * frame heard so far, the window itself included (no fallback: any window may be silence).
     */
    public static final class Live {
        private double loudest = Double.NEGATIVE_INFINITY;
        private double loudestPeakDb = Double.NEGATIVE_INFINITY;

        /** Whether the window of these {@link Levels} is silence; remembers its level and peak. */
        public boolean isSilent(Levels window) {
            loudest = Math.max(loudest, window.level);
            loudestPeakDb = Math.max(loudestPeakDb, window.peakDb);
            return SilenceRule.isSilent(window, loudest, loudestPeakDb);
        }

        /** Forgets the loudest level and peak (call when recording restarts). */
        public void reset() {
            loudest = Double.NEGATIVE_INFINITY;
            loudestPeakDb = Double.NEGATIVE_INFINITY;
        }
    }

    /**
     * The levels of one window, all summed in double precision.
     *
     * @param patch the window's log-mel patch, {@link LogMelFrontend#PATCH_FRAMES} frames of
     *     {@link LogMelFrontend#NUM_MEL_BANDS} bands, frame after frame (the row-major order of
     *     {@link LogMelFrontend#waveformToPatches(float[])}'s patches)
     */
    public static Levels levels(float[] patch) {
        int frames = LogMelFrontend.PATCH_FRAMES;
        int bands = LogMelFrontend.NUM_MEL_BANDS;
        if (patch.length != frames * bands) {
            throw new IllegalArgumentException(
                    "expected a patch of " + frames + " x " + bands + " values, got "
                            + patch.length);
        }
        double sum = 0.0;
        double[] frameDb = new double[frames];
        for (int frame = 0; frame < frames; frame++) {
            double magnitude = 0.0;
            for (int band = 0; band < bands; band++) {
                float value = patch[frame * bands + band];
                sum += value;
                magnitude += Math.exp(value) - LOG_OFFSET;
            }
            frameDb[frame] = 20 * Math.log10(Math.max(magnitude, MIN_FRAME_MAGNITUDE));
        }
        int edge = Math.min(LogMelFrontend.SPEECH_EDGE_FRAMES, frames);
        double first = loudestDb(frameDb, 0, edge);
        double last = loudestDb(frameDb, frames - edge, frames);
        return new Levels(sum / patch.length, Math.min(first, last), loudestDb(frameDb, 0, frames));
    }

    /**
     * {@code silent[i]} is true when window {@code i} is silence among the windows of one clip:
     * against the clip's loudest level and loudest peak; where that would leave no window, by
     * the level rule alone.
     */
    public static boolean[] silent(Levels[] windows) {
        double loudest = Double.NEGATIVE_INFINITY;
        double loudestPeakDb = Double.NEGATIVE_INFINITY;
        for (Levels window : windows) {
            loudest = Math.max(loudest, window.level);
            loudestPeakDb = Math.max(loudestPeakDb, window.peakDb);
        }
        boolean[] silent = new boolean[windows.length];
        boolean anyKept = false;
        for (int i = 0; i < windows.length; i++) {
            silent[i] = isSilent(windows[i], loudest, loudestPeakDb);
            anyKept |= !silent[i];
        }
        if (!anyKept) {
            for (int i = 0; i < windows.length; i++) {
                silent[i] = isQuiet(windows[i], loudest);
            }
        }
        return silent;
    }

    /**
     * The clip's probabilities: the mean of the probabilities of its windows that are not
     * silence ({@link #silent(Levels[])}).
     *
     * @param probabilities one row of label probabilities per window
     * @param levels each window's {@link #levels(float[])}
     */
    public static float[] clipProbabilities(float[][] probabilities, Levels[] levels) {
        if (probabilities.length == 0 || probabilities.length != levels.length) {
            throw new IllegalArgumentException(
                    "expected one level per window and at least one window, got "
                            + probabilities.length + " windows and " + levels.length + " levels");
        }
        boolean[] silent = silent(levels);
        double[] sum = new double[probabilities[0].length];
        int kept = 0;
        for (int i = 0; i < probabilities.length; i++) {
            if (!silent[i]) {
                for (int k = 0; k < sum.length; k++) {
                    sum[k] += probabilities[i][k];
                }
                kept++;
            }
        }
        float[] mean = new float[sum.length];
        for (int k = 0; k < sum.length; k++) {
            mean[k] = (float) (sum[k] / kept);
        }
        return mean;
    }

    /** Both rules: the level rule or the ends rule. */
    private static boolean isSilent(Levels window, double loudest, double loudestPeakDb) {
        return isQuiet(window, loudest)
                || window.endsDb < loudestPeakDb - LogMelFrontend.SPEECH_FRAME_DROP_DB;
    }

    /** The level rule alone. */
    private static boolean isQuiet(Levels window, double loudest) {
        return window.level < loudest - LogMelFrontend.SILENCE_LEVEL_DROP;
    }

    /** The largest of {@code frameDb[from..to)}. */
    private static double loudestDb(double[] frameDb, int from, int to) {
        double loudest = Double.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            loudest = Math.max(loudest, frameDb[i]);
        }
        return loudest;
    }
}
