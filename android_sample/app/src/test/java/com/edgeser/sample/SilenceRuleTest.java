package com.edgeser.sample;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import org.junit.Test;

/**
 * SilenceRule (reference_preprocess/SPEC.md, "Silent windows"): a window's levels, the level
 * rule, the ends rule, the whole-clip fallback and the live rule. tests/test_java_port.py checks
 * the same code against the Python reference on real recordings.
 */
public class SilenceRuleTest {
    private static final int FRAMES = LogMelFrontend.PATCH_FRAMES;
    private static final int BANDS = LogMelFrontend.NUM_MEL_BANDS;
    private static final int EDGE = LogMelFrontend.SPEECH_EDGE_FRAMES;

    /** A patch whose frame {@code f} has mel magnitude {@code magnitudes[f]} in every band. */
    private static float[] patch(double[] magnitudes) {
        float[] patch = new float[FRAMES * BANDS];
        for (int frame = 0; frame < FRAMES; frame++) {
            float value = (float) Math.log(magnitudes[frame] + LogMelFrontend.LOG_OFFSET);
            for (int band = 0; band < BANDS; band++) {
                patch[frame * BANDS + band] = value;
            }
        }
        return patch;
    }

    /** The level in dB of a frame of {@code magnitude} in every band. */
    private static double frameDb(double magnitude) {
        return 20 * Math.log10(BANDS * magnitude);
    }

    @Test
    public void levelsReadTheMeanThePeakAndTheQuieterEnd() {
        double[] magnitudes = new double[FRAMES];
        Arrays.fill(magnitudes, 1e-3);
        magnitudes[FRAMES / 2] = 1.0; // the peak, in the middle
        magnitudes[EDGE - 1] = 0.01; // the loudest frame of the first end, the quieter end
        magnitudes[EDGE] = 0.5; // just past the first end: not read by the ends rule
        magnitudes[FRAMES - EDGE] = 0.1; // the loudest frame of the last end
        magnitudes[FRAMES - EDGE - 1] = 0.5; // just before the last end: not read either
        double[] reversed = new double[FRAMES];
        for (int frame = 0; frame < FRAMES; frame++) {
            reversed[frame] = magnitudes[FRAMES - 1 - frame];
        }

        for (double[] frames : new double[][] {magnitudes, reversed}) {
            float[] patch = patch(frames);
            SilenceRule.Levels levels = SilenceRule.levels(patch);

            double sum = 0.0;
            for (float value : patch) {
                sum += value;
            }
            assertEquals(sum / patch.length, levels.level, 1e-12);
            assertEquals(frameDb(1.0), levels.peakDb, 1e-4);
            assertEquals(frameDb(0.01), levels.endsDb, 1e-4);
        }
    }

    @Test
    public void digitalSilenceIsFloored() {
        SilenceRule.Levels levels = SilenceRule.levels(patch(new double[FRAMES]));

        assertTrue(levels.toString(), levels.peakDb <= -120.0);
        double floorDb = 20 * Math.log10(SilenceRule.MIN_FRAME_MAGNITUDE);
        assertTrue(levels.toString(), levels.endsDb >= floorDb);
    }

    @Test(expected = IllegalArgumentException.class)
    public void levelsRejectAPatchOfTheWrongSize() {
        SilenceRule.levels(new float[BANDS]);
    }

    @Test
    public void endsRuleMarksWindowsTheLevelRuleKeeps() {
        double drop = LogMelFrontend.SPEECH_FRAME_DROP_DB;
        SilenceRule.Levels[] windows = {
            new SilenceRule.Levels(-1.0, -10.0, 0.0), // speech throughout
            new SilenceRule.Levels(-1.5, -drop - 0.5, -5.0), // loud enough, one end silent
            new SilenceRule.Levels(-1.5, -drop + 0.5, -5.0), // one end just within the drop
            new SilenceRule.Levels(-3.5, -20.0, -10.0), // too quiet: the level rule
        };

        boolean[] silent = SilenceRule.silent(windows);

        assertArrayEquals(new boolean[] {false, true, false, true}, silent);
    }

    @Test
    public void clipFallsBackToTheLevelRuleWhenBothRulesLeaveNothing() {
        double drop = LogMelFrontend.SPEECH_FRAME_DROP_DB;
        // One short word inside one window: its ends are far below its own peak.
        assertArrayEquals(
                new boolean[] {false},
                SilenceRule.silent(
                        new SilenceRule.Levels[] {new SilenceRule.Levels(-2.0, -drop - 20, 0.0)}));
        SilenceRule.Levels[] windows = {
            new SilenceRule.Levels(-1.0, -drop - 1, 0.0),
            new SilenceRule.Levels(-2.5, -drop - 1, -3.0),
            new SilenceRule.Levels(-3.5, -drop - 1, -3.0),
        };

        assertArrayEquals(new boolean[] {false, false, true}, SilenceRule.silent(windows));
    }

    @Test
    public void clipProbabilitiesLeaveSilentWindowsOut() {
        double drop = LogMelFrontend.SPEECH_FRAME_DROP_DB;
        SilenceRule.Levels[] windows = {
            new SilenceRule.Levels(-1.0, -5.0, 0.0),
            new SilenceRule.Levels(-1.0, -drop - 1, -2.0),
            new SilenceRule.Levels(-1.2, -6.0, -1.0),
        };
        float[][] probabilities = {{1f, 0f}, {0f, 1f}, {0.5f, 0.5f}};

        assertArrayEquals(
                new float[] {0.75f, 0.25f},
                SilenceRule.clipProbabilities(probabilities, windows),
                0f);
    }

    @Test
    public void liveRuleRemembersTheLoudestLevelAndPeakWithoutFallback() {
        double drop = LogMelFrontend.SPEECH_FRAME_DROP_DB;
        SilenceRule.Live live = new SilenceRule.Live();

        // The first window of a stream is judged against itself, with no fallback.
        assertTrue(live.isSilent(new SilenceRule.Levels(-2.0, -drop - 1, 0.0)));
        assertFalse(live.isSilent(new SilenceRule.Levels(-2.0, -10.0, -5.0)));
        // A louder peak raises the bar for later windows' ends.
        assertFalse(live.isSilent(new SilenceRule.Levels(-1.0, 15.0, 20.0)));
        assertTrue(live.isSilent(new SilenceRule.Levels(-1.0, -10.5, 0.0)));
        // A louder level raises the bar for later windows' levels.
        assertTrue(live.isSilent(new SilenceRule.Levels(-3.5, 0.0, 0.0)));

        live.reset();
        assertFalse(live.isSilent(new SilenceRule.Levels(-3.5, -10.0, 0.0)));
    }
}
