"""eGeMAPSv02 functionals (openSMILE, ``pip install -e .[bench]``) of audio files, in a process
of their own: openSMILE's native library corrupts memory when TensorFlow is loaded in the same
process, so the benchmarks call ``functionals(paths)``, which runs this file as a script.

Script use: ``python benchmarks/egemaps.py OUT.npy < paths.txt`` (one path a line) writes an
``(n_files, 88)`` float32 array.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SR = 16000


def functionals(paths: Sequence[Path]) -> np.ndarray:
    """``(len(paths), 88)`` eGeMAPSv02 functionals of 16 kHz mono decodes of ``paths``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "egemaps.npy"
        subprocess.run(
            [sys.executable, __file__, str(out)],
            input="\n".join(str(p) for p in paths),
            text=True,
            check=True,
        )
        return np.load(out)


def main(out: str) -> None:
    import opensmile

    from edge_ser import audio

    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    rows = [
        smile.process_signal(audio.load(Path(line), target_sr=SR), SR).to_numpy()[0]
        for line in sys.stdin.read().splitlines()
    ]
    np.save(out, np.asarray(rows, dtype=np.float32).reshape(len(rows), -1))


if __name__ == "__main__":
    main(sys.argv[1])
