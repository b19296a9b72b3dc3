// Speech emotion in the browser: MediaPipe Tasks Audio runs edge-ser's waveform-in export,
// which carries its labels and audio format in its TFLite metadata, so the page has no DSP.
import {
  AudioClassifier,
  FilesetResolver,
} from "./node_modules/@mediapipe/tasks-audio/audio_bundle.mjs";
import {
  MODEL_FILE,
  SAMPLE_RATE,
  WASM_DIR,
  SlidingWindow,
  Smoother,
  clipWindows,
  mean,
} from "./edge-ser.js";
import { LiveSilence, silentWindows, windowLevels } from "./silence.js";

const SILENCE = "silence";

const $ = (id) => document.getElementById(id);

// Results, also read by the end-to-end test: every window's own probabilities (not smoothed),
// the smoothed ones shown live, the silence rule's levels of each window (silence.js), the last
// dropped file's windows and clip result, and the first eight seconds of 16 kHz microphone
// audio (to line the live windows up with a known recording).
const HEAD_SAMPLES = 8 * SAMPLE_RATE;
const state = {
  ready: false,
  error: null,
  labels: [],
  live: [],
  file: null,
  captured: 0,
  inputRate: null,
  head: new Float32Array(0),
};
window.edgeSer = state;

let classifier;
let microphone = null;

/** Probabilities of one 15600-sample window, in the model's output order. */
function classifyWindow(samples) {
  const [result] = classifier.classify(samples, SAMPLE_RATE);
  const categories = result.classifications[0].categories;
  const probabilities = new Float32Array(categories.length);
  for (const category of categories) {
    probabilities[category.index] = category.score;
    state.labels[category.index] = category.categoryName;
  }
  return probabilities;
}

function named(probabilities) {
  return Object.fromEntries(state.labels.map((label, i) => [label, probabilities[i]]));
}

function top(probabilities) {
  return state.labels[probabilities.indexOf(Math.max(...probabilities))];
}

function showBars(probabilities, caption) {
  const bars = $("bars");
  if (bars.children.length !== state.labels.length) {
    bars.replaceChildren(
      ...state.labels.map((label) => {
        const row = document.createElement("div");
        row.className = "bar";
        row.innerHTML = `<span class="name"></span><span class="track"><span class="fill"></span></span><span class="value"></span>`;
        row.querySelector(".name").textContent = label;
        return row;
      }),
    );
  }
  const best = probabilities.indexOf(Math.max(...probabilities));
  [...bars.children].forEach((row, i) => {
    row.classList.toggle("best", i === best);
    row.querySelector(".fill").style.width = `${(100 * probabilities[i]).toFixed(1)}%`;
    row.querySelector(".value").textContent = probabilities[i].toFixed(3);
  });
  $("caption").textContent = caption;
}

async function start() {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  // The context runs at the microphone's own rate, so the browser passes its samples through
  // unchanged; the worklet resamples them to 16 kHz (the same way in every browser).
  const { sampleRate } = stream.getAudioTracks()[0].getSettings();
  const context = new AudioContext(sampleRate ? { sampleRate } : {});
  await context.audioWorklet.addModule("capture-worklet.js");
  const capture = new AudioWorkletNode(context, "mono-capture", {
    processorOptions: { outputRate: SAMPLE_RATE },
  });
  state.inputRate = context.sampleRate;
  const windows = new SlidingWindow();
  const smoother = new Smoother();
  const silenceRule = new LiveSilence();
  state.live = [];
  state.captured = 0;
  state.head = new Float32Array(HEAD_SAMPLES);
  capture.port.onmessage = ({ data }) => {
    if (state.captured < HEAD_SAMPLES) {
      state.head.set(data.subarray(0, HEAD_SAMPLES - state.captured), state.captured);
    }
    state.captured += data.length;
    for (const samples of windows.push(data)) {
      const probabilities = classifyWindow(samples);
      // A silent window (against the loudest level and peak so far) is shown as such and stays
      // out of the smoothing.
      const levels = windowLevels(samples);
      const silence = silenceRule.isSilent(levels);
      const smoothed = silence ? smoother.current() : smoother.add(probabilities);
      const index = state.live.length;
      state.live.push({
        start_s: (index * windows.hop) / SAMPLE_RATE,
        label: silence ? SILENCE : top(probabilities),
        silence,
        levels,
        probabilities: named(probabilities),
        smoothed: named(smoothed),
      });
      const recent = `mean of the last ${smoother.recent.length} windows with speech`;
      showBars(smoothed, silence ? `live: ${SILENCE} (${recent}: ${top(smoothed)})` : `live: ${top(smoothed)} (${recent})`);
    }
  };
  context.createMediaStreamSource(stream).connect(capture);
  microphone = { stream, context };
  $("start").disabled = true;
  $("stop").disabled = false;
}

async function stop() {
  if (!microphone) return;
  microphone.stream.getTracks().forEach((track) => track.stop());
  await microphone.context.close();
  microphone = null;
  $("start").disabled = false;
  $("stop").disabled = true;
}

/** Decodes a file to 16 kHz mono (the mean of its channels) and classifies its windows. */
async function classifyFile(file) {
  const decoder = new OfflineAudioContext(1, 1, SAMPLE_RATE);
  const audio = await decoder.decodeAudioData(await file.arrayBuffer());
  const samples = new Float32Array(audio.length);
  for (let c = 0; c < audio.numberOfChannels; c++) {
    audio.getChannelData(c).forEach((value, i) => (samples[i] += value / audio.numberOfChannels));
  }
  const inputs = clipWindows(samples);
  const windows = inputs.map((window) => classifyWindow(window));
  // The clip's probabilities: the mean of its windows that are not silence (the level and ends
  // rules against the clip's loudest window and frame; the level rule alone if none is left).
  const levels = inputs.map((window) => windowLevels(window));
  const silent = silentWindows(levels);
  const speech = windows.filter((_, i) => !silent[i]);
  const clip = mean(speech);
  state.file = {
    name: file.name,
    duration_s: samples.length / SAMPLE_RATE,
    label: top(clip),
    probabilities: named(clip),
    windows: windows.map((probabilities, i) => ({
      start_s: (i * new SlidingWindow().hop) / SAMPLE_RATE,
      label: silent[i] ? SILENCE : top(probabilities),
      silence: silent[i],
      levels: levels[i],
      probabilities: named(probabilities),
    })),
  };
  showBars(clip, `${file.name}: ${top(clip)} (mean of ${speech.length} of ${windows.length} windows; the others are silence)`);
}

function report(error) {
  state.error = String(error);
  $("status").textContent = `error: ${error.message || error}`;
}

async function main() {
  const fileset = await FilesetResolver.forAudioTasks(new URL(WASM_DIR, location.href).href);
  // ?model=FILE runs another export served beside the page (for example the float32 one).
  const model = new URLSearchParams(location.search).get("model") || MODEL_FILE;
  classifier = await AudioClassifier.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: model },
    maxResults: -1,
  });
  $("start").onclick = () => start().catch(report);
  $("stop").onclick = () => stop().catch(report);
  const drop = $("drop");
  drop.ondragover = (event) => event.preventDefault();
  drop.ondrop = (event) => {
    event.preventDefault();
    const [file] = event.dataTransfer.files;
    if (file) classifyFile(file).catch(report);
  };
  $("file").onchange = () => $("file").files[0] && classifyFile($("file").files[0]).catch(report);
  $("start").disabled = false;
  $("status").textContent = `${model} loaded`;
  state.ready = true;
}

main().catch(report);
