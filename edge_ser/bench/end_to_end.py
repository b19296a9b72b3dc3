"""End-to-end real-time factor of ``Recognizer.predict_file`` on long synthetic recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_ser.bench.timing import one_thread, time_calls
from edge_ser.reference_preprocess import params
from edge_ser.reference_preprocess.signals import voice

FILE_RATE = 48000  # default sample rate of the recordings (resampled to 16 kHz on load)
# End-to-end runs: name -> (sample rate, file suffix, window hop in frames).
RECORDINGS = {
    "16 kHz WAV": (16000, ".wav", params.PATCH_HOP_FRAMES),
    "48 kHz FLAC": (48000, ".flac", params.PATCH_HOP_FRAMES),
    "16 kHz WAV, --window-hop 0.96": (16000, ".wav", params.PATCH_FRAMES),
}
STAGES = ("decode + resample", "log-mel patches", "int8 model")  # of predict_file


def write_recording(path: Path, seconds: float, sample_rate: int = FILE_RATE) -> Path:
    """A mono 16-bit recording of synthetic speech (format from the suffix: ``.flac``,
    ``.wav``), written one minute at a time (flat memory)."""
    import soundfile as sf
    import soxr

    block_s = min(60.0, seconds)
    block = voice(round(block_s * params.SAMPLE_RATE))
    block = soxr.resample(block, params.SAMPLE_RATE, sample_rate).astype(np.float32)
    total = round(seconds * sample_rate)
    with sf.SoundFile(path, "w", sample_rate, 1, subtype="PCM_16") as handle:
        for start in range(0, total, len(block)):
            handle.write(block[: total - start])
    return path


def end_to_end(int8_path: Path, recording: Path, repeats: int, hop_frames: int) -> dict:
    """Real-time factor of ``predict_file`` with the int8 model on one thread, and the
    median time of its stages run separately: decoding (and resampling), log-mel patches,
    and the model on those patches."""
    from edge_ser import audio
    from edge_ser.recognizer import Recognizer
    from edge_ser.reference_preprocess import waveform_to_patches

    recognizer = Recognizer.load(int8_path, num_threads=1)
    info = audio.info(recording)
    waveform = np.concatenate(list(audio.iter_blocks(recording)))
    patches = waveform_to_patches(waveform, hop_frames=hop_frames)[..., np.newaxis]
    calls = {
        "predict_file": lambda: recognizer.predict_file(
            recording, hop_s=hop_frames * params.HOP_LENGTH_SAMPLES / params.SAMPLE_RATE
        ),
        STAGES[0]: lambda: sum(len(b) for b in audio.iter_blocks(recording)),
        STAGES[1]: lambda: waveform_to_patches(waveform, hop_frames=hop_frames),
        STAGES[2]: lambda: recognizer.runtime.predict_patches(patches),
    }
    with one_thread():
        medians = {name: time_calls(call, repeats, 1).median_ms for name, call in calls.items()}
    seconds = {name: ms / 1e3 for name, ms in medians.items()}
    return {
        "audio_seconds": info.duration_s,
        "source_rate_hz": info.sample_rate,
        "windows": len(patches),
        "window_hop_s": hop_frames * params.HOP_LENGTH_SAMPLES / params.SAMPLE_RATE,
        "median_s": seconds["predict_file"],
        "x_real_time": info.duration_s / seconds["predict_file"],
        "stage_seconds": {stage: seconds[stage] for stage in STAGES},
        "repeats": repeats,
    }
