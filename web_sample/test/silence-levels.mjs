// The silence rule of silence.js on a clip, without a browser: prints as JSON each window's
// windowLevels, silentWindows over the clip, and the flags of a LiveSilence fed the windows in
// order (a live stream of the clip).
//
//   node test/silence-levels.mjs clip.f32
//
// clip.f32: the clip's 16 kHz mono samples as raw little-endian float32; the windows are the
// page's (clipWindows). tests/test_web_sample.py compares the output with the Python rule.
import fs from "node:fs";
import { clipWindows } from "../edge-ser.js";
import { LiveSilence, silentWindows, windowLevels } from "../silence.js";

const bytes = fs.readFileSync(process.argv[2]);
const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / Float32Array.BYTES_PER_ELEMENT);
const levels = clipWindows(samples).map((window) => windowLevels(window));
const live = new LiveSilence();
const output = {
  levels,
  silent: silentWindows(levels),
  live: levels.map((window) => live.isSilent(window)),
};
// -Infinity is not JSON: a window's levels are finite (frames are at least -180 dB).
process.stdout.write(JSON.stringify(output));
