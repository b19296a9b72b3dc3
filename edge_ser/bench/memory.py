"""Peak resident memory of ``predict_file`` in a fresh process.

``peak_rss`` runs this module as that process: ``python -m edge_ser.bench.memory MODEL
AUDIO`` loads the model, predicts the file and prints its memory as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

SINGLE_THREAD = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")


def peak_rss(int8_path: Path, recording: Path) -> dict:
    """Run ``predict_file`` in a fresh single-threaded process; its peak resident memory
    after loading the model and after predicting, in MiB, and its wall time."""
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", __name__, str(int8_path), str(recording)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **SINGLE_THREAD},
    )
    if completed.returncode != 0:
        detail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory measurement failed: {detail}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    return result


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far, in bytes.

    ``VmHWM`` from ``/proc/self/status`` where available: unlike ``ru_maxrss``, it starts
    afresh at ``exec``, so a child does not report its parent's peak; else ``ru_maxrss``.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource

    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit


def measure(model: str, recording: str) -> dict:
    """The child's measurement: load ``model``, predict ``recording``; memory in MiB."""
    from edge_ser.recognizer import Recognizer

    recognizer = Recognizer.load(model, num_threads=1)
    loaded = peak_rss_bytes()
    result = recognizer.predict_file(recording)
    mib = 1024 * 1024
    return {
        "audio_seconds": result.duration_s,
        "windows": len(result.windows),
        "rss_after_load_mib": loaded / mib,
        "peak_rss_mib": peak_rss_bytes() / mib,
    }


if __name__ == "__main__":
    print(json.dumps(measure(*sys.argv[1:3])))
