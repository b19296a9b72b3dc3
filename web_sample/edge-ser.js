// What the page shares with edge-ser's export: file names, the window and hop of the
// reference preprocessor, and the streaming smoothing of the Android and iOS samples.
// A consistency test (tests/test_samples_consistency.py) compares them with the Python side.

export const MODEL_FILE = "emotion_waveform_int8.tflite";
export const WASM_DIR = "node_modules/@mediapipe/tasks-audio/wasm";
export const SAMPLE_RATE = 16000;
// One window: MIN_SAMPLES = 400 + 95 * 160 samples (0.975 s); a new one every 48 frames of 160.
export const MIN_SAMPLES = 15600;
export const PATCH_HOP_SAMPLES = 7680;
// Windows averaged for the live display (about 1.9 s), as Smoother.DEFAULT_WINDOWS on Android/iOS.
export const DEFAULT_WINDOWS = 3;
// The log-mel of reference_preprocess/params.py, for the silence rule's window levels (silence.js).
export const WINDOW_LENGTH_SAMPLES = 400;
export const HOP_LENGTH_SAMPLES = 160;
export const FFT_LENGTH = 512;
export const NUM_MEL_BANDS = 64;
export const MEL_MIN_HZ = 125.0;
export const MEL_MAX_HZ = 7500.0;
export const MEL_HIGH_FREQUENCY_Q = 1127.0;
export const MEL_BREAK_FREQUENCY_HERTZ = 700.0;
export const LOG_OFFSET = 0.01;
export const PATCH_FRAMES = 96;
// The silence rule: a window is silence when its mean log-mel is more than SILENCE_LEVEL_DROP
// below the loudest window's, or when its first or its last SPEECH_EDGE_FRAMES frames (0.24 s)
// hold no frame within SPEECH_FRAME_DROP_DB of the loudest frame (a frame's level in dB: 20
// log10 of the sum of its mel magnitudes).
export const SILENCE_LEVEL_DROP = 2.0;
export const SPEECH_EDGE_FRAMES = 24;
export const SPEECH_FRAME_DROP_DB = 30.0;

/** Cuts a stream of samples into windows: window i covers samples [hop i, hop i + length). */
export class SlidingWindow {
  constructor(length = MIN_SAMPLES, hop = PATCH_HOP_SAMPLES) {
    if (!(length >= 1 && hop >= 1 && hop <= length)) {
      throw new RangeError(`need 1 <= hop <= length, got hop ${hop}, length ${length}`);
    }
    this.length = length;
    this.hop = hop;
    this.buffer = new Float32Array(0); // from the next window's first sample on
  }

  /** Appends samples; returns the windows they complete, oldest first. */
  push(samples) {
    const buffer = new Float32Array(this.buffer.length + samples.length);
    buffer.set(this.buffer);
    buffer.set(samples, this.buffer.length);
    const windows = [];
    let start = 0;
    for (; start + this.length <= buffer.length; start += this.hop) {
      windows.push(buffer.slice(start, start + this.length));
    }
    this.buffer = buffer.slice(start);
    return windows;
  }

  reset() {
    this.buffer = new Float32Array(0);
  }
}

/** Mean of the probabilities of the most recent windows (the clip rule over a sliding span). */
export class Smoother {
  constructor(windows = DEFAULT_WINDOWS) {
    if (!(windows >= 1)) throw new RangeError(`windows must be >= 1, got ${windows}`);
    this.windows = windows;
    this.recent = [];
  }

  add(probabilities) {
    this.recent.push(Float32Array.from(probabilities));
    if (this.recent.length > this.windows) this.recent.shift();
    return mean(this.recent);
  }

  /** The mean of the recent windows, without adding one (for a silent window). */
  current() {
    return mean(this.recent);
  }

  reset() {
    this.recent = [];
  }
}

/** Element-wise mean of equally long probability vectors. */
export function mean(rows) {
  const out = new Float32Array(rows[0].length);
  for (const row of rows) row.forEach((value, i) => (out[i] += value));
  return out.map((value) => value / rows.length);
}

/** The windows of a whole clip: as edge-ser predicts a file (shorter clips zero-padded to one). */
export function clipWindows(samples) {
  if (samples.length < MIN_SAMPLES) {
    const padded = new Float32Array(MIN_SAMPLES);
    padded.set(samples);
    return [padded];
  }
  return new SlidingWindow().push(samples);
}
