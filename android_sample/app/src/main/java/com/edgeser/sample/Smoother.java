package com.edgeser.sample;

import java.util.ArrayDeque;

/**
 * Mean of the probability vectors of the most recent windows (the clip aggregation rule applied
 * to a stream). Plain Java, no Android dependencies; not thread-safe.
 */
public final class Smoother {
    /** Windows averaged by default: about 1.9 s of audio at one window per 0.48 s hop. */
    public static final int DEFAULT_WINDOWS = 3;

    private final int windows;
    private final ArrayDeque<float[]> recent = new ArrayDeque<>();

    public Smoother() {
        this(DEFAULT_WINDOWS);
    }

    /** @param windows how many recent windows to average (>= 1) */
    public Smoother(int windows) {
        if (windows < 1) {
            throw new IllegalArgumentException("windows must be >= 1, got " + windows);
        }
        this.windows = windows;
    }

    /**
     * Adds one window's probabilities and returns the mean over the last {@code windows}
     * windows (fewer right after start or {@link #reset()}).
     *
     * @param probabilities shape (num_labels,), copied
     * @return new array of shape (num_labels,)
     */
    public float[] add(float[] probabilities) {
        if (!recent.isEmpty() && recent.peekFirst().length != probabilities.length) {
            throw new IllegalArgumentException(
                    "expected " + recent.peekFirst().length + " probabilities, got "
                            + probabilities.length);
        }
        recent.addLast(probabilities.clone());
        if (recent.size() > windows) {
            recent.removeFirst();
        }
        float[] mean = new float[probabilities.length];
        for (float[] window : recent) {
            for (int i = 0; i < mean.length; i++) {
                mean[i] += window[i];
            }
        }
        for (int i = 0; i < mean.length; i++) {
            mean[i] /= recent.size();
        }
        return mean;
    }

    /** Forgets every window (call when recording restarts). */
    public void reset() {
        recent.clear();
    }
}
