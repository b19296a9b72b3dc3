"""TFLite Model Metadata in edge-ser's ``.tflite`` files: the fields written, and reading them.

The metadata follows the TFLite metadata schema (``metadata_schema.fbs``, file identifier
``M001``) that MediaPipe Tasks and LiteRT's support libraries read: a flatbuffer stored in
the model's ``metadata`` list under ``TFLITE_METADATA``, with the associated files (here the
labels file) appended to the model as an uncompressed zip archive. A waveform-in model's input
is described as audio (sample rate, channels) and its output as class scores with the labels
file, which is what MediaPipe's ``AudioClassifier`` requires; a patch model's input is a
feature tensor.

Only the tables and fields edge-ser writes are named here (``SLOTS``: field index of each
field in its table, in schema order); the writer lives in the exporter. NumPy-free.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass

from edge_ser.errors import ModelError

METADATA_NAME = "TFLITE_METADATA"
FILE_IDENTIFIER = b"M001"
# AssociatedFileType.TENSOR_AXIS_LABELS: one label per line, in output order.
TENSOR_AXIS_LABELS = 2
# ContentProperties union members.
FEATURE_PROPERTIES = 1
AUDIO_PROPERTIES = 4
# Oldest metadata parser that reads every field written: AudioProperties came in 1.3.0.
MIN_PARSER_VERSION = {FEATURE_PROPERTIES: "1.0.0", AUDIO_PROPERTIES: "1.3.0"}

# Field index within each table, as declared in metadata_schema.fbs. A union takes two
# indices: its type, then its value.
SLOTS = {
    "ModelMetadata": {
        "name": 0,
        "description": 1,
        "version": 2,
        "subgraph_metadata": 3,
        "author": 4,
        "license": 5,
        "min_parser_version": 7,
    },
    "SubGraphMetadata": {"name": 0, "input_tensor_metadata": 2, "output_tensor_metadata": 3},
    "TensorMetadata": {"name": 0, "description": 1, "content": 3, "associated_files": 6},
    "Content": {"content_properties_type": 0, "content_properties": 1},
    "AudioProperties": {"sample_rate": 0, "channels": 1},
    "AssociatedFile": {"name": 0, "description": 1, "type": 2},
}


@dataclass(frozen=True)
class TensorInfo:
    """One tensor's metadata: its name and content (audio, feature), labels of an output."""

    name: str
    description: str
    content: int  # FEATURE_PROPERTIES, AUDIO_PROPERTIES or 0 (none)
    sample_rate: int = 0  # audio only
    channels: int = 0  # audio only
    labels_file: str | None = None  # TENSOR_AXIS_LABELS file of an output


@dataclass(frozen=True)
class ModelMetadata:
    """The TFLite Model Metadata of a ``.tflite`` file, with its labels file read."""

    name: str
    description: str
    version: str
    author: str
    license: str
    min_parser_version: str
    input: TensorInfo
    output: TensorInfo
    labels: tuple[str, ...]  # from the output's labels file, in output order


class _Table:
    """Read access to one flatbuffer table by field index (see ``SLOTS``)."""

    def __init__(self, buffer: bytes | bytearray, position: int) -> None:
        from flatbuffers.table import Table

        self._table = Table(buffer, position)

    def _field(self, slot: int) -> int:
        offset = self._table.Offset(4 + 2 * slot)
        return offset + self._table.Pos if offset else 0

    def string(self, slot: int) -> str:
        field = self._field(slot)
        return self._table.String(field).decode() if field else ""

    def uint(self, slot: int, size: int) -> int:
        field = self._field(slot)
        if not field:
            return 0
        return int.from_bytes(self._table.Bytes[field : field + size], "little")

    def table(self, slot: int) -> _Table | None:
        field = self._field(slot)
        return _Table(self._table.Bytes, self._table.Indirect(field)) if field else None

    def tables(self, slot: int) -> list[_Table]:
        field = self._field(slot)
        if not field:
            return []
        start = self._table.Vector(field - self._table.Pos)
        return [
            _Table(self._table.Bytes, self._table.Indirect(start + 4 * i))
            for i in range(self._table.VectorLen(field - self._table.Pos))
        ]


def metadata_buffer(model: bytes) -> bytes | None:
    """The raw ``TFLITE_METADATA`` flatbuffer of a TFLite model, or ``None`` if it has none."""
    from ai_edge_litert.schema_py_generated import Model

    tflite = Model.GetRootAs(model, 0)
    for i in range(tflite.MetadataLength()):
        entry = tflite.Metadata(i)
        if entry.Name() == METADATA_NAME.encode():
            buffer = tflite.Buffers(entry.Buffer())
            return buffer.DataAsNumpy().tobytes() if buffer.DataLength() else b""

    return None


def _tensor(table: _Table) -> TensorInfo:
    slots = SLOTS["TensorMetadata"]
    content = table.table(slots["content"])
    kind, properties = 0, None
    if content is not None:
        kind = content.uint(SLOTS["Content"]["content_properties_type"], 1)
        properties = content.table(SLOTS["Content"]["content_properties"])
    audio = SLOTS["AudioProperties"]
    is_audio = kind == AUDIO_PROPERTIES and properties is not None
    labels_files = [
        f.string(SLOTS["AssociatedFile"]["name"])
        for f in table.tables(slots["associated_files"])
        if f.uint(SLOTS["AssociatedFile"]["type"], 1) == TENSOR_AXIS_LABELS
    ]
    return TensorInfo(
        name=table.string(slots["name"]),
        description=table.string(slots["description"]),
        content=kind,
        sample_rate=properties.uint(audio["sample_rate"], 4) if is_audio else 0,
        channels=properties.uint(audio["channels"], 4) if is_audio else 0,
        labels_file=labels_files[0] if labels_files else None,
    )


def _packed_file(model: bytes, name: str) -> bytes:
    """An associated file from the zip archive appended to the model."""
    with zipfile.ZipFile(io.BytesIO(model)) as archive:
        return archive.read(name)


def read_metadata(model: bytes, source: str = "model") -> ModelMetadata | None:
    """The metadata of a TFLite model's bytes; ``None`` if it carries none.

    Raises
    ------
    ModelError
        The metadata is malformed, lacks an input or output description, or names a labels
        file that is not packed in the model.
    """
    try:
        buffer = metadata_buffer(model)
        if buffer is None:
            return None
        if buffer[4:8] != FILE_IDENTIFIER:
            raise ValueError(f"identifier {buffer[4:8]!r} is not {FILE_IDENTIFIER!r}")
        root = _Table(buffer, int.from_bytes(buffer[:4], "little"))
        slots = SLOTS["ModelMetadata"]
        subgraphs = root.tables(slots["subgraph_metadata"])
        graph = SLOTS["SubGraphMetadata"]
        inputs = subgraphs[0].tables(graph["input_tensor_metadata"]) if subgraphs else []
        outputs = subgraphs[0].tables(graph["output_tensor_metadata"]) if subgraphs else []
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError("expected one input and one output tensor description")
        output = _tensor(outputs[0])
        labels: tuple[str, ...] = ()
        if output.labels_file:
            labels = tuple(_packed_file(model, output.labels_file).decode().split())
        return ModelMetadata(
            name=root.string(slots["name"]),
            description=root.string(slots["description"]),
            version=root.string(slots["version"]),
            author=root.string(slots["author"]),
            license=root.string(slots["license"]),
            min_parser_version=root.string(slots["min_parser_version"]),
            input=_tensor(inputs[0]),
            output=output,
            labels=labels,
        )
    except (
        ValueError,
        IndexError,
        KeyError,
        struct.error,
        UnicodeDecodeError,
        zipfile.BadZipFile,
    ) as exc:
        raise ModelError(f"{source}: unreadable TFLite metadata ({exc})") from exc
