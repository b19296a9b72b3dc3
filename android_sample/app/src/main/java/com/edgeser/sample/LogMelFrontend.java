package com.edgeser.sample;

import java.util.Arrays;

/**
 * Plain-Java port of the edge-ser reference preprocessor ({@code reference_preprocess/}, spec
 * version {@link #PREPROCESSOR_VERSION}): 16 kHz mono float waveform to 96 x 64 log-mel patches.
 *
 * <p>The constants carry the same names and values as {@code reference_preprocess/params.py}
 * and the methods follow the numbered steps of the spec. Intermediate results are stored as
 * float32 like the reference; the FFT and the mel sums are evaluated in double precision, which
 * keeps the port within one float32 ulp of the NumPy reference (see {@link GoldenCheck}). A
 * float32 radix-2 FFT would not: it drifts by up to 5e-4 on full-scale pure tones.
 *
 * <p>FFT: a self-contained 512-point iterative radix-2 decimation-in-time complex FFT with
 * precomputed twiddle factors, applied to the real windowed frame (imaginary part zero); bins
 * 0..256 are kept.
 *
 * <p>This class has no Android dependencies. An instance holds scratch buffers and is not
 * thread-safe: use one instance per thread.
 */
public final class LogMelFrontend {
    /** Sample rate of every waveform the preprocessor accepts, in Hz. */
    public static final int SAMPLE_RATE = 16000;
    /** Analysis window length, in samples (25 ms). */
    public static final int WINDOW_LENGTH_SAMPLES = 400;
    /** Hop between consecutive frames, in samples (10 ms). */
    public static final int HOP_LENGTH_SAMPLES = 160;
    /** Real FFT length; each frame is zero-padded at the end to this length. */
    public static final int FFT_LENGTH = 512;
    /** Magnitude-spectrum bins (DC .. Nyquist). */
    public static final int NUM_SPECTRUM_BINS = FFT_LENGTH / 2 + 1;
    /** Mel bands per frame. */
    public static final int NUM_MEL_BANDS = 64;
    /** Lower edge of the lowest mel band, in Hz. */
    public static final double MEL_MIN_HZ = 125.0;
    /** Upper edge of the highest mel band, in Hz. */
    public static final double MEL_MAX_HZ = 7500.0;
    /** HTK mel scale m(f) = MEL_HIGH_FREQUENCY_Q * ln(1 + f / MEL_BREAK_FREQUENCY_HERTZ). */
    public static final double MEL_HIGH_FREQUENCY_Q = 1127.0;
    /** Break frequency of the HTK mel scale, in Hz. */
    public static final double MEL_BREAK_FREQUENCY_HERTZ = 700.0;
    /** Offset added to mel energies before the natural log. */
    public static final float LOG_OFFSET = 0.01f;
    /** Frames per model input patch (0.96 s). */
    public static final int PATCH_FRAMES = 96;
    /** Default hop between patches, in frames (0.48 s). */
    public static final int PATCH_HOP_FRAMES = 48;
    /** Fewest samples that yield one patch (15600); shorter clips are zero-padded to it. */
    public static final int MIN_SAMPLES =
            WINDOW_LENGTH_SAMPLES + (PATCH_FRAMES - 1) * HOP_LENGTH_SAMPLES;
    /** Default hop between patches, in samples (7680). */
    public static final int PATCH_HOP_SAMPLES = PATCH_HOP_FRAMES * HOP_LENGTH_SAMPLES;
    /**
     * Silent windows ({@link SilenceRule}): a window whose mean log-mel is more than this below
     * the loudest window's is silence (natural-log units; about 8.7 dB).
     */
    public static final double SILENCE_LEVEL_DROP = 2.0;
    /**
     * Silent ends ({@link SilenceRule}): the frames at each end of a window that the ends rule
     * reads (0.24 s). A window whose first or last this many frames all lie more than {@link
     * #SPEECH_FRAME_DROP_DB} below the loudest frame is silence too.
     */
    public static final int SPEECH_EDGE_FRAMES = 24;
    /**
     * Silent ends ({@link SilenceRule}): how far below the loudest frame, in dB, a window's ends
     * may lie at most (a frame's level: 20 log10 of the sum of its mel magnitudes).
     */
    public static final double SPEECH_FRAME_DROP_DB = 30.0;
    /** Version of the spec this port implements. */
    public static final String PREPROCESSOR_VERSION = "1";

    private final float[] hannWindow = makePeriodicHannWindow();
    private final float[][] melMatrix = makeMelMatrix();
    // Per band, the half-open range of spectrum bins with a non-zero weight.
    private final int[] bandFirstBin = new int[NUM_MEL_BANDS];
    private final int[] bandStopBin = new int[NUM_MEL_BANDS];
    private final int[] bitReversed = makeBitReversal();
    private final double[] twiddleCos = new double[FFT_LENGTH / 2];
    private final double[] twiddleSin = new double[FFT_LENGTH / 2];
    private final double[] fftReal = new double[FFT_LENGTH];
    private final double[] fftImag = new double[FFT_LENGTH];
    private final float[] magnitude = new float[NUM_SPECTRUM_BINS];

    public LogMelFrontend() {
        for (int k = 0; k < FFT_LENGTH / 2; k++) {
            double angle = 2.0 * Math.PI * k / FFT_LENGTH;
            twiddleCos[k] = Math.cos(angle);
            twiddleSin[k] = Math.sin(angle);
        }
        for (int band = 0; band < NUM_MEL_BANDS; band++) {
            int first = NUM_SPECTRUM_BINS;
            int stop = 0;
            for (int bin = 0; bin < NUM_SPECTRUM_BINS; bin++) {
                if (melMatrix[bin][band] != 0.0f) {
                    first = Math.min(first, bin);
                    stop = bin + 1;
                }
            }
            bandFirstBin[band] = first;
            bandStopBin[band] = stop;
        }
    }

    /** HTK mel scale, {@code 1127 ln(1 + f / 700)}, in double precision. */
    public static double hertzToMel(double hz) {
        return MEL_HIGH_FREQUENCY_Q * Math.log1p(hz / MEL_BREAK_FREQUENCY_HERTZ);
    }

    /** Step 2: number of frames of a waveform of {@code numSamples} samples (no centering). */
    public static int numFrames(int numSamples) {
        if (numSamples < WINDOW_LENGTH_SAMPLES) {
            return 0;
        }
        return 1 + (numSamples - WINDOW_LENGTH_SAMPLES) / HOP_LENGTH_SAMPLES;
    }

    /** Same as {@link #waveformToLogMel(float[], int)} at {@link #SAMPLE_RATE}. */
    public float[][] waveformToLogMel(float[] waveform) {
        return waveformToLogMel(waveform, SAMPLE_RATE);
    }

    /**
     * Steps 1-6: log-mel spectrogram {@code log(|rfft(frame * hann, 512)| @ mel + 0.01)}.
     * No padding: fewer than 400 samples give zero frames.
     *
     * @param waveform mono samples in [-1, 1], length num_samples
     * @param sampleRate must equal {@link #SAMPLE_RATE}
     * @return float32 array of shape (num_frames, 64)
     * @throws IllegalArgumentException wrong sample rate or non-finite samples
     */
    public float[][] waveformToLogMel(float[] waveform, int sampleRate) {
        // Step 1: input checks.
        if (sampleRate != SAMPLE_RATE) {
            throw new IllegalArgumentException(
                    "sample rate must be " + SAMPLE_RATE + " Hz, got " + sampleRate + " Hz");
        }
        for (float sample : waveform) {
            if (!Float.isFinite(sample)) {
                throw new IllegalArgumentException("waveform contains non-finite samples");
            }
        }
        // Step 2: framing, frame j = waveform[160 j : 160 j + 400].
        int frames = numFrames(waveform.length);
        float[][] logMel = new float[frames][NUM_MEL_BANDS];
        for (int frame = 0; frame < frames; frame++) {
            int offset = frame * HOP_LENGTH_SAMPLES;
            // Step 3: periodic Hann window, products rounded to float32 like the reference.
            for (int n = 0; n < WINDOW_LENGTH_SAMPLES; n++) {
                fftReal[n] = waveform[offset + n] * hannWindow[n];
            }
            // Step 4: zero-pad to 512 and take |rfft| -> 257 bins.
            Arrays.fill(fftReal, WINDOW_LENGTH_SAMPLES, FFT_LENGTH, 0.0);
            Arrays.fill(fftImag, 0.0);
            fftInPlace();
            for (int bin = 0; bin < NUM_SPECTRUM_BINS; bin++) {
                double re = fftReal[bin];
                double im = fftImag[bin];
                magnitude[bin] = (float) Math.sqrt(re * re + im * im);
            }
            // Steps 5-6: mel energies, then log(energy + 0.01).
            for (int band = 0; band < NUM_MEL_BANDS; band++) {
                double energy = 0.0;
                for (int bin = bandFirstBin[band]; bin < bandStopBin[band]; bin++) {
                    energy += (double) magnitude[bin] * melMatrix[bin][band];
                }
                logMel[frame][band] = (float) Math.log((float) energy + LOG_OFFSET);
            }
        }
        return logMel;
    }

    /**
     * Step 7: cut a log-mel spectrogram into patches, patch i = logMel[hop i : hop i + 96];
     * trailing frames that do not fill a patch are dropped.
     *
     * @param logMel shape (num_frames, 64) with num_frames >= 96
     * @param hopFrames hop between patch starts, in frames (>= 1)
     * @return shape (1 + (num_frames - 96) / hopFrames, 96, 64), copies of the rows
     * @throws IllegalArgumentException fewer than 96 frames or hopFrames < 1
     */
    public static float[][][] logMelToPatches(float[][] logMel, int hopFrames) {
        if (logMel.length < PATCH_FRAMES) {
            throw new IllegalArgumentException(
                    "log-mel has " + logMel.length + " frames, fewer than one patch ("
                            + PATCH_FRAMES + ")");
        }
        if (hopFrames < 1) {
            throw new IllegalArgumentException("hopFrames must be >= 1, got " + hopFrames);
        }
        int patches = 1 + (logMel.length - PATCH_FRAMES) / hopFrames;
        float[][][] result = new float[patches][PATCH_FRAMES][];
        for (int patch = 0; patch < patches; patch++) {
            for (int row = 0; row < PATCH_FRAMES; row++) {
                result[patch][row] = logMel[patch * hopFrames + row].clone();
            }
        }
        return result;
    }

    /** Step 8: zero-pad at the end to {@link #MIN_SAMPLES} if shorter; else return as is. */
    public static float[] padToMinLength(float[] waveform) {
        if (waveform.length >= MIN_SAMPLES) {
            return waveform;
        }
        return Arrays.copyOf(waveform, MIN_SAMPLES);
    }

    /** Same as {@link #waveformToPatches(float[], int, int)} with the default rate and hop. */
    public float[][][] waveformToPatches(float[] waveform) {
        return waveformToPatches(waveform, SAMPLE_RATE, PATCH_HOP_FRAMES);
    }

    /**
     * Model inputs for a clip: pad to 15600 samples, log-mel, patches. Patch i covers samples
     * [160 hopFrames i, 160 hopFrames i + 15600); every clip yields at least one patch.
     *
     * @return shape (num_patches, 96, 64), float32
     */
    public float[][][] waveformToPatches(float[] waveform, int sampleRate, int hopFrames) {
        return logMelToPatches(waveformToLogMel(padToMinLength(waveform), sampleRate), hopFrames);
    }

    /** Step 3: periodic Hann window w[n] = 0.5 - 0.5 cos(2 pi n / 400), float32. */
    private static float[] makePeriodicHannWindow() {
        float[] window = new float[WINDOW_LENGTH_SAMPLES];
        for (int n = 0; n < WINDOW_LENGTH_SAMPLES; n++) {
            window[n] = (float) (0.5 - 0.5 * Math.cos(2.0 * Math.PI * n / WINDOW_LENGTH_SAMPLES));
        }
        return window;
    }

    /** Step 5: VGGish mel matrix, shape (257, 64), computed in double, stored float32. */
    private static float[][] makeMelMatrix() {
        double nyquistHz = SAMPLE_RATE / 2.0;
        double lowerEdgeMel = hertzToMel(MEL_MIN_HZ);
        double upperEdgeMel = hertzToMel(MEL_MAX_HZ);
        float[][] matrix = new float[NUM_SPECTRUM_BINS][NUM_MEL_BANDS];
        // Row 0 (the DC bin) stays zero.
        for (int bin = 1; bin < NUM_SPECTRUM_BINS; bin++) {
            double binMel = hertzToMel(linspace(0.0, nyquistHz, NUM_SPECTRUM_BINS, bin));
            for (int band = 0; band < NUM_MEL_BANDS; band++) {
                double lower = linspace(lowerEdgeMel, upperEdgeMel, NUM_MEL_BANDS + 2, band);
                double center = linspace(lowerEdgeMel, upperEdgeMel, NUM_MEL_BANDS + 2, band + 1);
                double upper = linspace(lowerEdgeMel, upperEdgeMel, NUM_MEL_BANDS + 2, band + 2);
                double lowerSlope = (binMel - lower) / (center - lower);
                double upperSlope = (upper - binMel) / (upper - center);
                matrix[bin][band] = (float) Math.max(0.0, Math.min(lowerSlope, upperSlope));
            }
        }
        return matrix;
    }

    /** Element i of NumPy's {@code linspace(start, stop, num)} (same arithmetic). */
    private static double linspace(double start, double stop, int num, int i) {
        if (i == num - 1) {
            return stop;
        }
        return i * ((stop - start) / (num - 1)) + start;
    }

    private static int[] makeBitReversal() {
        int bits = Integer.numberOfTrailingZeros(FFT_LENGTH);
        int[] table = new int[FFT_LENGTH];
        for (int i = 0; i < FFT_LENGTH; i++) {
            table[i] = Integer.reverse(i) >>> (Integer.SIZE - bits);
        }
        return table;
    }

    /** Forward FFT of (fftReal, fftImag) in place: X[k] = sum x[n] exp(-2 pi i k n / N). */
    private void fftInPlace() {
        for (int i = 0; i < FFT_LENGTH; i++) {
            int j = bitReversed[i];
            if (j > i) {
                double re = fftReal[i];
                fftReal[i] = fftReal[j];
                fftReal[j] = re;
                double im = fftImag[i];
                fftImag[i] = fftImag[j];
                fftImag[j] = im;
            }
        }
        for (int size = 2; size <= FFT_LENGTH; size *= 2) {
            int half = size / 2;
            int twiddleStep = FFT_LENGTH / size;
            for (int start = 0; start < FFT_LENGTH; start += size) {
                for (int k = 0; k < half; k++) {
                    double wr = twiddleCos[k * twiddleStep];
                    double wi = -twiddleSin[k * twiddleStep];
                    int a = start + k;
                    int b = a + half;
                    double tr = wr * fftReal[b] - wi * fftImag[b];
                    double ti = wr * fftImag[b] + wi * fftReal[b];
                    fftReal[b] = fftReal[a] - tr;
                    fftImag[b] = fftImag[a] - ti;
                    fftReal[a] += tr;
                    fftImag[a] += ti;
                }
            }
        }
    }
}
