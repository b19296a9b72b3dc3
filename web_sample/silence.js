// The silence rule of reference_preprocess/SPEC.md ("Silent windows"), as on Android and iOS: a
// window's level is the mean of its log-mel patch, log(|rfft(frame * hann, 512)| @ mel + 0.01);
// a window is silence when its level is more than SILENCE_LEVEL_DROP below the loudest
// window's. Silent windows are shown as silence and left out of the averages. The model has
// the log-mel inside, so the page computes it only for this level.
import {
  FFT_LENGTH,
  HOP_LENGTH_SAMPLES,
  LOG_OFFSET,
  MEL_BREAK_FREQUENCY_HERTZ,
  MEL_HIGH_FREQUENCY_Q,
  MEL_MAX_HZ,
  MEL_MIN_HZ,
  NUM_MEL_BANDS,
  PATCH_FRAMES,
  SAMPLE_RATE,
  SILENCE_LEVEL_DROP,
  WINDOW_LENGTH_SAMPLES,
} from "./edge-ser.js";

const BINS = FFT_LENGTH / 2 + 1;
const hertzToMel = (hz) => MEL_HIGH_FREQUENCY_Q * Math.log1p(hz / MEL_BREAK_FREQUENCY_HERTZ);
const HANN = Float64Array.from(
  { length: WINDOW_LENGTH_SAMPLES },
  (_, n) => Math.fround(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / WINDOW_LENGTH_SAMPLES)),
);
// (BINS x NUM_MEL_BANDS) triangles linear in HTK mel between linspace(m(125), m(7500), 66);
// the DC bin has no weight.
const MEL = (() => {
  const low = hertzToMel(MEL_MIN_HZ);
  const step = (hertzToMel(MEL_MAX_HZ) - low) / (NUM_MEL_BANDS + 1);
  const edges = Array.from({ length: NUM_MEL_BANDS + 2 }, (_, i) => low + i * step);
  const matrix = new Float64Array(BINS * NUM_MEL_BANDS);
  for (let bin = 1; bin < BINS; bin++) {
    const mel = hertzToMel((bin * SAMPLE_RATE) / 2 / (BINS - 1));
    for (let band = 0; band < NUM_MEL_BANDS; band++) {
      const [lower, center, upper] = edges.slice(band, band + 3);
      const weight = Math.max(0, Math.min((mel - lower) / (center - lower), (upper - mel) / (upper - center)));
      matrix[bin * NUM_MEL_BANDS + band] = Math.fround(weight);
    }
  }
  return matrix;
})();

/** In-place radix-2 FFT of (re, im), length a power of two. */
function fft(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const angle = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = start + k;
        const b = a + size / 2;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** The level of one window of MIN_SAMPLES samples: the mean of its log-mel patch. */
export function windowLevel(samples) {
  const re = new Float64Array(FFT_LENGTH);
  const im = new Float64Array(FFT_LENGTH);
  let sum = 0;
  for (let frame = 0; frame < PATCH_FRAMES; frame++) {
    re.fill(0);
    im.fill(0);
    const offset = frame * HOP_LENGTH_SAMPLES;
    for (let n = 0; n < WINDOW_LENGTH_SAMPLES; n++) re[n] = Math.fround(samples[offset + n] * HANN[n]);
    fft(re, im);
    const mel = new Float64Array(NUM_MEL_BANDS);
    for (let bin = 1; bin < BINS; bin++) {
      const magnitude = Math.hypot(re[bin], im[bin]);
      for (let band = 0; band < NUM_MEL_BANDS; band++) {
        mel[band] += magnitude * MEL[bin * NUM_MEL_BANDS + band];
      }
    }
    for (const value of mel) sum += Math.log(value + LOG_OFFSET);
  }
  return sum / (PATCH_FRAMES * NUM_MEL_BANDS);
}

/** Which windows of a clip are silence, given their levels. */
export function silentWindows(levels) {
  const loudest = Math.max(...levels);
  return levels.map((level) => level < loudest - SILENCE_LEVEL_DROP);
}

/** The rule on a live stream: each window against the loudest window heard so far. */
export class LiveSilence {
  constructor() {
    this.loudest = -Infinity;
  }

  isSilent(level) {
    this.loudest = Math.max(this.loudest, level);
    return level < this.loudest - SILENCE_LEVEL_DROP;
  }
}
