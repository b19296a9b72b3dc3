"""Write TFLite Model Metadata into exported ``.tflite`` files (schema in
``edge_ser.artifacts.tflite_metadata``), so that MediaPipe Tasks and other metadata readers can use
them without edge-ser: labels, input description, model name, version, author and license.

The metadata flatbuffer is built with the ``flatbuffers`` Builder; it is added to the model
through LiteRT's schema object API (a new buffer and a ``TFLITE_METADATA`` entry), and the
labels file is appended as an uncompressed zip archive, as the metadata populator of the
TFLite support library lays it out.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np

from edge_ser.artifacts.tflite_metadata import (
    AUDIO_PROPERTIES,
    FEATURE_PROPERTIES,
    FILE_IDENTIFIER,
    METADATA_NAME,
    MIN_PARSER_VERSION,
    SLOTS,
    TENSOR_AXIS_LABELS,
)

TFLITE_FILE_IDENTIFIER = b"TFL3"


@dataclass(frozen=True)
class MetadataInfo:
    """What is written: descriptive text, the input kind and the labels."""

    name: str
    description: str
    version: str
    author: str
    license: str
    labels: tuple[str, ...]
    labels_file: str
    input_name: str
    input_description: str
    audio_sample_rate: int | None = None  # None: the input is a feature tensor
    output_name: str = "probabilities"
    output_description: str = "Probability of each label (they sum to 1)"


class _Writer:
    """Builds one metadata flatbuffer, table by table, children before parents."""

    def __init__(self) -> None:
        import flatbuffers

        self.builder = flatbuffers.Builder(1024)

    def table(self, schema: str, strings=None, tables=None, scalars=None) -> int:
        """A table of ``schema`` with string, table-offset and scalar fields by field name.

        ``scalars`` maps a field name to ``(value, bytes)``, bytes 1 (enum) or 4 (uint).
        """
        slots = SLOTS.get(schema, {})
        offsets = {slots[k]: self.builder.CreateString(v) for k, v in (strings or {}).items()}
        offsets.update({slots[k]: v for k, v in (tables or {}).items()})
        scalars = {slots[k]: v for k, v in (scalars or {}).items()}
        self.builder.StartObject(max([*offsets, *scalars], default=-1) + 1)
        for slot, offset in offsets.items():
            self.builder.PrependUOffsetTRelativeSlot(slot, offset, 0)
        for slot, (value, size) in scalars.items():
            prepend = self.builder.PrependUint8Slot if size == 1 else self.builder.PrependUint32Slot
            prepend(slot, value, 0)
        return self.builder.EndObject()

    def vector(self, offsets: list[int]) -> int:
        self.builder.StartVector(4, len(offsets), 4)
        for offset in reversed(offsets):
            self.builder.PrependUOffsetTRelative(offset)
        return self.builder.EndVector()

    def finish(self, root: int) -> bytes:
        self.builder.Finish(root, file_identifier=FILE_IDENTIFIER)
        return bytes(self.builder.Output())


def metadata_flatbuffer(info: MetadataInfo) -> bytes:
    """The ``ModelMetadata`` flatbuffer (file identifier ``M001``) describing ``info``."""
    w = _Writer()
    if info.audio_sample_rate is None:
        kind, properties = FEATURE_PROPERTIES, w.table("FeatureProperties")
    else:
        kind = AUDIO_PROPERTIES
        properties = w.table(
            "AudioProperties",
            scalars={"sample_rate": (info.audio_sample_rate, 4), "channels": (1, 4)},
        )
    content = w.table(
        "Content",
        tables={"content_properties": properties},
        scalars={"content_properties_type": (kind, 1)},
    )
    model_input = w.table(
        "TensorMetadata",
        strings={"name": info.input_name, "description": info.input_description},
        tables={"content": content},
    )
    labels_file = w.table(
        "AssociatedFile",
        strings={"name": info.labels_file, "description": "Labels of the output, in order"},
        scalars={"type": (TENSOR_AXIS_LABELS, 1)},
    )
    feature_content = w.table(
        "Content",
        tables={"content_properties": w.table("FeatureProperties")},
        scalars={"content_properties_type": (FEATURE_PROPERTIES, 1)},
    )
    model_output = w.table(
        "TensorMetadata",
        strings={"name": info.output_name, "description": info.output_description},
        tables={"content": feature_content, "associated_files": w.vector([labels_file])},
    )
    subgraph = w.table(
        "SubGraphMetadata",
        tables={
            "input_tensor_metadata": w.vector([model_input]),
            "output_tensor_metadata": w.vector([model_output]),
        },
    )
    root = w.table(
        "ModelMetadata",
        strings={
            "name": info.name,
            "description": info.description,
            "version": info.version,
            "author": info.author,
            "license": info.license,
            "min_parser_version": MIN_PARSER_VERSION[kind],
        },
        tables={"subgraph_metadata": w.vector([subgraph])},
    )
    return w.finish(root)


def add_metadata(model: bytes, info: MetadataInfo) -> bytes:
    """``model`` (a TFLite flatbuffer without metadata) with ``info`` added and its labels
    file packed; the graph, tensors and weights are unchanged."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    tflite = schema.ModelT.InitFromPackedBuf(model, 0)
    if any(
        entry.name in (METADATA_NAME, METADATA_NAME.encode()) for entry in tflite.metadata or []
    ):
        raise ValueError("the model already carries TFLite metadata")
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(metadata_flatbuffer(info), dtype=np.uint8)
    tflite.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(tflite.buffers) - 1
    tflite.metadata = [*(tflite.metadata or []), entry]
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(tflite.Pack(builder), file_identifier=TFLITE_FILE_IDENTIFIER)
    return bytes(builder.Output()) + _zip({info.labels_file: "\n".join(info.labels) + "\n"})


def _zip(files: dict[str, str]) -> bytes:
    """An uncompressed zip archive of text files with fixed timestamps (reproducible)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, text in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return archive.getvalue()
