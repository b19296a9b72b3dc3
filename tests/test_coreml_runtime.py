"""Core ML itself (``edge_ser.runtimes.coreml_runtime``): it runs models only on macOS."""

from __future__ import annotations

import sys

import pytest

from edge_ser.artifacts import layout
from edge_ser.errors import ModelError
from edge_ser.runtimes.coreml_runtime import CoreMLRuntime

pytestmark = pytest.mark.slow


@pytest.mark.skipif(sys.platform == "darwin", reason="Core ML runs models on macOS")
def test_macos_runtime_refuses_other_platforms(coreml_exports):
    with pytest.raises(ModelError, match="only on macOS"):
        CoreMLRuntime(coreml_exports[layout.MLPACKAGE])
