"""Cross-corpus accuracy: RAVDESS and EMO-DB, each method trained on one and tested on the other,
and leave-speakers-out inside each corpus (and inside both together).

Protocols (``--protocols``; default all but ``joint-cv``):

- ``ravdess->emodb`` / ``emodb->ravdess``: train on every speaker of one corpus, test on every
  clip of the other whose label the training corpus has;
- ``ravdess-cv`` / ``emodb-cv``: ``--folds`` leave-speakers-out folds inside one corpus;
- ``joint-cv``: the same on both corpora together (each corpus's speakers dealt into the folds
  on their own), scored per corpus; the only protocol in which the edge-ser loss (restricted
  or pooled) and corpus balancing act, since only there does training see two corpora.

Every fold is scored strictly (argmax over the labels the model was trained on) and
restricted (argmax over the labels the test corpus has, the usual cross-corpus protocol),
with the predicted share of each label and a collapse flag (a label predicted more than
twice as often as it occurs), by ``edge_ser.evaluate.corpora_report``.

Methods are those of ``accuracy.py`` (``--methods``; default all, ``egemaps-svm`` needs
``pip install -e .[bench]``). ``--set`` overrides any field of the edge-ser ``TrainConfig``
(``--set model.widths=24,48,96,192 --set augment.gain_db=-48,12``) for experiments; the
report records the whole configuration, the int8 file size and its latency on one patch.
``--combine A.json B.json ...`` joins the reports of consecutive fold ranges of one run
(``--max-folds``, then ``--first-fold``) into the report the whole run would have written.

Usage::

    python benchmarks/cross_corpus.py [--ravdess DIR] [--emodb DIR] [--protocols ...]
        [--methods ...] [--folds 5] [--epochs N] [--seed 0] [--loss restricted|pooled]
        [--balance corpus|sqrt|label|pair] [--set FIELD=VALUE ...] [--json PATH] [--markdown PATH]
    python benchmarks/cross_corpus.py --combine REPORT.json ... [--json PATH] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402  (the classic methods and the edge-ser fold, shared)

from edge_ser import corpora  # noqa: E402
from edge_ser.aggregate import AGGREGATION_RULE  # noqa: E402
from edge_ser.bench.output import benchmark_main  # noqa: E402
from edge_ser.errors import EdgeSerError  # noqa: E402
from edge_ser.evaluate import corpora_report  # noqa: E402
from edge_ser.features import FeatureCache  # noqa: E402
from edge_ser.labels import BALANCES, CANONICAL_LABELS, LOSSES  # noqa: E402
from edge_ser.train import (  # noqa: E402
    LabelledClips,
    TrainConfig,
    corpus_sizes,
    load_labelled_clips,
    present_labels,
    recipe_text,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_RAVDESS = SHARED / "ravdess-speech-actors01-20"
DEFAULT_EMODB = SHARED / "emodb" / "wav"
PROTOCOLS = ("ravdess->emodb", "emodb->ravdess", "ravdess-cv", "emodb-cv", "joint-cv")
DEFAULT_PROTOCOLS = PROTOCOLS[:4]
METHODS = ("mfcc-svm", "summary-mlp", "mfcc-conv1d", "egemaps-svm", "edge-ser")
log = accuracy.log


# --- protocols -----------------------------------------------------------------------------


def protocol_folds(data: LabelledClips, protocol: str, k: int, seed: int) -> list[np.ndarray]:
    """The test-clip indices of each fold of ``protocol`` (training: the protocol's other
    clips, see ``fold_indices``)."""
    names = np.array([clip.corpus for clip in data.clips])
    if "->" in protocol:
        return [np.flatnonzero(names == protocol.split("->")[1])]
    scope = (
        data.clips
        if protocol == "joint-cv"
        else [c for c in data.clips if c.corpus == protocol.removesuffix("-cv")]
    )
    index = {clip.path: i for i, clip in enumerate(data.clips)}
    return [
        np.array([index[clip.path] for clip in test])
        for _, test in corpora.speaker_folds(scope, k, seed)
    ]


def fold_indices(data: LabelledClips, protocol: str, test: np.ndarray) -> np.ndarray:
    """Training-clip indices of a fold: the protocol's corpora minus the test clips."""
    names = np.array([clip.corpus for clip in data.clips])
    if "->" in protocol:
        in_scope = names == protocol.split("->")[0]
    elif protocol == "joint-cv":
        in_scope = np.ones(len(names), dtype=bool)
    else:
        in_scope = names == protocol.removesuffix("-cv")
    in_scope[test] = False
    return np.flatnonzero(in_scope)


def fold_corpus(
    data: LabelledClips, classic: dict, config: TrainConfig, train: np.ndarray, test: np.ndarray
) -> tuple[accuracy.Corpus, accuracy.Fold]:
    """The fold's clips as an ``accuracy.Corpus`` whose labels are the training side's (test
    clips of other labels dropped), and the fold's indices into it."""
    labels = present_labels([data.clips[i] for i in train])
    test = np.array([i for i in test if data.clips[i].label in labels], dtype=np.int64)
    keep = np.concatenate([train, test])
    part = data.subset(keep).only_labels(labels)
    corpus = accuracy.Corpus(part, config, {name: x[keep] for name, x in classic.items()})
    n = len(train)
    return corpus, accuracy.Fold(1, np.arange(n), np.arange(n, n + len(test)))


# --- the edge-ser configuration --------------------------------------------------------------


def parse_setting(text: str) -> tuple[list[str], object]:
    """``a.b=v`` as (``["a", "b"]``, value); value as JSON, ``x,y`` as a tuple of JSON."""
    if "=" not in text:
        raise EdgeSerError(f"--set needs FIELD=VALUE, got '{text}'")
    key, value = text.split("=", 1)
    try:
        parsed = (
            tuple(json.loads(v) for v in value.split(",")) if "," in value else json.loads(value)
        )
    except json.JSONDecodeError:
        parsed = value  # a bare word, e.g. --set loss=pooled
    return key.split("."), parsed


def with_setting(config, path: list[str], value):
    """``config`` (a frozen dataclass) with the field at ``path`` replaced."""
    fields = {f.name for f in dataclasses.fields(config)}
    if path[0] not in fields:
        raise EdgeSerError(f"--set: {type(config).__name__} has no field '{path[0]}'")
    if len(path) == 1:
        return dataclasses.replace(config, **{path[0]: value})
    inner = with_setting(getattr(config, path[0]), path[1:], value)
    return dataclasses.replace(config, **{path[0]: inner})


def edge_ser_config(args: argparse.Namespace) -> TrainConfig:
    config = TrainConfig.with_overrides(
        args.seed, args.epochs, None, 0.0, args.loss, args.balance, args.trim_silence
    )
    for text in args.set:
        config = with_setting(config, *parse_setting(text))
    return config


def int8_latency(config: TrainConfig, data: LabelledClips) -> dict:
    """Size and single-thread latency per patch of the configuration's int8 TFLite model
    (untrained weights: the time does not depend on them)."""
    from edge_ser.export.tflite import to_int8_tflite
    from edge_ser.model import build_model, count_macs
    from edge_ser.runtimes.litert_runtime import LiteRTRuntime
    from edge_ser.train import CALIBRATION_PATCHES, representative_patches

    model = build_model(config.model, data.labels)
    patches = representative_patches(data, CALIBRATION_PATCHES, np.random.default_rng(0))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model_int8.tflite"
        path.write_bytes(to_int8_tflite(model, patches))
        runtime = LiteRTRuntime(path, data.labels)
        one = patches[:1].astype(np.float32)
        for _ in range(20):
            runtime.predict_patches(one)
        times = []
        for _ in range(200):
            start = time.perf_counter()
            runtime.predict_patches(one)
            times.append(time.perf_counter() - start)
        size = path.stat().st_size
    return {
        "parameters": int(model.count_params()),
        "macs_per_patch": count_macs(model),
        "int8_bytes": size,
        "int8_ms_per_patch_median": 1000 * float(np.median(times)),
    }


# --- running and reporting -----------------------------------------------------------------


def without_labels(data: LabelledClips, excluded: Sequence[str]) -> LabelledClips:
    """``data`` without the clips of the ``excluded`` labels, as if no corpus had them."""
    kept = data.subset([i for i, c in enumerate(data.clips) if c.label not in excluded])
    kept = kept.with_present_labels()
    kept.corpus_labels = {
        name: tuple(label for label in labels if label not in excluded)
        for name, labels in data.corpus_labels.items()
    }
    return kept


def run_benchmark(args: argparse.Namespace) -> dict:
    if args.combine:
        return combine_reports(args.combine)
    config = edge_ser_config(args)
    last = args.max_folds or args.folds
    if not 1 <= args.first_fold <= last:
        raise EdgeSerError(f"--first-fold must be between 1 and {last}, got {args.first_fold}")
    if args.first_fold > 1 and any("->" in p for p in args.protocols):
        raise EdgeSerError("--first-fold applies to the -cv protocols only (a->b is one fold)")
    data, skipped = load_labelled_clips(
        [args.ravdess, args.emodb], ["ravdess", "emodb"], FeatureCache(), progress=False
    )
    if args.exclude_labels:
        data = without_labels(data, args.exclude_labels)
    if set(data.corpora) != {"ravdess", "emodb"}:
        raise EdgeSerError(f"expected the corpora ravdess and emodb, got {data.corpora}")
    # The architecture's int8 size and latency first: a failure shows before any training.
    latency = int8_latency(config, data) if "edge-ser" in args.methods else None
    classic = {}
    if any(m != "edge-ser" for m in args.methods):
        classic = accuracy.load_classic_features(data.clips, args.methods)
    results: dict[str, dict[str, list]] = {}
    seconds: dict[str, float] = {}
    for protocol in args.protocols:
        folds = protocol_folds(data, protocol, args.folds, args.seed)
        first = args.first_fold
        for number, test in enumerate(folds[first - 1 : args.max_folds], first):
            train = fold_indices(data, protocol, test)
            corpus, fold = fold_corpus(data, classic, config, train, test)
            fold.number = number
            log(
                f"{protocol} fold {number}: {len(fold.train)} training, {len(fold.test)} test clips"
            )
            test_clips = [corpus.data.clips[i] for i in fold.test]
            for method in args.methods:
                start = time.perf_counter()
                scores = accuracy.METHODS[method][0](corpus, fold, args)
                seconds[method] = seconds.get(method, 0.0) + time.perf_counter() - start
                for row, probs in scores.items():
                    report = corpora_report(np.asarray(probs), corpus.data.labels, test_clips)
                    results.setdefault(row, {}).setdefault(protocol, []).append(_brief(report))
                    log(
                        f"  {row}: UAR {report['uar']:.3f}, restricted "
                        f"{report['restricted']['uar']:.3f}"
                        + (f", collapse {report['collapse']}" if report["collapse"] else "")
                    )
    sizes = corpus_sizes(data)
    summary = {
        "ravdess": str(args.ravdess),
        "emodb": str(args.emodb),
        "n_clips": {name: size["clips"] for name, size in sizes.items()},
        "n_speakers": {name: size["speakers"] for name, size in sizes.items()},
        "corpus_labels": {name: list(labels) for name, labels in data.corpus_labels.items()},
        "n_skipped": len(skipped),
        "protocols": args.protocols,
        "folds": args.folds,
        "max_folds": args.max_folds,
        "first_fold": args.first_fold,
        "seed": args.seed,
        "methods": args.methods,
        "settings": args.set,
        "excluded_labels": args.exclude_labels,
        "clip_rule": AGGREGATION_RULE,
        "edge_ser_config": config.to_dict(),
        "conv1d_epochs": args.conv1d_epochs,
        "seconds_per_method": seconds,
        "cpus": os.cpu_count(),
        "versions": accuracy.library_versions(),
        "results": {row: _summarise(per) for row, per in results.items()},
    }
    if latency:
        summary["edge_ser_int8"] = latency
    return summary


# What the reports of one run's fold ranges share.
RUN_SETTINGS = ("n_clips", "n_speakers", "corpus_labels", "protocols", "folds", "seed",
                "methods", "settings", "excluded_labels", "clip_rule", "edge_ser_config",
                "conv1d_epochs")  # fmt: skip


def _read_report(path: Path) -> dict:
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise EdgeSerError(f"cannot read report '{path}': {exc}") from None
    if not isinstance(report, dict) or not isinstance(report.get("results"), dict):
        raise EdgeSerError(f"'{path}' is not a cross_corpus.py report")
    return report


def combine_reports(paths: Sequence[Path]) -> dict:
    """One report from the reports of consecutive fold ranges of one run (``--first-fold``).

    Rows missing from some report are left out; the settings of every report must agree and
    their folds must follow on from fold 1 without a gap or an overlap.
    """
    ranges = sorted(((_read_report(p), p) for p in paths), key=lambda r: r[0].get("first_fold", 1))
    first = ranges[0][0]
    try:
        next_fold = 1
        for report, path in ranges:
            differing = [key for key in RUN_SETTINGS if report.get(key) != first.get(key)]
            if differing:
                raise EdgeSerError(f"'{path}' is of another run: {', '.join(differing)} differ")
            if report.get("first_fold", 1) != next_fold:
                raise EdgeSerError(
                    f"'{path}' starts at fold {report.get('first_fold', 1)}, not {next_fold}"
                )
            next_fold = (report["max_folds"] or report["folds"]) + 1
        reports = [report for report, _ in ranges]
        rows = [row for row in first["results"] if all(row in r["results"] for r in reports)]
        results = {
            row: _summarise(
                {
                    protocol: [f for r in reports for f in r["results"][row][protocol]["folds"]]
                    for protocol in first["protocols"]
                }
            )
            for row in rows
        }
        seconds: dict[str, float] = {}
        for report in reports:
            for method, value in report["seconds_per_method"].items():
                seconds[method] = seconds.get(method, 0.0) + value
    except (KeyError, TypeError) as exc:
        raise EdgeSerError(f"not a cross_corpus.py report: no {exc}") from None
    last = next_fold - 1
    return {
        **first,
        "max_folds": last if last < first["folds"] else None,
        "first_fold": 1,
        "seconds_per_method": seconds,
        "results": results,
        "combined_from": [Path(path).name for _, path in ranges],
    }


def _brief(report: dict) -> dict:
    """The numbers a table needs from ``corpora_report`` (per corpus for joint folds)."""
    brief = {
        "n_clips": report["n_clips"],
        "uar": report["uar"],
        "uar_restricted": report["restricted"]["uar"],
        "collapse": report["collapse"],
        "collapse_restricted": report["restricted"]["collapse"],
        "predicted_share": report["predicted_share"],
        "confusion": report["confusion"],
    }
    if len(report.get("per_corpus", {})) > 1:
        brief["per_corpus"] = {name: _brief(r) for name, r in report["per_corpus"].items()}
    return brief


def _summarise(per_protocol: dict[str, list[dict]]) -> dict:
    out = {}
    for protocol, folds in per_protocol.items():
        cells = {"folds": folds}
        for name in _scopes(folds):
            parts = [f["per_corpus"][name] if name != "all" else f for f in folds]
            cells[name] = {
                metric: {
                    "mean": float(np.mean([p[metric] for p in parts])),
                    "std": float(np.std([p[metric] for p in parts])),
                }
                for metric in ("uar", "uar_restricted")
            }
            cells[name]["collapse"] = sorted({lab for p in parts for lab in p["collapse"]})
            cells[name]["collapse_restricted"] = sorted(
                {lab for p in parts for lab in p["collapse_restricted"]}
            )
        out[protocol] = cells
    return out


def _scopes(folds: list[dict]) -> list[str]:
    return sorted(folds[0]["per_corpus"]) if "per_corpus" in folds[0] else ["all"]


def _cell(result: dict, name: str) -> str:
    r = result[name]
    text = f"{r['uar']['mean']:.3f} / {r['uar_restricted']['mean']:.3f}"
    flagged = r["collapse"]
    return text + (f" (collapse: {', '.join(flagged)})" if flagged else "")


def _fold_range(report: dict) -> str:
    """Which folds a report's CV means cover, in words."""
    first, last = report.get("first_fold", 1), report.get("max_folds") or report["folds"]
    if first > 1:
        return f"folds {first}-{last}" if last > first else f"fold {first}"
    return f"the first {last} folds" if last < report["folds"] else "folds"


def to_markdown(report: dict) -> str:
    columns = []
    for protocol in report["protocols"]:
        any_row = next(iter(report["results"].values()))
        for name in _scopes(any_row[protocol]["folds"]):
            columns.append((protocol, name))
    heading = [p if n == "all" else f"{p} ({n})" for p, n in columns]
    lines = [
        "# Cross-corpus accuracy",
        "",
        f"RAVDESS ({report['n_clips']['ravdess']} clips, {report['n_speakers']['ravdess']} "
        f"speakers, 8 labels) and EMO-DB ({report['n_clips']['emodb']} clips, "
        f"{report['n_speakers']['emodb']} speakers, {len(report['corpus_labels']['emodb'])} "
        "labels, boredom left out). Each cell: UAR strict (argmax over the labels the model "
        "was trained on) / restricted (argmax over the labels the test corpus has); "
        f"`-cv`: {report['folds']}-fold leave-speakers-out (seed {report['seed']}), mean over "
        + _fold_range(report)
        + "; `a->b`: trained on every speaker of a, tested on b. Collapse: a label predicted "
        "more than twice as often as it occurs (strict argmax) in some fold. Clip score: "
        + report.get("clip_rule", "mean of the probabilities of every patch")
        + ".",
        "",
        "| method | " + " | ".join(heading) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for row, result in report["results"].items():
        cells = [_cell(result[p], n) if p in result else "" for p, n in columns]
        lines.append(f"| {accuracy.DESCRIPTIONS.get(row, row)} | " + " | ".join(cells) + " |")
    config = report["edge_ser_config"]
    lines.append("")
    if "edge-ser" in report["methods"]:
        lines.append(
            "- edge-ser CNN: "
            + recipe_text(config["epochs"], config["patience"], config["average_last"])
            + f"; loss {config['loss']}, balance {config['balance']}"
            + (f"; settings {', '.join(report['settings'])}" if report["settings"] else "")
            + (
                f"; no clips of {', '.join(report['excluded_labels'])}"
                if report.get("excluded_labels")
                else ""
            )
            + (
                f"; leading and trailing silence (frames more than {config['trim_silence_db']:g} "
                "dB below the clip's loudest) trimmed from every training clip"
                if config["trim_silence_db"]
                else "; training clips not trimmed"
            )
            + f"; seed {report['seed']}."
        )
    if "edge_ser_int8" in report:
        lat = report["edge_ser_int8"]
        lines.append(
            f"- edge-ser architecture: {lat['parameters']:,} parameters, "
            f"{lat['macs_per_patch'] / 1e6:.1f} M MACs per patch, int8 file "
            f"{lat['int8_bytes'] / 1024:.0f} KiB, int8 LiteRT latency "
            f"{lat['int8_ms_per_patch_median']:.3f} ms per patch (median, 1 call)."
        )
    seconds = ", ".join(f"{m} {s:.0f} s" for m, s in report["seconds_per_method"].items())
    if report.get("combined_from"):
        lines.append(
            "- Joined from the runs of consecutive folds "
            + ", ".join(f"`{name}`" for name in report["combined_from"])
            + " (`--combine`)."
        )
    lines += [
        f"- Time (training and testing, all folds, {report['cpus']} shared CPU cores): {seconds}; "
        + ", ".join(f"{name} {v}" for name, v in report["versions"].items())
        + ".",
        "",
        "Reproduce: `python benchmarks/cross_corpus.py --protocols "
        + " ".join(f"'{p}'" if ">" in p else p for p in report["protocols"])
        + f" --methods {' '.join(report['methods'])} --folds {report['folds']} "
        + (f"--max-folds {report['max_folds']} " if report.get("max_folds") else "")
        + (f"--first-fold {report['first_fold']} " if report.get("first_fold", 1) > 1 else "")
        + f"--seed {report['seed']} --epochs {config['epochs']} --loss {config['loss']} "
        f"--balance {config['balance']}"
        + "".join(f" --set {s}" for s in report["settings"])
        + (
            f" --exclude-labels {' '.join(report['excluded_labels'])}"
            if report.get("excluded_labels")
            else ""
        )
        + f" --trim-silence {config['trim_silence_db']:g}"
        + (
            f" --conv1d-epochs {report['conv1d_epochs']}"
            if "mfcc-conv1d" in report["methods"]
            else ""
        )
        + "`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ravdess", type=Path, default=DEFAULT_RAVDESS)
    parser.add_argument("--emodb", type=Path, default=DEFAULT_EMODB)
    parser.add_argument(
        "--protocols", nargs="+", choices=PROTOCOLS, default=list(DEFAULT_PROTOCOLS)
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--folds", type=int, default=5, help="leave-speakers-out folds")
    parser.add_argument(
        "--max-folds", type=int, default=None, help="run only the first N folds (screening)"
    )
    parser.add_argument(
        "--first-fold",
        type=int,
        default=1,
        help="start at fold N (1-based; with --max-folds M, folds N to M): the rest of a screen",
    )
    parser.add_argument("--epochs", type=int, default=None, help="edge-ser CNN epochs")
    parser.add_argument("--loss", choices=LOSSES, default=None)
    parser.add_argument("--balance", choices=BALANCES, default=None)
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="TrainConfig field"
    )
    parser.add_argument(
        "--trim-silence",
        type=float,
        default=None,
        metavar="DB",
        help="edge-ser: trim each training clip to the frames within DB of its loudest "
        "(default: TrainConfig's; 0: off)",
    )
    parser.add_argument(
        "--exclude-labels",
        nargs="+",
        choices=CANONICAL_LABELS,
        default=[],
        metavar="LABEL",
        help="leave these labels' clips out of both corpora (the label-set lever)",
    )
    parser.add_argument("--conv1d-epochs", type=int, default=accuracy.CONV1D_EPOCHS)
    parser.add_argument("--seed", type=int, default=0, help="folds and model seeds")
    parser.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        metavar="REPORT",
        help="join the JSON reports of consecutive fold ranges of one run (no training)",
    )
    return benchmark_main(parser, run_benchmark, to_markdown, argv)


if __name__ == "__main__":
    raise SystemExit(main())
