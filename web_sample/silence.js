// The silence rule of reference_preprocess/SPEC.md ("Silent windows"), as in
// edge_ser.reference_preprocess.silence. From each window's log-mel, log(|rfft(frame * hann,
// 512)| @ mel + 0.01), three levels: its level, the mean of its log-mel patch; its peak, its
// loudest frame's level in dB, 20 log10 of the sum of the frame's mel magnitudes; and its ends
// level, the smaller of the loudest of its first SPEECH_EDGE_FRAMES frames (0.24 s) and the
// loudest of its last SPEECH_EDGE_FRAMES frames. A window is silence when its level is more
// than SILENCE_LEVEL_DROP below the loudest window's (the level rule), or when its ends level
// is more than SPEECH_FRAME_DROP_DB below the loudest peak (the ends rule: one of its ends holds
// no frame within 30 dB of the loudest frame, so it is the start or the end of an utterance,
// mostly silence). In a clip, where the two rules together would leave no window, only the
// level rule applies; live, each window is judged against the loudest level and the loudest
// peak heard so far, with no such fallback. Silent windows are shown as silence and left out
// of the averages. The model has the log-mel inside, so the page computes it only for these
// levels.
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
  SPEECH_EDGE_FRAMES,
  SPEECH_FRAME_DROP_DB,
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

/**
 * The levels of one window of MIN_SAMPLES samples: `level`, the mean of its log-mel patch;
 * `peakDb`, its loudest frame in dB (20 log10 of the frame's summed mel magnitudes, at least
 * 1e-9); `endsDb`, the smaller of the loudest of its first and of its last SPEECH_EDGE_FRAMES
 * frames, in dB.
 */
export function windowLevels(samples) {
  const re = new Float64Array(FFT_LENGTH);
  const im = new Float64Array(FFT_LENGTH);
  const framesDb = new Float64Array(PATCH_FRAMES);
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
    let magnitudes = 0;
    for (const value of mel) {
      sum += Math.log(value + LOG_OFFSET);
      magnitudes += value;
    }
    framesDb[frame] = 20 * Math.log10(Math.max(magnitudes, 1e-9));
  }
  const loudest = (frames) => frames.reduce((a, b) => Math.max(a, b), -Infinity);
  return {
    level: sum / (PATCH_FRAMES * NUM_MEL_BANDS),
    endsDb: Math.min(
      loudest(framesDb.subarray(0, SPEECH_EDGE_FRAMES)),
      loudest(framesDb.subarray(PATCH_FRAMES - SPEECH_EDGE_FRAMES)),
    ),
    peakDb: loudest(framesDb),
  };
}

/** The level rule alone: whether a window of this level is quiet next to the loudest level. */
const isQuiet = (level, loudestLevel) => level < loudestLevel - SILENCE_LEVEL_DROP;

/** Whether a window of these levels is silence next to the loudest level and peak. */
function isSilence({ level, endsDb }, loudestLevel, loudestPeakDb) {
  return isQuiet(level, loudestLevel) || endsDb < loudestPeakDb - SPEECH_FRAME_DROP_DB;
}

/**
 * Which windows of a clip are silence, given their windowLevels: against the clip's loudest
 * level and loudest peak. Where that would leave no window, the level rule alone (which keeps
 * at least the loudest window).
 */
export function silentWindows(levels) {
  const loudestLevel = Math.max(...levels.map(({ level }) => level));
  const loudestPeakDb = Math.max(...levels.map(({ peakDb }) => peakDb));
  const silent = levels.map((window) => isSilence(window, loudestLevel, loudestPeakDb));
  if (silent.every(Boolean)) return levels.map(({ level }) => isQuiet(level, loudestLevel));
  return silent;
}

/**
 * The rule on a live stream: each window against the loudest level and the loudest peak heard
 * so far (its own included), with no fallback.
 */
export class LiveSilence {
  constructor() {
    this.loudestLevel = -Infinity;
    this.loudestPeakDb = -Infinity;
  }

  /** Whether the window of these windowLevels is silence; remembers its level and peak. */
  isSilent(levels) {
    this.loudestLevel = Math.max(this.loudestLevel, levels.level);
    this.loudestPeakDb = Math.max(this.loudestPeakDb, levels.peakDb);
    return isSilence(levels, this.loudestLevel, this.loudestPeakDb);
  }
}
