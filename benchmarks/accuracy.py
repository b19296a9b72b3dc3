"""Speaker-independent accuracy: classic SER recipes vs the edge-ser CNN, float and int8.

Every method is trained and tested on the same k leave-speakers-out folds
(``edge_ser.corpora.speaker_folds``): no test speaker is ever seen in training, feature
scaling or model selection. Reported per method: clip accuracy, UAR (unweighted average
recall) and macro-F1, mean +- standard deviation over the folds.

Methods (``--methods``; default all):

- ``mfcc-svm``: 40 MFCC means per clip, standardised, SVM (RBF); C chosen by a
  leave-speakers-out grid search inside the training side;
- ``summary-mlp``: 26 summary features (chroma, RMS, spectral centroid, bandwidth, roll-off,
  zero-crossing rate means and 20 MFCC means), standardised, MLP (one hidden layer of 300);
- ``mfcc-conv1d``: the popular tutorial recipe, a Conv1D over the per-frame mean of 13 MFCCs
  of 2.5 s starting 0.5 s into the clip (a small network, fixed epoch count, no test peeking);
- ``egemaps-svm`` (not run by default; needs ``pip install -e .[bench]``): the 88 eGeMAPSv02
  functionals of openSMILE, standardised, linear SVM with balanced class weights, C chosen
  as for ``mfcc-svm``;
- ``edge-ser``: the edge-ser CNN trained with ``edge_ser.train.fit`` as ``edge-ser cv`` does
  (on every training-side speaker, the last epochs' weights averaged; with ``--patience``,
  early stopping on speakers from the training side), scored as the float Keras model and as
  the int8 TFLite model converted with the fitting speakers' patches for calibration.

Audio is decoded with ``edge_ser.audio.load`` (16 kHz mono); the CNN reads the reference
log-mels through the feature cache.

Usage::

    python benchmarks/accuracy.py [DATA_DIR] [--folds 5] [--epochs 120] [--patience N] [--seed 0]
        [--methods mfcc-svm summary-mlp mfcc-conv1d edge-ser]
        [--json PATH] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from edge_ser import quiet  # noqa: E402

# TensorFlow prints its start-up lines on import: hidden as edge-ser hides them.
with quiet.third_party_quieted(quiet.verbose_from_env()):
    import egemaps  # eGeMAPS functionals, in a process without TensorFlow

    from edge_ser import audio, corpora
    from edge_ser.bench.output import benchmark_main
    from edge_ser.features import FeatureCache
    from edge_ser.metrics import Scores, score
    from edge_ser.reference_preprocess import params, quiet_windows
    from edge_ser.train import (
        CALIBRATION_PATCHES,
        LabelledClips,
        TrainConfig,
        fit,
        fold_parts,
        load_labelled_clips,
        recipe_text,
        representative_patches,
        summarise_folds,
    )

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess-speech-actors01-20"
)
SR = params.SAMPLE_RATE

# The Conv1D tutorial's input: per-frame mean of 13 MFCCs over 2.5 s from 0.5 s into the clip.
CONV1D_OFFSET_S = 0.5
CONV1D_SECONDS = 2.5
CONV1D_MFCC = 13
CONV1D_EPOCHS = 60
SVM_C_GRID = (0.1, 1.0, 10.0, 100.0)
SVM_SEARCH_FOLDS = 4  # leave-speakers-out folds of the grid search inside the training side
METRICS = ("accuracy", "uar", "macro_f1")
# The edge-ser method reports two rows: the float model and its int8 conversion.
FLOAT_ROW, INT8_ROW = "edge-ser CNN, float32 Keras", "edge-ser CNN, int8 TFLite"
# The same model's clips under the silence rule before silent ends counted (level only).
LEVEL_RULE = ", level-only silence rule"


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- features of the classic recipes -------------------------------------------------------


def classic_features(waveform: np.ndarray) -> dict[str, np.ndarray]:
    """Per-clip inputs of the three classic recipes, from a 16 kHz mono waveform.

    Returns ``mfcc40`` (40,), ``summary26`` (26,) and ``mfcc_frames`` (frames,) float32.
    The first 20 of 40 MFCCs equal librosa's ``n_mfcc=20`` (the DCT is truncated, not refit).
    """
    import librosa

    mfcc = librosa.feature.mfcc(y=waveform, sr=SR, n_mfcc=40)
    summary = [
        np.mean(librosa.feature.chroma_stft(y=waveform, sr=SR)),
        np.mean(librosa.feature.rms(y=waveform)),
        np.mean(librosa.feature.spectral_centroid(y=waveform, sr=SR)),
        np.mean(librosa.feature.spectral_bandwidth(y=waveform, sr=SR)),
        np.mean(librosa.feature.spectral_rolloff(y=waveform, sr=SR)),
        np.mean(librosa.feature.zero_crossing_rate(waveform)),
        *mfcc[:20].mean(axis=1),
    ]
    start = round(CONV1D_OFFSET_S * SR)
    segment = waveform[start : start + round(CONV1D_SECONDS * SR)]
    segment = np.pad(segment, (0, round(CONV1D_SECONDS * SR) - len(segment)))
    frames = librosa.feature.mfcc(y=segment, sr=SR, n_mfcc=CONV1D_MFCC).mean(axis=0)
    return {
        "mfcc40": mfcc.mean(axis=1).astype(np.float32),
        "summary26": np.asarray(summary, dtype=np.float32),
        "mfcc_frames": frames.astype(np.float32),
    }


def load_classic_features(clips: list, methods: Sequence[str]) -> dict[str, np.ndarray]:
    """The per-clip inputs ``methods`` need, stacked: name -> ``(n_clips, ...)``:
    ``classic_features`` (librosa) and ``egemaps`` (openSMILE functionals)."""
    features: dict[str, np.ndarray] = {}
    if set(methods) & LIBROSA_METHODS:
        rows = []
        for i, clip in enumerate(clips, start=1):
            rows.append(classic_features(audio.load(clip.path, target_sr=SR)))
            if i % 100 == 0 or i == len(clips):
                log(f"classic features: {i}/{len(clips)} clips")
        features = {name: np.stack([row[name] for row in rows]) for name in rows[0]}
    if "egemaps-svm" in methods:
        log(f"eGeMAPS functionals of {len(clips)} clips")
        features["egemaps"] = egemaps.functionals([clip.path for clip in clips])
    return features


# --- the methods ---------------------------------------------------------------------------


@dataclass
class Fold:
    """One leave-speakers-out fold: clip indices into the corpus and the fold number (1-based)."""

    number: int
    train: np.ndarray
    test: np.ndarray


@dataclass
class Corpus:
    data: LabelledClips
    train_config: TrainConfig  # the edge-ser CNN's, from the command line
    classic: dict[str, np.ndarray] = field(default_factory=dict)


def mfcc_svm(corpus: Corpus, fold: Fold, args: argparse.Namespace) -> dict[str, np.ndarray]:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x, y = corpus.classic["mfcc40"], corpus.data.targets
    groups = np.array(corpus.data.speakers)[fold.train]
    pipeline = make_pipeline(StandardScaler(), SVC(kernel="rbf", gamma="scale"))
    search = grouped_svm_search(pipeline, x[fold.train], y[fold.train], groups)
    log(f"  mfcc-svm: C = {search.best_params_['svc__C']:g}")
    return {"mfcc-svm": class_scores(search.decision_function(x[fold.test]))}


def grouped_svm_search(estimator, x, y, groups):
    """``estimator`` (a pipeline ending in ``svc``) with C picked by UAR on speaker folds."""
    from sklearn.model_selection import GridSearchCV, GroupKFold

    search = GridSearchCV(
        estimator,
        {"svc__C": SVM_C_GRID},
        scoring="balanced_accuracy",  # = UAR
        cv=GroupKFold(n_splits=min(SVM_SEARCH_FOLDS, len(set(groups)))),
    )
    return search.fit(x, y, groups=groups)


def egemaps_svm(corpus: Corpus, fold: Fold, args: argparse.Namespace) -> dict[str, np.ndarray]:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    x, y = corpus.classic["egemaps"], corpus.data.targets
    groups = np.array(corpus.data.speakers)[fold.train]
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("svc", LinearSVC(class_weight="balanced", max_iter=20000))]
    )
    search = grouped_svm_search(pipeline, x[fold.train], y[fold.train], groups)
    log(f"  egemaps-svm: C = {search.best_params_['svc__C']:g}")
    return {"egemaps-svm": class_scores(search.decision_function(x[fold.test]))}


def summary_mlp(corpus: Corpus, fold: Fold, args: argparse.Namespace) -> dict[str, np.ndarray]:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = corpus.classic["summary26"], corpus.data.targets
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(300,),
            alpha=0.01,
            batch_size=256,
            learning_rate="adaptive",
            max_iter=500,
            random_state=args.seed,
        ),
    )
    model.fit(x[fold.train], y[fold.train])
    return {"summary-mlp": model.predict_proba(x[fold.test])}


def mfcc_conv1d(corpus: Corpus, fold: Fold, args: argparse.Namespace) -> dict[str, np.ndarray]:
    import keras
    from keras import layers

    x, y = corpus.classic["mfcc_frames"], corpus.data.targets
    mean, std = x[fold.train].mean(), x[fold.train].std()
    x = ((x - mean) / std)[..., np.newaxis]
    keras.utils.set_random_seed(args.seed + fold.number)
    model = keras.Sequential(
        [
            keras.Input(shape=x.shape[1:]),
            layers.Conv1D(64, 5, padding="same", activation="relu"),
            layers.Conv1D(64, 5, padding="same", activation="relu"),
            layers.Dropout(0.1),
            layers.MaxPooling1D(4),
            layers.Conv1D(32, 5, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(len(corpus.data.labels), activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x[fold.train], y[fold.train], epochs=args.conv1d_epochs, batch_size=32, verbose=0)
    return {"mfcc-conv1d": model.predict(x[fold.test], verbose=0)}


def edge_ser_cnn(corpus: Corpus, fold: Fold, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """Train as ``edge_ser.train.cross_validate`` does; score float Keras and int8 LiteRT."""
    from edge_ser.evaluate import predict_clips
    from edge_ser.export.tflite import to_int8_tflite
    from edge_ser.runtimes.keras_runtime import KerasRuntime
    from edge_ser.runtimes.litert_runtime import LiteRTRuntime

    data = corpus.data
    config = corpus.train_config
    test_speakers = {data.speakers[i] for i in fold.test}
    fit_part, stop_part, test = fold_parts(
        data, test_speakers, config.seed, fold.number, config.early_stopping
    )
    if stop_part is not None:
        log(f"  edge-ser: early stopping on {', '.join(sorted(set(stop_part.speakers)))}")
    model, _ = fit(fit_part, stop_part, config, log=lambda line: log(f"  {line}"), progress=False)
    calibration = representative_patches(
        fit_part, CALIBRATION_PATCHES, np.random.default_rng(config.seed + 1)
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model_int8.tflite"
        path.write_bytes(to_int8_tflite(model, calibration))
        runtimes = {FLOAT_ROW: KerasRuntime(model, data.labels)}
        runtimes[INT8_ROW] = LiteRTRuntime(path, data.labels)
        rows = {row: predict_clips(runtime, test.log_mels) for row, runtime in runtimes.items()}
        for row, runtime in runtimes.items():
            rows[row + LEVEL_RULE] = predict_clips(runtime, test.log_mels, quiet_windows)
    return rows


def class_scores(decision: np.ndarray) -> np.ndarray:
    """``(n, n_labels)`` scores from an sklearn ``decision_function`` (two labels: ``(n,)``)."""
    return np.column_stack([-decision, decision]) if decision.ndim == 1 else decision


# A method returns, per report row, ``(n_test, n_labels)`` scores whose argmax is its answer.
Method = Callable[[Corpus, Fold, argparse.Namespace], dict[str, np.ndarray]]
METHODS: dict[str, tuple[Method, bool]] = {  # name -> (method, needs the classic features)
    "mfcc-svm": (mfcc_svm, True),
    "summary-mlp": (summary_mlp, True),
    "mfcc-conv1d": (mfcc_conv1d, True),
    "egemaps-svm": (egemaps_svm, True),
    "edge-ser": (edge_ser_cnn, False),
}
DEFAULT_METHODS = ("mfcc-svm", "summary-mlp", "mfcc-conv1d", "edge-ser")
LIBROSA_METHODS = {"mfcc-svm", "summary-mlp", "mfcc-conv1d"}
EDGE_SER_ROWS = (FLOAT_ROW, INT8_ROW, FLOAT_ROW + LEVEL_RULE, INT8_ROW + LEVEL_RULE)
METHOD_OF_ROW = dict.fromkeys(EDGE_SER_ROWS, "edge-ser")  # other rows: row = method
DESCRIPTIONS = {
    "mfcc-svm": "40 MFCC means + SVM (RBF, standardised)",
    "summary-mlp": "26 summary features + MLP (300 hidden)",
    "mfcc-conv1d": "Conv1D over per-frame MFCC means (tutorial recipe)",
    "egemaps-svm": "eGeMAPSv02 functionals (openSMILE) + linear SVM (standardised)",
    FLOAT_ROW: "edge-ser CNN on log-mel patches, float32 Keras",
    INT8_ROW: "the same model as full-integer int8 TFLite (LiteRT)",
    FLOAT_ROW + LEVEL_RULE: "float32, silent ends counted (level-only silence rule)",
    INT8_ROW + LEVEL_RULE: "int8, silent ends counted (level-only silence rule)",
}


# --- running and reporting -----------------------------------------------------------------


def make_folds(data: LabelledClips, k: int, seed: int) -> list[Fold]:
    """The shared leave-speakers-out folds as clip indices."""
    folds = []
    for number, (_, test_clips) in enumerate(corpora.speaker_folds(data.clips, k, seed), start=1):
        held_out = {clip.speaker for clip in test_clips}
        is_test = np.array([speaker in held_out for speaker in data.speakers])
        folds.append(Fold(number, np.flatnonzero(~is_test), np.flatnonzero(is_test)))
    return folds


def library_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in ("numpy", "librosa", "scikit-learn", "keras", "tensorflow-cpu", "tensorflow"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def run_benchmark(args: argparse.Namespace) -> dict:
    config = TrainConfig.with_overrides(args.seed, args.epochs, args.patience, args.mixup)
    data, skipped = load_labelled_clips(args.data_dir, cache=FeatureCache(), progress=False)
    corpus = Corpus(data, config)
    if any(METHODS[name][1] for name in args.methods):
        corpus.classic = load_classic_features(data.clips, args.methods)
    folds = make_folds(data, args.folds, args.seed)
    fold_scores: dict[str, list[Scores]] = {}
    seconds: dict[str, float] = {}
    for fold in folds:
        test_speakers = sorted({data.speakers[i] for i in fold.test})
        log(f"fold {fold.number}/{len(folds)}: test speakers {', '.join(test_speakers)}")
        for name in args.methods:
            start = time.perf_counter()
            predictions = METHODS[name][0](corpus, fold, args)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
            for row, class_probs in predictions.items():
                scores = score(data.targets[fold.test], class_probs.argmax(axis=1), data.labels)
                fold_scores.setdefault(row, []).append(scores)
                log(f"  {row}: accuracy {scores.accuracy:.3f}, UAR {scores.uar:.3f}")
    return {
        "data_dir": str(args.data_dir),
        "n_clips": len(data.clips),
        "n_skipped": len(skipped),
        "n_speakers": len(set(data.speakers)),
        "labels": list(data.labels),
        "folds": args.folds,
        "seed": args.seed,
        "methods": args.methods,
        "fold_test_speakers": [sorted({data.speakers[i] for i in f.test}) for f in folds],
        "edge_ser_epochs": config.epochs,
        "edge_ser_patience": config.patience,
        "edge_ser_average_last": config.average_last,
        "edge_ser_mixup": config.augment.mixup_alpha,
        "edge_ser_augment": config.augment.to_dict(),
        "conv1d_epochs": args.conv1d_epochs,
        "seconds_per_method": seconds,
        "cpus": os.cpu_count(),
        "versions": library_versions(),
        "results": {row: summarise_folds(scores) for row, scores in fold_scores.items()},
    }


def to_markdown(report: dict) -> str:
    lines = [
        "# Speaker-independent accuracy",
        "",
        f"{report['n_clips']} clips from {report['n_speakers']} speakers "
        f"(`{Path(report['data_dir']).name}`), labels {', '.join(report['labels'])}. "
        f"{report['folds']}-fold leave-speakers-out cross-validation (seed {report['seed']}), the "
        "same folds for every method; clip-level metrics, mean +- std over folds.",
        "",
        "| method | clip accuracy | UAR | macro-F1 | UAR per fold | s per fold |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for row, r in report["results"].items():
        cells = [f"{r[k]['mean']:.3f} +- {r[k]['std']:.3f}" for k in METRICS]
        folds = ", ".join(f"{u:.3f}" for u in r["uar"]["folds"])
        seconds = report["seconds_per_method"][METHOD_OF_ROW.get(row, row)] / report["folds"]
        lines.append(
            f"| {DESCRIPTIONS.get(row, row)} | {' | '.join(cells)} | {folds} | {seconds:.0f} |"
        )
    lines += [
        "",
        "- Test speakers per fold: "
        + "; ".join(", ".join(s.split(":")[-1] for s in f) for f in report["fold_test_speakers"])
        + ".",
        "- edge-ser CNN: "
        + recipe_text(
            report["edge_ser_epochs"],
            report["edge_ser_patience"],
            report.get("edge_ser_average_last", 0),
        )
        + (f", mixup alpha {report['edge_ser_mixup']:g}" if report.get("edge_ser_mixup") else "")
        + "; Conv1D: "
        f"{report['conv1d_epochs']} epochs. Chance level: UAR {1 / len(report['labels']):.3f}.",
        f"- s per fold: training and testing time on {report['cpus']} CPU cores (the two edge-ser "
        "rows share one training); "
        + ", ".join(f"{name} {version}" for name, version in report["versions"].items())
        + ".",
        "",
        f"Reproduce: `python benchmarks/accuracy.py --folds {report['folds']} "
        f"--seed {report['seed']} --epochs {report['edge_ser_epochs']} "
        f"--patience {report['edge_ser_patience']} "
        + (f"--mixup {report['edge_ser_mixup']:g} " if report.get("edge_ser_mixup") else "")
        + f"--conv1d-epochs {report['conv1d_epochs']} --methods {' '.join(report['methods'])} "
        "--markdown benchmarks/accuracy.md`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA, metavar="DATA_DIR")
    parser.add_argument("--folds", type=int, default=5, help="leave-speakers-out folds")
    parser.add_argument("--epochs", type=int, default=None, help="edge-ser CNN maximum epochs")
    parser.add_argument("--patience", type=int, default=None, help="edge-ser early stopping")
    parser.add_argument("--mixup", type=float, default=0.0, help="edge-ser mixup alpha (0: off)")
    parser.add_argument("--conv1d-epochs", type=int, default=CONV1D_EPOCHS)
    parser.add_argument("--seed", type=int, default=0, help="folds and model seeds")
    parser.add_argument(
        "--methods", nargs="+", choices=list(METHODS), default=list(DEFAULT_METHODS)
    )
    return benchmark_main(parser, run_benchmark, to_markdown, argv)


if __name__ == "__main__":
    raise SystemExit(main())
