"""``DIST/golden/``: test vectors for platform ports and CI, written at export time.

For each reference golden signal NAME (``reference_preprocess/golden``):

- ``NAME.wave.f32``: the 16 kHz waveform (raw little-endian float32);
- ``NAME.logmel.f32``: its reference log-mel ``(frames, 64)`` after the pad policy;
- ``NAME.patches.f32``: its reference patches ``(n, 96, 64)``;
- ``NAME.int8.i8``: those patches quantized for the int8 model (manifest rule);
- ``NAME.probs.<artifact>.f32``: the probabilities ``(n, labels)`` that artifact computed:
  on the patches, or for waveform-in artifacts on the windows (window ``i`` = samples
  ``[7680 i, 7680 i + 15600)`` of ``NAME.wave.f32`` zero-padded to at least 15600 samples,
  whose reference log-mel is patch ``i``).

``index.json`` lists the signals with their shapes and the artifact names per signal.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_ser.artifacts.formats import WAVEFORM_INPUT
from edge_ser.quantization import quantize
from edge_ser.reference_preprocess import log_mel_to_patches
from edge_ser.reference_preprocess.make_golden import read_golden
from edge_ser.windows import waveform_windows

INDEX = "index.json"
F32 = np.dtype("<f4")


def golden_inputs() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``name -> (waveform, log_mel, patches (n, 96, 64, 1))`` for every reference signal."""
    return {
        name: (wave, log_mel, log_mel_to_patches(log_mel)[..., np.newaxis])
        for name, (wave, log_mel) in read_golden().items()
    }


def signal_inputs(input_kind: str, waveform: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """What an artifact taking ``input_kind`` is fed for one golden signal.

    ``"waveform"``: the signal's windows ``(n, 15600)``; otherwise its ``patches``
    ``(n, 96, 64, 1)``. Row ``i`` of either gives patch ``i``'s probabilities.
    """
    return waveform_windows(waveform) if input_kind == WAVEFORM_INPUT else patches


def golden_probabilities(runtime, input_kind: str) -> dict[str, np.ndarray]:
    """``signal -> (n, labels)`` probabilities of ``runtime`` on every golden signal.

    One runtime call per signal, so that the probabilities recorded at export and those
    reproduced by ``verify`` come from identical calls (a batched evaluator's rounding can
    depend on the batch).
    """
    return {
        name: runtime.predict_patches(signal_inputs(input_kind, wave, patches))
        for name, (wave, _, patches) in golden_inputs().items()
    }


def probs_file(name: str, artifact: str) -> str:
    return f"{name}.probs.{artifact}.f32"


def write_golden(
    directory: Path,
    probabilities: dict[str, dict[str, np.ndarray]],
    int8_input: tuple[float, int] | None,
) -> None:
    """Write the golden set; ``probabilities[artifact][signal]`` is ``(n, labels)``."""
    directory.mkdir(parents=True, exist_ok=True)
    signals = []
    for name, (wave, log_mel, patches) in golden_inputs().items():
        wave.astype(F32).tofile(directory / f"{name}.wave.f32")
        log_mel.astype(F32).tofile(directory / f"{name}.logmel.f32")
        patches[..., 0].astype(F32).tofile(directory / f"{name}.patches.f32")
        if int8_input is not None:
            quantize(patches[..., 0], *int8_input).tofile(directory / f"{name}.int8.i8")
        for artifact, per_signal in probabilities.items():
            per_signal[name].astype(F32).tofile(directory / probs_file(name, artifact))
        signals.append(
            {
                "name": name,
                "num_samples": int(len(wave)),
                "num_frames": int(len(log_mel)),
                "num_patches": int(len(patches)),
            }
        )
    index = {"signals": signals, "artifacts": sorted(probabilities)}
    (directory / INDEX).write_text(json.dumps(index, indent=2) + "\n")


def read_expected(directory: Path, artifact: str, name: str, n_labels: int) -> np.ndarray | None:
    """The probabilities recorded for ``artifact`` on signal ``name``, if present."""
    path = directory / probs_file(name, artifact)
    if not path.is_file():
        return None
    return np.fromfile(path, dtype=F32).reshape(-1, n_labels)
