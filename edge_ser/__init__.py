"""edge-ser: compact on-device speech emotion recognition.

Heavy dependencies (TensorFlow, coremltools) are imported lazily, so ``import edge_ser``
and ``edge-ser --help`` stay fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Recognizer", "__version__"]


def __getattr__(name: str) -> Any:
    # Looked up on first use: importlib.metadata alone takes about 0.1 s to import, a fifth
    # of a whole `edge-ser predict`.
    if name == "__version__":
        from importlib import metadata

        try:
            version = metadata.version("edge-ser")
        except metadata.PackageNotFoundError:  # a source tree that is not installed
            version = "0.0.0+unknown"
        globals()["__version__"] = version
        return version
    if name == "Recognizer":
        from edge_ser.recognizer import Recognizer

        return Recognizer
    raise AttributeError(f"module 'edge_ser' has no attribute {name!r}")
