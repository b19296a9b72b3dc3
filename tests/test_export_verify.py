"""Export every format from a small model, prove verify passes, and prove it catches drift.

One export (session fixture) is copied for each tampering case: a truncated file, a perturbed
weight (with the manifest checksum updated so only parity can catch it), a swapped label
order, a wrong int8 input scale, and a model mismatch.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from model_factory import make_model_dir

from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import DEFAULT_FORMATS, FORMATS
from edge_ser.artifacts.manifest import (
    FORMAT_VERSION,
    digest,
    preprocessing_constants,
    read_manifest,
)
from edge_ser.cli import main
from edge_ser.export import parity
from edge_ser.export.golden import golden_inputs
from edge_ser.quantization import quantize
from edge_ser.reference_preprocess import params

pytestmark = pytest.mark.slow
ALL_FORMATS = list(FORMATS)


@pytest.fixture(scope="session")
def dist(model_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "dist"
    assert (
        main(["export", "--model", str(model_dir), "--out", str(out), "--formats", *ALL_FORMATS])
        == 0
    )
    return out


def run_verify(dist: Path, model_dir: Path, capsys, *extra: str) -> tuple[int, dict | None, str]:
    code = main(["verify", str(dist), "--model", str(model_dir), "--json", *extra])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out.strip() else None
    return code, report, captured.err


def rewrite_checksum(dist: Path, name: str) -> None:
    manifest = read_manifest(dist)
    sha, size = digest(dist / name)
    manifest["artifacts"][name].update(sha256=sha, size_bytes=size)
    (dist / layout.MANIFEST_JSON).write_text(json.dumps(manifest))


def test_export_writes_every_artifact_with_a_complete_manifest(dist):
    manifest = read_manifest(dist)
    expected = {FORMATS[f].filename for f in ALL_FORMATS}
    assert set(manifest["artifacts"]) == expected
    for name, entry in manifest["artifacts"].items():
        assert (dist / name).exists()
        assert (entry["sha256"], entry["size_bytes"]) == digest(dist / name)
    for constant in (
        "SAMPLE_RATE",
        "HOP_LENGTH_SAMPLES",
        "MEL_MIN_HZ",
        "LOG_OFFSET",
        "MIN_SAMPLES",
    ):
        assert manifest["preprocessing"][constant.lower()] == getattr(params, constant)
    int8 = manifest["artifacts"][layout.INT8_TFLITE]
    assert int8["input"]["dtype"] == "int8" and int8["output"]["dtype"] == "int8"
    assert int8["input"]["shape"] == list(layout.INPUT_SHAPE)
    assert (dist / layout.LABELS_TXT).read_text().split() == manifest["labels"]
    assert manifest["parity"]["passed"] is True


def test_default_formats_are_the_documented_four():
    assert [FORMATS[f].filename for f in DEFAULT_FORMATS] == [
        layout.INT8_TFLITE,
        layout.FLOAT32_TFLITE,
        layout.MLPACKAGE,
        layout.MLMODEL,
    ]


def test_golden_int8_inputs_follow_the_manifest_rule(dist):
    entry = read_manifest(dist)["artifacts"][layout.INT8_TFLITE]["input"]
    for name, (_, _, patches) in golden_inputs().items():
        stored = np.fromfile(dist / layout.GOLDEN_DIR / f"{name}.int8.i8", dtype=np.int8)
        expected = quantize(patches[..., 0], entry["scale"], entry["zero_point"]).ravel()
        np.testing.assert_array_equal(stored, expected)


def test_verify_passes_on_a_fresh_export(dist, model_dir, capsys):
    code, report, _ = run_verify(dist, model_dir, capsys)
    assert code == 0 and report["passed"]
    runtimes = {(a["artifact"], a["runtime"]) for a in report["artifacts"].values()}
    assert {name for name, _ in runtimes} == set(read_manifest(dist)["artifacts"])
    for result in report["artifacts"].values():
        assert (
            result["patches"]["n"]
            == report["inputs"]["golden_patches"] + report["inputs"]["held_out_patches"]
        )
        if result["precision"] == "float32":
            assert result["patches"]["max_abs_diff"] <= 1e-4
        if result["precision"] == "float16":
            assert result["patches"]["max_abs_diff"] <= 1e-2


def test_verify_rejects_a_truncated_artifact(dist_copy, model_dir, capsys):
    path = dist_copy / layout.INT8_TFLITE
    path.write_bytes(path.read_bytes()[:-100])
    code, report, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and report is None
    assert "error:" in err and layout.INT8_TFLITE in err


def test_verify_catches_a_perturbed_weight_even_with_a_valid_checksum(dist_copy, model_dir, capsys):
    from edge_ser.bundle import ModelBundle

    # TFLite stores the dense kernel transposed, float32, verbatim: find it and flip it.
    kernel = ModelBundle.load(model_dir).keras_model.get_layer("logits").get_weights()[0]
    stored = np.ascontiguousarray(kernel.T, dtype="<f4").tobytes()
    path = dist_copy / layout.FLOAT32_TFLITE
    data = path.read_bytes()
    start = data.find(stored)
    assert start > 0, "dense kernel not found verbatim in the float32 TFLite file"
    flipped = (-np.frombuffer(stored, dtype="<f4")).astype("<f4").tobytes()
    path.write_bytes(data[:start] + flipped + data[start + len(stored) :])
    rewrite_checksum(dist_copy, layout.FLOAT32_TFLITE)
    code, report, _ = run_verify(dist_copy, model_dir, capsys)
    assert code == 1 and not report["passed"]
    failed = [a for a in report["artifacts"].values() if not a["passed"]]
    assert [a["artifact"] for a in failed] == [layout.FLOAT32_TFLITE]


def test_verify_rejects_a_swapped_label_order(dist_copy, model_dir, capsys):
    labels = (dist_copy / layout.LABELS_TXT).read_text().split()
    labels[0], labels[1] = labels[1], labels[0]
    (dist_copy / layout.LABELS_TXT).write_text("\n".join(labels) + "\n")
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "label order" in err

    manifest = read_manifest(dist_copy)
    manifest["labels"] = labels
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "label order" in err


def test_every_tflite_artifact_carries_the_manifest_labels_in_its_metadata(dist):
    from edge_ser.artifacts.tflite_metadata import read_metadata

    manifest = read_manifest(dist)
    tflite = [name for name in manifest["artifacts"] if name.endswith(".tflite")]
    assert len(tflite) == 4
    for name in tflite:
        metadata = read_metadata((dist / name).read_bytes(), name)
        assert list(metadata.labels) == manifest["labels"]
        assert metadata.name == manifest["model_id"]


def test_verify_rejects_metadata_labels_out_of_order(dist_copy, model_dir, capsys):
    import io
    import zipfile

    path = dist_copy / layout.WAVEFORM_INT8_TFLITE
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        model_end = archive.getinfo(layout.LABELS_TXT).header_offset
        labels = archive.read(layout.LABELS_TXT).decode().split()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr(layout.LABELS_TXT, "\n".join(reversed(labels)))
    path.write_bytes(data[:model_end] + packed.getvalue())
    rewrite_checksum(dist_copy, layout.WAVEFORM_INT8_TFLITE)
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "labels in the metadata of 'emotion_waveform_int8.tflite'" in err


def test_verify_refuses_a_wrong_quantization_scale(dist_copy, model_dir, capsys):
    manifest = read_manifest(dist_copy)
    manifest["artifacts"][layout.INT8_TFLITE]["input"]["scale"] *= 1.5
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    code, report, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and report is None
    assert "the manifest's input" in err and "model file's" in err


def test_verify_rejects_artifacts_of_another_model(dist, tmp_path, capsys):
    other = make_model_dir(tmp_path / "other", seed=1)
    code, _, err = run_verify(dist, other, capsys)
    assert code == 2 and "exported from model" in err


def test_verify_rejects_a_directory_without_manifest(tmp_path, model_dir, capsys):
    code, _, err = run_verify(tmp_path, model_dir, capsys)
    assert code == 2 and "manifest.json" in err


def test_verify_says_that_a_missing_directory_does_not_exist(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"error: '{tmp_path / 'nope'}' does not exist\n"


def test_verify_explains_its_columns_and_fits_its_cells(dist, model_dir, capsys):
    assert main(["verify", str(dist), "--model", str(model_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0]
    rows = [line for line in lines[1:] if line.startswith("emotion")]  # not notes under a row
    assert len(rows) >= len(read_manifest(dist)["artifacts"])
    ends = [header.index(name) + len(name) for name in ("patch top1", "max|dp|", "mean|dp|")]
    for row in rows:  # numbers end where their column's (right-aligned) header ends
        assert all(row[end - 1] != " " and row[end] == " " for end in ends), row
        assert row.split()[-1] == "ok"
    int8_row = next(row for row in rows if row.startswith(layout.INT8_TFLITE))
    assert "top1 >= 0.970" in int8_row
    legend = "\n".join(lines)
    assert "max|dp|, mean|dp|: largest and mean absolute difference" in legend
    assert "a large max|dp| is expected" in legend


def test_export_never_clobbers_without_force(dist, model_dir, tmp_path, capsys):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code = main(
        ["export", "--model", str(model_dir), "--out", str(out), "--formats", "tflite-float32"]
    )
    assert code == 2 and "(keep.txt) and is not an export" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_failed_parity_at_export_leaves_nothing_behind(tmp_path, capsys):
    miscalibrated = make_model_dir(tmp_path / "miscalibrated")
    calibration = miscalibrated / "calibration_patches.npy"
    np.save(calibration, np.load(calibration) * 50)  # ranges far wider than any real patch
    out = tmp_path / "dist"
    code = main(
        ["export", "--model", str(miscalibrated), "--out", str(out), "--formats", "tflite-int8"]
    )
    assert code == 1 and "nothing written" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".dist*"))


def test_top1_agreement_counts_decisive_patches_and_reports_all():
    reference = np.array([[0.51, 0.49], [0.9, 0.1], [0.2, 0.8]])
    candidate = np.array([[0.49, 0.51], [0.9, 0.1], [0.8, 0.2]])  # a near-tie and a real flip
    stats = parity.compare(reference, candidate)
    assert stats["decisive_n"] == 2 and stats["top1_agreement"] == 0.5
    assert stats["top1_agreement_all"] == pytest.approx(1 / 3)
    assert parity.failures("int8", stats, None, parity.DEFAULT_THRESHOLDS)


# -- the app-facing contract: every field is proved, and the directory is untrusted ----------


def _changed(value):
    """A different value of the same JSON type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 1.01
    if isinstance(value, str):
        return value + "x"
    return value[::-1]  # a list: shapes and labels, whose items differ


def _set(path: str, value=None, change=_changed):
    """A mutation setting the manifest field at ``path`` ("a/b") to ``value`` or changing it."""

    def mutate(manifest: dict) -> None:
        *parents, key = path.split("/")
        node = manifest
        for parent in parents:
            node = node[parent]
        node[key] = change(node[key]) if value is None else value

    return mutate


def _drop(path: str):
    def mutate(manifest: dict) -> None:
        *parents, key = path.split("/")
        node = manifest
        for parent in parents:
            node = node[parent]
        del node[key]

    return mutate


INT8, W8 = f"artifacts/{layout.INT8_TFLITE}", f"artifacts/{layout.MLPACKAGE_W8}"
CONTRACT_MUTATIONS = {
    "format_version": _set("format_version", FORMAT_VERSION + 1),
    "model_id": _set("model_id", "another-model"),
    "labels order": _set("labels"),
    "labels one missing": _set("labels", change=lambda labels: labels[:-1]),
    "aggregation": _set("aggregation", "median of patch probabilities"),
    "quantization_rule": _set("quantization_rule"),
    **{
        f"input/{key}": _set(f"input/{key}") for key in ("name", "layout", "dtype", "normalization")
    },
    "input/shape": _set("input/shape", [1, 64, 96, 1]),
    **{f"preprocessing/{k}": _set(f"preprocessing/{k}") for k in preprocessing_constants()},
    "preprocessing/num_mel_bands as 64.0": _set("preprocessing/num_mel_bands", 64.0),
    "preprocessing extra constant": _set("preprocessing/dither", 0.1),
    **{
        f"int8 {key}": _set(f"{INT8}/{key}")
        for key in ("sha256", "size_bytes", "input/name", "input/shape", "input/zero_point")
    },
    "int8 format": _set(f"{INT8}/format", "tflite-float32"),
    "int8 precision": _set(f"{INT8}/precision", "float32"),
    "int8 runtime": _set(f"{INT8}/runtime", "coreml"),
    "int8 input dtype": _set(f"{INT8}/input/dtype", "float32"),
    "int8 input scale": _set(f"{INT8}/input/scale", change=lambda scale: scale * 1.5),
    "int8 output scale": _set(f"{INT8}/output/scale", change=lambda scale: scale / 2),
    "int8 output zero point null": _set(f"{INT8}/output/zero_point", None, change=lambda _: None),
    "int8 output zero point": _set(f"{INT8}/output/zero_point"),
    "int8 output name": _set(f"{INT8}/output/name"),
    "int8 output shape": _set(f"{INT8}/output/shape", [1, 9]),
    "float32 input scale added": _set(f"artifacts/{layout.FLOAT32_TFLITE}/input/scale", 0.5),
    **{
        f"mlpackage-w8 {key}": _set(f"{W8}/{key}")
        for key in ("input/name", "output/label", "output/probabilities")
    },
    "mlpackage-w8 input shape": _set(f"{W8}/input/shape", [1, 96, 64, 2]),
    "mlpackage-w8 deployment target": _set(f"{W8}/minimum_deployment_target", "iOS15"),
    "mlpackage-w8 model type": _set(f"{W8}/model_type", "neuralNetwork"),
    "artifact entry removed, file kept": _drop(f"artifacts/{layout.MLMODEL}"),
    "artifacts empty": _set("artifacts", {}),
    "manifest empty": lambda manifest: manifest.clear(),
}


@pytest.mark.parametrize("mutate", CONTRACT_MUTATIONS.values(), ids=CONTRACT_MUTATIONS.keys())
def test_verify_refuses_a_manifest_whose_contract_field_is_wrong(
    mutate, dist_copy, model_dir, capsys
):
    manifest = read_manifest(dist_copy)
    mutate(manifest)
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    code, report, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and report is None
    assert err.startswith("error: ") and err.count("\n") == 1, err


@pytest.fixture
def opened_files():
    """Paths that ``open`` is called on during the test (Python's audit hook); clear it when
    what is measured starts."""
    opened: list[str] = []
    recording = [True]

    def hook(event: str, args: tuple) -> None:
        if recording[0] and event == "open" and isinstance(args[0], (str, bytes, Path)):
            opened.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)  # hooks cannot be removed: this one stops recording instead
    yield opened
    recording[0] = False


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_verify_opens_nothing_outside_the_directory(
    where, dist_copy, model_dir, tmp_path, capsys, opened_files
):
    outside = tmp_path / "outside" / "secret.bin"
    outside.parent.mkdir()
    outside.write_bytes(b"not part of the export")
    name = "../outside/secret.bin" if where == "relative" else str(outside)
    manifest = read_manifest(dist_copy)
    manifest["artifacts"][name] = manifest["artifacts"][layout.INT8_TFLITE]
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    opened_files.clear()
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "does not follow the manifest schema at artifacts" in err
    assert not [path for path in opened_files if "outside" in path]


def test_verify_refuses_a_symbolic_link_out_of_the_directory(
    dist_copy, model_dir, tmp_path, capsys, opened_files
):
    outside = tmp_path / "outside.tflite"
    outside.write_bytes((dist_copy / layout.INT8_TFLITE).read_bytes())
    (dist_copy / layout.INT8_TFLITE).unlink()
    (dist_copy / layout.INT8_TFLITE).symlink_to(outside)
    opened_files.clear()
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "symbolic link" in err
    assert str(outside) not in opened_files


def test_verify_refuses_a_model_file_the_manifest_does_not_list(dist_copy, model_dir, capsys):
    shutil.copy(dist_copy / layout.FLOAT32_TFLITE, dist_copy / "extra.tflite")
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "'extra.tflite' is a model file that the manifest does not list" in err


def test_verify_ignores_informational_fields(dist_copy, model_dir, capsys):
    manifest = read_manifest(dist_copy)
    manifest["edge_ser_version"] = "9.9.9"
    manifest["parity"] = {"anything": [1, "two"]}
    manifest["source_model"] = {"path": "/nowhere/model"}
    for entry in manifest["artifacts"].values():
        entry["description"] = "described differently"
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    (dist_copy / "bench.md").write_text("a file that is not a model may sit beside the export\n")
    code, report, _ = run_verify(dist_copy, model_dir, capsys)
    assert code == 0 and report["passed"]


def test_verify_finds_the_recorded_source_model_without_model(dist, model_dir, capsys):
    assert read_manifest(dist)["source_model"] == {"path": str(model_dir.resolve())}
    assert main(["verify", str(dist), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"]


def test_an_export_without_its_source_path_names_no_directory_of_the_machine(
    model_dir, tmp_path, capsys
):
    out = tmp_path / "dist"
    argv = ["export", "--model", str(model_dir), "--out", str(out), "--no-source-path"]
    assert main([*argv, "--formats", "tflite-float32", "mlmodel"]) == 0
    assert read_manifest(out)["source_model"] == {"path": None}
    for path in out.rglob("*"):
        if path.is_file():  # not in the manifest, the model files or their metadata
            assert str(model_dir.resolve()).encode() not in path.read_bytes(), path
    capsys.readouterr()
    code, report, _ = run_verify(out, model_dir, capsys)
    assert code == 0 and report["passed"]


@pytest.mark.parametrize("recorded", ["relative/model", "/nowhere/model", "/"])
def test_verify_treats_the_recorded_source_path_as_untrusted(
    recorded, dist_copy, model_dir, capsys
):
    manifest = read_manifest(dist_copy)
    manifest["source_model"]["path"] = recorded
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    assert main(["verify", str(dist_copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert ("is not absolute" if recorded.startswith("relative") else "--model") in err


# -- fuzzing: mutated manifests give a correct verdict or a one-line error ------------------

MANIFEST_FUZZ_CASES = 300
JUNK = [None, 0, -1, 2.5, 10**30, "", "../x", True, [], {}, {"a": [1, {"b": None}]}, "x" * 5000]
INFORMATIONAL = {"edge_ser_version", "parity", "source_model", "description"}


@pytest.fixture(scope="module")
def tflite_dist(model_dir, tmp_path_factory) -> Path:
    """An export of the TFLite formats only: verify runs through it in a fraction of a second."""
    out = tmp_path_factory.mktemp("tflite-export") / "dist"
    formats = ["tflite-int8", "tflite-float32"]
    assert (
        main(["export", "--model", str(model_dir), "--out", str(out), "--formats", *formats]) == 0
    )
    return out


def _random_node(rng: np.random.Generator, manifest: dict) -> tuple[list, object]:
    """A random path into ``manifest`` (a top-level key first, each equally likely) and the
    container holding its last step."""
    path, node = [], manifest
    while isinstance(node, (dict, list)) and node and (not path or rng.random() < 0.65):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = keys[int(rng.integers(len(keys)))]
        path.append(key)
        node = node[key]
    return path, node


def _mutate(rng: np.random.Generator, manifest: dict) -> tuple[str, bool]:
    """Mutate ``manifest`` in place; return what was done and whether only informational
    fields (or fields an app ignores) changed."""
    path, _ = _random_node(rng, manifest)
    parent = manifest
    for key in path[:-1]:
        parent = parent[key]
    informational = bool(INFORMATIONAL & {str(k) for k in path})
    operation = int(rng.integers(4))
    where = "/".join(map(str, path)) or "(top level)"
    if not path or operation == 0:  # a new field beside it: ignored where the schema allows
        target = parent if path else manifest
        if isinstance(target, dict):
            target["zz_added"] = JUNK[int(rng.integers(len(JUNK)))]
            ignored = len(path) <= 1 or (len(path) == 3 and path[0] == "artifacts")
            return f"added a field in {where}", informational or ignored
        operation = 1
    if operation == 1:
        value = JUNK[int(rng.integers(len(JUNK)))]
        parent[path[-1]] = value
        return f"{where} = {json.dumps(value)[:20]}", informational
    if operation == 2 and isinstance(parent, dict):
        del parent[path[-1]]
        return f"deleted {where}", informational
    if path[0] == "artifacts" and len(path) == 2:
        name = path[1]
        parent[rng.choice(["../" + name, "/etc/hostname", name + "/x", name.upper()])] = parent.pop(
            name
        )
        return f"renamed {where}", False
    parent[path[-1]] = JUNK[int(rng.integers(len(JUNK)))]
    return f"{where} replaced", informational


def test_fuzzed_manifests_are_refused_in_one_line_or_verified(tflite_dist, model_dir, tmp_path):
    """Seeded mutations of a valid manifest (values replaced by junk, keys deleted or added,
    artifacts renamed to paths): verify passes only when no contract field changed, and
    otherwise exits 2 with one ``error:`` line; nothing else (a traceback, exit 1) happens."""
    dist = tmp_path / "dist"
    shutil.copytree(tflite_dist, dist)
    original = (dist / layout.MANIFEST_JSON).read_text()
    rng = np.random.default_rng(18)
    outcomes = {0: 0, 2: 0}
    problems = []
    for _ in range(MANIFEST_FUZZ_CASES):
        manifest = json.loads(original)
        what, harmless = _mutate(rng, manifest)
        (dist / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["verify", str(dist), "--model", str(model_dir), "--json"])
        except Exception as exc:  # noqa: BLE001  (the finding this test exists for)
            problems.append(f"{what}: {type(exc).__name__}: {exc}")
            continue
        outcomes[code] = outcomes.get(code, 0) + 1
        one_line = err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1
        if not (code == 2 and one_line or code == 0 and harmless):
            problems.append(f"{what}: exit {code}, stderr {err.getvalue()[:200]!r}")
    assert problems == []
    assert outcomes[0] > 10 and outcomes[2] > MANIFEST_FUZZ_CASES // 2
