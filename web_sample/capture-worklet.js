// Runs on the audio thread: mixes the microphone to mono (the mean of its channels, as
// edge-ser does), resamples it to 16 kHz and posts it to the page in blocks of 0.1 s.
import { Resampler } from "./resampler.js";

class MonoCapture extends AudioWorkletProcessor {
  constructor({ processorOptions }) {
    super();
    const { outputRate } = processorOptions;
    // sampleRate: the AudioContext's rate, a global of the audio worklet scope.
    this.resampler = new Resampler(sampleRate, outputRate);
    this.block = new Float32Array(outputRate / 10);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (channels.length === 0) return true;
    const mono = new Float32Array(channels[0].length);
    for (const channel of channels) channel.forEach((value, i) => (mono[i] += value));
    mono.forEach((value, i) => (mono[i] = value / channels.length));
    for (const value of this.resampler.push(mono)) {
      this.block[this.filled++] = value;
      if (this.filled === this.block.length) {
        this.port.postMessage(this.block);
        this.block = new Float32Array(this.block.length);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("mono-capture", MonoCapture);
