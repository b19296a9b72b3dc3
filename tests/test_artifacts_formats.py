"""The artifact formats: described in the core, each built by exactly one exporter builder."""

from __future__ import annotations

from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import (
    DEFAULT_FORMATS,
    FILENAME_FORMATS,
    FORMATS,
    WAVEFORM_FORMATS,
    WAVEFORM_INPUT,
)
from edge_ser.export.artifacts import BUILDERS


def test_every_format_has_one_builder_and_a_unique_file_name():
    assert BUILDERS.keys() == FORMATS.keys()
    assert len(FILENAME_FORMATS) == len(FORMATS)
    assert set(DEFAULT_FORMATS) <= FORMATS.keys()


def test_waveform_formats_are_those_taking_windows():
    assert tuple(n for n, f in FORMATS.items() if f.input == WAVEFORM_INPUT) == WAVEFORM_FORMATS
    assert FORMATS["tflite-waveform-int8"].filename == layout.WAVEFORM_INT8_TFLITE
