"""edge-ser: compact on-device speech emotion recognition.

Heavy dependencies (TensorFlow, coremltools) are imported lazily, so ``import edge_ser``
and ``edge-ser --help`` stay fast.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

try:
    __version__ = metadata.version("edge-ser")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Recognizer", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Recognizer":
        from edge_ser.recognizer import Recognizer

        return Recognizer
    raise AttributeError(f"module 'edge_ser' has no attribute {name!r}")
