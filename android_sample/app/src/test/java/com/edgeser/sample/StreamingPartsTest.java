package com.edgeser.sample;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.Test;

/** Quantizer, Smoother and SlidingWindow: the app's path from a window to smoothed scores. */
public class StreamingPartsTest {
    @Test
    public void quantizerRoundsHalfAwayFromZeroAndClamps() {
        Quantizer quantizer = new Quantizer(0.5f, -3);
        // x / scale = 1.25 -> 1, 1.5 -> 2, -1.5 -> -2, -1.25 -> -1; then + zero point.
        assertEquals(1 - 3, quantizer.quantize(0.625f));
        assertEquals(2 - 3, quantizer.quantize(0.75f));
        assertEquals(-2 - 3, quantizer.quantize(-0.75f));
        assertEquals(-1 - 3, quantizer.quantize(-0.625f));
        assertEquals(127, quantizer.quantize(1000f));
        assertEquals(-128, quantizer.quantize(-1000f));
        assertEquals(2.5f, quantizer.dequantize((byte) 2), 0f);
    }

    @Test
    public void smootherAveragesTheLastWindows() {
        Smoother smoother = new Smoother(2);
        assertArrayEquals(new float[] {1f, 0f}, smoother.add(new float[] {1f, 0f}), 0f);
        assertArrayEquals(new float[] {0.5f, 0.5f}, smoother.add(new float[] {0f, 1f}), 0f);
        assertArrayEquals(new float[] {0f, 1f}, smoother.add(new float[] {0f, 1f}), 0f);
        smoother.reset();
        assertArrayEquals(new float[] {1f, 0f}, smoother.add(new float[] {1f, 0f}), 0f);
    }

    @Test
    public void streamedWindowsEqualOfflinePatches() {
        int numSamples = LogMelFrontend.MIN_SAMPLES + 3 * LogMelFrontend.PATCH_HOP_SAMPLES + 1234;
        float[] stream = new float[numSamples];
        Random random = new Random(7);
        for (int i = 0; i < numSamples; i++) {
            stream[i] = (float) (0.1 * random.nextGaussian());
        }
        LogMelFrontend frontend = new LogMelFrontend();
        float[][][] offline = frontend.waveformToPatches(stream);

        // Feed the stream in uneven chunks, as AudioRecord does.
        List<float[]> windows = new ArrayList<>();
        SlidingWindow sliding = new SlidingWindow();
        int chunk = 1000;
        for (int start = 0; start < numSamples; start += chunk) {
            int count = Math.min(chunk, numSamples - start);
            float[] part = new float[chunk];
            System.arraycopy(stream, start, part, 0, count);
            sliding.push(part, count, windows::add);
        }

        assertEquals(offline.length, windows.size());
        for (int i = 0; i < offline.length; i++) {
            float[][] streamed = frontend.waveformToPatches(windows.get(i))[0];
            for (int frame = 0; frame < LogMelFrontend.PATCH_FRAMES; frame++) {
                assertArrayEquals(offline[i][frame], streamed[frame], 0f);
            }
        }
    }
}
