package com.edgeser.sample;

/**
 * Which windows of a recording are silence, and the clip average without them: the rule of
 * reference_preprocess/SPEC.md, "Silent windows". A window's level is the mean of its log-mel
 * patch; a window is silence when its level is more than {@link
 * LogMelFrontend#SILENCE_LEVEL_DROP} below the loudest window's. The loudest window is never
 * silence, so a clip always keeps at least one window. Plain Java, no Android dependencies.
 */
public final class SilenceRule {
    private SilenceRule() {}

    /** The rule on a live stream: each window against the loudest window heard so far. */
    public static final class Live {
        private double loudest = Double.NEGATIVE_INFINITY;

        /** Whether the window of this {@link #level(float[])} is silence; remembers the level. */
        public boolean isSilent(double level) {
            loudest = Math.max(loudest, level);
            return level < loudest - LogMelFrontend.SILENCE_LEVEL_DROP;
        }

        /** Forgets the loudest level (call when recording restarts). */
        public void reset() {
            loudest = Double.NEGATIVE_INFINITY;
        }
    }

    /**
     * The level of one window: the mean of its log-mel values, summed in double precision.
     *
     * @param patch the window's log-mel patch, any layout (PATCH_FRAMES x NUM_MEL_BANDS values)
     */
    public static double level(float[] patch) {
        if (patch.length == 0) {
            throw new IllegalArgumentException("empty patch");
        }
        double sum = 0.0;
        for (float value : patch) {
            sum += value;
        }
        return sum / patch.length;
    }

    /** {@code silent[i]} is true when window {@code i} is silence among {@code levels}. */
    public static boolean[] silent(double[] levels) {
        double loudest = Double.NEGATIVE_INFINITY;
        for (double level : levels) {
            loudest = Math.max(loudest, level);
        }
        boolean[] silent = new boolean[levels.length];
        for (int i = 0; i < levels.length; i++) {
            silent[i] = levels[i] < loudest - LogMelFrontend.SILENCE_LEVEL_DROP;
        }
        return silent;
    }

    /**
     * The clip's probabilities: the mean of the probabilities of its windows that are not
     * silence.
     *
     * @param probabilities one row of label probabilities per window
     * @param levels each window's {@link #level(float[])}
     */
    public static float[] clipProbabilities(float[][] probabilities, double[] levels) {
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
}
