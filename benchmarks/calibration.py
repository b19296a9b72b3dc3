"""What the int8 calibration set does to int8 accuracy against float, on an unseen corpus.

Takes a trained model directory (``--model``, e.g. from ``edge-ser train DIR --val-speakers
none``), the corpus it was trained on (``--train``) and another corpus (``--test``). Converts
the Keras model to full-integer int8 TFLite several times: with the calibration patches the
run saved, and with ``--counts`` patches drawn from the training corpus as the run draws them
(``representative_patches``: spread over labels and speakers), ``--draws`` draws per count.
Each int8 model and the float Keras model score every test clip (clip = mean of the
non-silent patches, as ``edge-ser evaluate`` scores); reported per model: strict UAR,
restricted UAR (argmax over the test corpus's labels), and the share of clips whose strict
and restricted argmax match float's.

    python benchmarks/calibration.py --model runs/ravdess-all \\
        --train ../shared/data/ravdess-speech-actors01-20 --test ../shared/data/emodb/wav \\
        --json benchmarks/calibration.json --markdown benchmarks/calibration.md
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from edge_ser import quiet

# TensorFlow prints its start-up lines on import: hidden as edge-ser hides them.
with quiet.third_party_quieted(quiet.verbose_from_env()):
    from edge_ser.bench.machine import read_cpuinfo
    from edge_ser.bench.output import benchmark_main
    from edge_ser.bundle import ModelBundle
    from edge_ser.cli.common import existing_path, int_at_least
    from edge_ser.evaluate import corpora_report, predict_clips
    from edge_ser.export.tflite import to_int8_tflite
    from edge_ser.metrics import restricted_argmax
    from edge_ser.runtimes.litert_runtime import LiteRTRuntime
    from edge_ser.train import load_labelled_clips, representative_patches

SAVED = "saved with the run"


def scores(probs: np.ndarray, reference: np.ndarray, labels, clips) -> dict:
    """Strict and restricted UAR of clip probabilities, and how often their strict and
    restricted argmax match ``reference``'s (the float model's)."""
    report = corpora_report(probs, labels, clips)
    present = np.isin(labels, [clip.label for clip in clips])
    allowed = np.broadcast_to(present, probs.shape)
    return {
        "uar": report["uar"],
        "restricted_uar": report["restricted"]["uar"],
        "agreement": float(np.mean(probs.argmax(axis=1) == reference.argmax(axis=1))),
        "restricted_agreement": float(
            np.mean(restricted_argmax(probs, allowed) == restricted_argmax(reference, allowed))
        ),
    }


def run(args: argparse.Namespace) -> dict:
    bundle = ModelBundle.load(args.model)
    train, _ = load_labelled_clips([args.train], progress=False)
    test, _ = load_labelled_clips([args.test], progress=False)
    labels = bundle.labels
    kept = [i for i, clip in enumerate(test.clips) if clip.label in labels]
    clips = [test.clips[i] for i in kept]
    log_mels = [test.log_mels[i] for i in kept]
    reference = predict_clips(bundle.runtime(), log_mels)
    calibrations = {(SAVED, 0): bundle.calibration_patches()}
    for count in args.counts:
        for draw in range(args.draws):
            rng = np.random.default_rng(args.seed + draw)
            calibrations[(count, draw)] = representative_patches(train, count, rng)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for (count, draw), patches in calibrations.items():
            path = Path(tmp) / "model_int8.tflite"
            path.write_bytes(to_int8_tflite(bundle.keras_model, patches))
            probs = predict_clips(LiteRTRuntime(path, labels), log_mels)
            rows.append(
                {"patches": count, "n": len(patches), "draw": draw}
                | scores(probs, reference, labels, clips)
            )
    return {
        "model_id": bundle.model_id,
        "train": str(args.train),
        "test": str(args.test),
        "n_test_clips": len(clips),
        "float": scores(reference, reference, labels, clips),
        "cpu": read_cpuinfo().model,
        "cpus": os.cpu_count(),
        "rows": rows,
    }


def markdown(result: dict) -> str:
    float_scores = result["float"]
    lines = [
        "# int8 calibration against float on an unseen corpus",
        "",
        f"Model {result['model_id']}, trained on `{result['train']}`; "
        f"{result['n_test_clips']} test clips of `{result['test']}`. CPU: {result['cpu']} "
        f"({result['cpus']} cores). UAR strict / restricted (argmax over the test corpus's "
        "labels); agreement: share of clips whose argmax matches the float model's.",
        "",
        f"Float32 Keras: {float_scores['uar']:.3f} / {float_scores['restricted_uar']:.3f}.",
        "",
        "| calibration patches | draw | int8 UAR strict / restricted | minus float "
        "| agreement strict / restricted |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        name = row["patches"] if row["patches"] == SAVED else f"{row['n']} drawn"
        lines.append(
            f"| {name} | {row['draw']} | {row['uar']:.3f} / {row['restricted_uar']:.3f} "
            f"| {row['uar'] - float_scores['uar']:+.3f} / "
            f"{row['restricted_uar'] - float_scores['restricted_uar']:+.3f} "
            f"| {row['agreement']:.3f} / {row['restricted_agreement']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=existing_path, required=True, help="a model directory")
    parser.add_argument("--train", type=existing_path, required=True, help="its training corpus")
    parser.add_argument("--test", type=existing_path, required=True, help="a corpus to score")
    parser.add_argument("--counts", type=int_at_least(1), nargs="+", default=[128, 512, 2048])
    parser.add_argument("--draws", type=int_at_least(1), default=3, help="draws per count")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first draw")
    return benchmark_main(parser, run, markdown, argv)


if __name__ == "__main__":
    raise SystemExit(main())
