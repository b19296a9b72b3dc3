"""Export-time label sets (``edge-ser export --labels/--merge``): the reduction, the spec's
errors, and one export of every format of a small model proved by ``verify`` (with the
manifest's ``label_set`` refused when it does not fit), read by ``Recognizer``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_factory import write_audio
from test_export_verify import ALL_FORMATS, run_verify

from edge_ser import Recognizer
from edge_ser.artifacts import layout
from edge_ser.artifacts.manifest import read_manifest
from edge_ser.artifacts.tflite_metadata import read_metadata
from edge_ser.bundle import ModelBundle
from edge_ser.cli import main
from edge_ser.labels import CANONICAL_LABELS, LabelSet
from edge_ser.reference_preprocess import params
from edge_ser.reference_preprocess.signals import voice

LABELS = ("neutral", "happy", "sad", "angry")
MERGE = ("calm=neutral",)
SPEC = ["--labels", ",".join(LABELS), *(a for m in MERGE for a in ("--merge", m))]


def test_reduce_sums_merged_labels_drops_the_rest_and_renormalizes():
    label_set = LabelSet.build(CANONICAL_LABELS, LABELS, MERGE)
    # neutral calm happy sad angry fearful disgust surprised
    probs = np.array([[0.1, 0.2, 0.3, 0.05, 0.15, 0.1, 0.05, 0.05]])
    # neutral = 0.1 + 0.2, happy 0.3, sad 0.05, angry 0.15; kept mass 0.8
    expected = np.array([[0.375, 0.375, 0.0625, 0.1875]])
    np.testing.assert_allclose(label_set.reduce(probs), expected, rtol=1e-6)
    assert label_set.groups == ((0, 1), (2,), (3,), (4,))


def test_the_model_head_computes_the_reduction(model_dir):
    from edge_ser.model import with_label_set

    bundle = ModelBundle.load(model_dir)
    patches = bundle.parity_patches()[:16]
    for label_set in (
        LabelSet.build(bundle.labels, ("angry", "neutral", "happy")),  # a reordered subset
        LabelSet.build(bundle.labels, LABELS, ("calm=neutral", "disgust=angry")),
    ):
        reduced = with_label_set(bundle.keras_model, label_set)
        full = bundle.runtime().predict_patches(patches)
        np.testing.assert_allclose(np.asarray(reduced(patches)), label_set.reduce(full), atol=1e-6)
        # what verify compares label-set exports with: the same graph
        np.testing.assert_allclose(
            bundle.runtime(label_set).predict_patches(patches), label_set.reduce(full), atol=1e-6
        )


SPEC_ERRORS = {
    "unknown label": (["--labels", "neutral,bored"], "unknown label 'bored'"),
    "duplicate label": (["--labels", "neutral,sad,neutral"], "'neutral' is listed twice"),
    "empty list": (["--labels", ""], "empty label"),
    "empty item": (["--labels", "neutral,,sad"], "empty label"),
    "one label": (["--labels", "neutral"], "at least 2 labels"),
    "merge source unknown": ([*SPEC, "--merge", "bored=neutral"], "cannot merge 'bored'"),
    "merge target not kept": (
        ["--labels", "neutral,sad", "--merge", "calm=happy"],
        "'happy' is not one of the labels",
    ),
    "kept and merged": ([*SPEC, "--merge", "sad=neutral"], "'sad' is both kept and merged"),
    "merged twice": ([*SPEC, "--merge", "calm=sad"], "'calm' is merged more than once"),
    "merge without labels": (["--merge", "calm=neutral"], "--merge needs --labels"),
    "merge syntax": (["--labels", "neutral,sad", "--merge", "calm"], "expected SOURCE=TARGET"),
}


@pytest.mark.parametrize("args, message", SPEC_ERRORS.values(), ids=SPEC_ERRORS.keys())
def test_a_bad_label_spec_is_a_one_line_error(args, message, tmp_path, capsys):
    out = tmp_path / "dist"
    try:
        code = main(["export", "--out", str(out), *args])
    except SystemExit as exit_:  # argparse's errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists()


def test_a_wrong_merge_fails_before_tensorflow_is_imported(tmp_path):
    script = (
        "import sys\nfrom edge_ser.cli import main\n"
        f"code = main(['export', '--out', {str(tmp_path / 'dist')!r}, '--labels', 'neutral,sad', "
        "'--merge', 'calm=happy'])\n"
        "print(code, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["2", "False", "False"], done.stderr
    assert done.stderr.count("\n") == 1 and "'happy' is not one of the labels" in done.stderr


# -- one export of every format with a label set -----------------------------------------


@pytest.fixture(scope="module")
def dist(model_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("labels") / "dist"
    args = ["export", "--model", str(model_dir), "--out", str(out), "--formats", *ALL_FORMATS]
    assert main([*args, *SPEC]) == 0
    return out


@pytest.mark.slow
def test_every_format_outputs_the_label_set_and_verify_proves_it(dist, model_dir, capsys):
    manifest = read_manifest(dist)
    assert manifest["labels"] == list(LABELS)
    assert manifest["label_set"] == {
        "source_labels": list(CANONICAL_LABELS),
        "merge": {"calm": "neutral"},
    }
    assert (dist / layout.LABELS_TXT).read_text().split() == list(LABELS)
    for name, entry in manifest["artifacts"].items():
        if entry["runtime"] == "litert":
            assert entry["output"]["shape"] == [1, len(LABELS)]
            assert read_metadata((dist / name).read_bytes(), name).labels == LABELS
    code, report, _ = run_verify(dist, model_dir, capsys)
    assert code == 0 and report["passed"], report
    assert report["labels"] == list(LABELS)
    assert report["label_set"] == manifest["label_set"]
    assert set(report["artifacts"]) >= {
        f"{name} [litert]" for name in manifest["artifacts"] if name.endswith(".tflite")
    }


@pytest.mark.slow
def test_verify_compares_with_the_reduced_keras_probabilities(dist_copy, model_dir, capsys):
    """A label set exported from one merge but described as another fails parity."""
    manifest = read_manifest(dist_copy)
    manifest["label_set"]["merge"] = {"disgust": "neutral"}
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    code, report, _ = run_verify(dist_copy, model_dir, capsys)
    assert code == 1 and not report["passed"]


def _set_label_set(change):
    def mutate(manifest: dict) -> None:
        change(manifest["label_set"])

    return mutate


LABEL_SET_MUTATIONS = {
    "merge target not an output label": _set_label_set(lambda s: s["merge"].update(calm="fearful")),
    "merge source is an output label": _set_label_set(lambda s: s["merge"].update(sad="angry")),
    "merge source not a source label": _set_label_set(lambda s: s["merge"].update(bored="sad")),
    "output label not a source label": _set_label_set(
        lambda s: s.update(source_labels=[x for x in s["source_labels"] if x != "happy"])
    ),
    "source labels reordered": _set_label_set(
        lambda s: s.update(source_labels=s["source_labels"][::-1])
    ),
    "label_set removed": lambda manifest: manifest.pop("label_set"),
    "labels and labels.txt of another set": lambda manifest: manifest.update(
        labels=["neutral", "happy", "sad", "fearful"]
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("mutate", LABEL_SET_MUTATIONS.values(), ids=LABEL_SET_MUTATIONS.keys())
def test_verify_refuses_a_label_set_that_does_not_fit(mutate, dist_copy, model_dir, capsys):
    manifest = read_manifest(dist_copy)
    mutate(manifest)
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    (dist_copy / layout.LABELS_TXT).write_text("\n".join(manifest["labels"]) + "\n")
    code, report, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and report is None
    assert err.startswith("error: ") and err.count("\n") == 1, err


@pytest.mark.slow
def test_verify_refuses_a_manifest_output_shape_of_the_source_labels(dist_copy, model_dir, capsys):
    manifest = read_manifest(dist_copy)
    manifest["artifacts"][layout.INT8_TFLITE]["output"]["shape"] = [1, len(CANONICAL_LABELS)]
    (dist_copy / layout.MANIFEST_JSON).write_text(json.dumps(manifest))
    code, _, err = run_verify(dist_copy, model_dir, capsys)
    assert code == 2 and "outputs 8 values in the manifest, but it has 4 labels" in err


@pytest.mark.slow
def test_recognizer_reports_only_the_label_set(dist):
    recognizer = Recognizer.load(dist)
    assert recognizer.labels == LABELS
    speech = voice(3 * params.SAMPLE_RATE)
    waveform = np.concatenate([speech, np.zeros(2 * params.SAMPLE_RATE, np.float32), speech])
    result = recognizer.predict_waveform(waveform, params.SAMPLE_RATE)
    assert list(result.probabilities) == list(LABELS) and result.label in LABELS
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-2)
    silent = [w.silence for w in result.windows]
    assert any(silent) and not all(silent)
    assert {w.label for w in result.windows if w.silence} == {"silence"}
    stream = recognizer.stream(smoothing=3)
    windows = stream.feed(waveform) + stream.flush()
    assert len(windows) == len(result.windows)
    assert all(list(w.probabilities) == list(LABELS) for w in windows)


@pytest.mark.slow
def test_predict_with_the_export_reports_only_the_label_set(dist, tmp_path, capsys):
    wav = write_audio(tmp_path / "clip.wav", voice(3 * params.SAMPLE_RATE))
    capsys.readouterr()
    assert main(["predict", str(wav), "--model", str(dist), "--json", "--timeline"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["labels"] == list(LABELS)
    clip = output["clips"][0]
    assert list(clip["probabilities"]) == list(LABELS) and clip["label"] in LABELS
    assert all(list(w["probabilities"]) == list(LABELS) for w in clip["windows"])
