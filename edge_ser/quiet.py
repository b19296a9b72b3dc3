"""Quiet by default: other libraries' start-up lines, warnings and progress bars are hidden.

TensorFlow, absl, LiteRT and coremltools print to stderr on their own: C++ log lines (some,
like LiteRT's ``Created TensorFlow Lite XNNPACK delegate``, with no way to turn them off),
Python warnings, ``logging`` records and coremltools' progress bars. ``edge-ser`` hides them
unless ``--verbose`` is given or ``EDGE_SER_VERBOSE`` is set to anything but ``0`` or empty.

Native output is dropped by pointing file descriptor 2 at ``/dev/null`` while a command runs;
Python's ``sys.stderr`` keeps writing to the real stderr, so edge-ser's own messages, its
progress bars and tracebacks still show.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

VERBOSE_ENV_VAR = "EDGE_SER_VERBOSE"

# Python-side sources of third-party messages.
NOISY_LOGGERS = ("absl", "coremltools", "tensorflow", "keras")
NOISY_MODULES = r"(tensorflow|tf_keras|keras|coremltools|absl|ai_edge_litert|google)(\.|$)"


def verbose_from_env() -> bool:
    """Whether ``EDGE_SER_VERBOSE`` asks for other libraries' messages."""
    return os.environ.get(VERBOSE_ENV_VAR, "0") not in ("", "0")


def silence_third_party() -> None:
    """Hide other libraries' log records, warnings and progress bars (before importing them)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # C++ INFO and WARNING lines
    # tqdm reads TQDM_* defaults when first imported: coremltools' pass-pipeline bars then stay
    # off, while edge-ser's own bars pass ``disable`` explicitly.
    os.environ.setdefault("TQDM_DISABLE", "1")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=NOISY_MODULES)


@contextmanager
def native_stderr_dropped() -> Iterator[None]:
    """Drop what native code writes to file descriptor 2; Python's ``sys.stderr`` still shows.

    Does nothing when ``sys.stderr`` is not file descriptor 2 (for example under a test
    runner's capture), where native output never reaches the user's terminal anyway.
    """
    try:
        attached = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        attached = False
    if not attached:
        yield
        return
    original = sys.stderr
    original.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(
        os.dup(saved), "w", buffering=1, encoding=original.encoding, errors=original.errors
    )
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stderr.close()
        sys.stderr = original
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def third_party_quieted(verbose: bool) -> Iterator[None]:
    """``silence_third_party`` and ``native_stderr_dropped`` unless ``verbose``."""
    if verbose:
        yield
        return
    silence_third_party()
    with native_stderr_dropped():
        yield
