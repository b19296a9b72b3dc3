package com.edgeser.sample;

import java.util.function.Consumer;

/**
 * Cuts a stream of samples into overlapping analysis windows: window i covers stream samples
 * [hop i, hop i + length), which for the defaults (15600, 7680) is exactly patch i of
 * {@link LogMelFrontend#waveformToPatches(float[])} on the whole stream. Plain Java, no Android
 * dependencies; not thread-safe.
 */
public final class SlidingWindow {
    private final int length;
    private final int hop;
    private final float[] ring;
    private long samplesSeen;

    /** Windows of {@link LogMelFrontend#MIN_SAMPLES}, one every PATCH_HOP_SAMPLES samples. */
    public SlidingWindow() {
        this(LogMelFrontend.MIN_SAMPLES, LogMelFrontend.PATCH_HOP_SAMPLES);
    }

    /**
     * @param length samples per window (>= 1)
     * @param hop samples between window starts (1 .. length)
     */
    public SlidingWindow(int length, int hop) {
        if (length < 1 || hop < 1 || hop > length) {
            throw new IllegalArgumentException(
                    "need 1 <= hop <= length, got hop " + hop + ", length " + length);
        }
        this.length = length;
        this.hop = hop;
        this.ring = new float[length];
    }

    /**
     * Appends {@code count} samples and hands every window they complete to {@code onWindow},
     * oldest sample first, as a new array of {@code length} samples.
     */
    public void push(float[] samples, int count, Consumer<float[]> onWindow) {
        for (int i = 0; i < count; i++) {
            ring[(int) (samplesSeen % length)] = samples[i];
            samplesSeen++;
            if (samplesSeen >= length && (samplesSeen - length) % hop == 0) {
                onWindow.accept(currentWindow());
            }
        }
    }

    /** Forgets every sample (call when recording restarts). */
    public void reset() {
        samplesSeen = 0;
    }

    private float[] currentWindow() {
        float[] window = new float[length];
        int oldest = (int) (samplesSeen % length);
        System.arraycopy(ring, oldest, window, 0, length - oldest);
        System.arraycopy(ring, 0, window, length - oldest, oldest);
        return window;
    }
}
