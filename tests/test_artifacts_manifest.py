"""``manifest.json`` as untrusted input: its published schema, reading it, checking a directory.

verify's refusals of each contract field are in test_export_verify.py; these are the reader's.
"""

from __future__ import annotations

import json
import shutil

import pytest
from jsonschema import Draft202012Validator
from test_recognizer import tiny_export  # noqa: F401  (session fixture)

from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import FILENAME_FORMATS, FORMATS
from edge_ser.artifacts.manifest import (
    FORMAT_VERSION,
    MAX_MANIFEST_BYTES,
    SCHEMA_PATH,
    ArtifactError,
    check_artifacts,
    contract_fields,
    preprocessing_constants,
    read_manifest,
)

SCHEMA = json.loads(SCHEMA_PATH.read_text())


@pytest.fixture
def tiny_dist(tiny_export, tmp_path):  # noqa: F811
    dist = tmp_path / "dist"
    shutil.copytree(tiny_export.dist, dist)
    return dist


def write_manifest_text(dist, text: str) -> None:
    (dist / layout.MANIFEST_JSON).write_text(text)


def test_the_schema_is_valid_and_names_exactly_what_edge_ser_writes():
    Draft202012Validator.check_schema(SCHEMA)
    assert set(SCHEMA["properties"]["artifacts"]["propertyNames"]["enum"]) == set(FILENAME_FORMATS)
    artifact = SCHEMA["$defs"]["artifact"]["properties"]
    assert set(artifact["format"]["enum"]) == set(FORMATS)
    assert set(artifact["precision"]["enum"]) == {f.precision for f in FORMATS.values()}
    preprocessing = SCHEMA["properties"]["preprocessing"]
    assert set(preprocessing["required"]) == set(preprocessing_constants())
    assert set(SCHEMA["required"]) >= set(contract_fields())


def test_the_schema_ships_with_the_package():
    assert SCHEMA_PATH.parent.name == "artifacts" and SCHEMA_PATH.is_file()
    pyproject = (SCHEMA_PATH.parents[2] / "pyproject.toml").read_text()
    assert '"edge_ser.artifacts" = ["*.json"]' in pyproject


def test_an_export_reads_and_checks_cleanly(tiny_dist):
    manifest = read_manifest(tiny_dist)
    check_artifacts(tiny_dist, manifest)
    assert Draft202012Validator(SCHEMA).is_valid(manifest)


def test_json_nested_too_deeply_is_a_one_line_error(tiny_dist):
    write_manifest_text(tiny_dist, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ArtifactError, match="not valid JSON: nested too deeply"):
        read_manifest(tiny_dist)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not valid JSON"),
        ("[]", "at \\(top level\\)"),
        ('{"format_version": NaN}', "at \\(top level\\)"),
        ("\xff\xfe", "not valid JSON"),
    ],
)
def test_a_manifest_that_is_not_one_is_refused(tiny_dist, text, message):
    (tiny_dist / layout.MANIFEST_JSON).write_bytes(text.encode("latin-1"))
    with pytest.raises(ArtifactError, match=message):
        read_manifest(tiny_dist)


@pytest.mark.parametrize("version", [FORMAT_VERSION - 1, FORMAT_VERSION + 1])
def test_a_manifest_of_another_format_is_refused_by_its_version(tiny_dist, version):
    """An export written before the silence rule's constants existed (format 1) lacks them; the
    error names the format, not the first missing field."""
    manifest = read_manifest(tiny_dist)
    manifest["format_version"] = version
    del manifest["preprocessing"]["speech_edge_frames"]
    write_manifest_text(tiny_dist, json.dumps(manifest))
    with pytest.raises(ArtifactError) as error:
        read_manifest(tiny_dist)
    message = str(error.value)
    assert f"manifest format {version}," in message and "export the model again" in message
    assert "\n" not in message


def test_a_huge_manifest_is_refused_before_it_is_read(tiny_dist):
    write_manifest_text(tiny_dist, " " * (MAX_MANIFEST_BYTES + 1))
    with pytest.raises(ArtifactError, match="larger than"):
        read_manifest(tiny_dist)


def test_schema_errors_quote_a_short_value(tiny_dist):
    manifest = read_manifest(tiny_dist)
    manifest["artifacts"][layout.INT8_TFLITE]["output"]["zero_point"] = [[["junk"] * 500]]
    write_manifest_text(tiny_dist, json.dumps(manifest))
    with pytest.raises(ArtifactError) as error:
        read_manifest(tiny_dist)
    message = str(error.value)
    assert "output/zero_point" in message and len(message) < 400 and "\n" not in message


def test_a_path_that_is_a_file_or_missing(tiny_dist):
    with pytest.raises(ArtifactError, match="does not exist"):
        read_manifest(tiny_dist / "nope")
    with pytest.raises(ArtifactError, match="is not a directory"):
        read_manifest(tiny_dist / layout.LABELS_TXT)


def test_labels_that_are_not_text(tiny_dist):
    (tiny_dist / layout.LABELS_TXT).write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ArtifactError, match="not UTF-8"):
        check_artifacts(tiny_dist, read_manifest(tiny_dist))
