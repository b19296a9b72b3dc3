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
``--keep-scores`` stores every test clip's scores in the JSON report; ``--ensemble A.json
B.json ...`` scores the mean of such runs' clip probabilities, runs that differ only in their
model seed (``--set seed=N``): a seed ensemble, screened without exporting it.

Usage::

    python benchmarks/cross_corpus.py [--ravdess DIR] [--emodb DIR] [--protocols ...]
        [--methods ...] [--folds 5] [--epochs N] [--seed 0] [--loss restricted|pooled]
        [--balance corpus|sqrt|label|pair] [--set FIELD=VALUE ...] [--json PATH] [--markdown PATH]
    python benchmarks/cross_corpus.py --combine REPORT.json ... [--json PATH] [--markdown PATH]
    python benchmarks/cross_corpus.py --ensemble REPORT.json ... [--json PATH] [--markdown PATH]
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
    if args.ensemble:
        return ensemble_reports(args.ensemble)
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
    clip_scores: dict[str, dict[str, list]] = {}
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
                    if args.keep_scores:
                        fold_scores = kept_scores(number, probs, corpus.data.labels, test_clips)
                        clip_scores.setdefault(row, {}).setdefault(protocol, []).append(fold_scores)
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
    if args.keep_scores:
        summary["clip_scores"] = clip_scores
    return summary


def kept_scores(number: int, probs, labels: Sequence[str], clips: Sequence[corpora.Clip]) -> dict:
    """One fold's clip scores as ``--keep-scores`` stores them (what ``--ensemble`` reads)."""
    return {
        "fold": number,
        "labels": list(labels),
        "clips": [[str(c.path), c.label, c.speaker, c.corpus] for c in clips],
        "probs": np.round(np.asarray(probs, dtype=np.float64), 5).tolist(),
    }


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
        combined = {
            **first,
            "max_folds": next_fold - 1 if next_fold - 1 < first["folds"] else None,
            "first_fold": 1,
            "seconds_per_method": _summed_seconds(reports),
            "results": results,
            "combined_from": [Path(path).name for _, path in ranges],
        }
        if all("clip_scores" in r for r in reports):
            combined["clip_scores"] = {
                row: {
                    protocol: [f for r in reports for f in r["clip_scores"][row][protocol]]
                    for protocol in first["protocols"]
                }
                for row in rows
            }
    except (KeyError, TypeError) as exc:
        raise EdgeSerError(f"not a cross_corpus.py report: no {exc}") from None
    return combined


def _summed_seconds(reports: Sequence[dict]) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for report in reports:
        for method, value in report["seconds_per_method"].items():
            seconds[method] = seconds.get(method, 0.0) + value
    return seconds


# What the members of an ensemble share (``_without_seed`` drops the model seed from them).
ENSEMBLE_SETTINGS = (*RUN_SETTINGS, "first_fold", "max_folds")


def _without_seed(report: dict) -> dict:
    """``report`` with the model seed left out of its settings and configuration."""
    config = {**report.get("edge_ser_config", {}), "seed": None}
    settings = [s for s in report.get("settings", []) if not s.startswith("seed=")]
    return {**report, "edge_ser_config": config, "settings": settings}


def ensemble_reports(paths: Sequence[Path]) -> dict:
    """The report of an ensemble: each test clip scored by the mean of its members'
    probabilities.

    Each member is the report of one run with ``--keep-scores``; the members must differ in
    their model seed only. The mean of the members' clip scores equals the clip score of a
    model averaging the members' patch probabilities, since a clip's score is a mean over
    patches chosen from the audio alone. The int8 size and latency are the members' sums.
    """
    if len(paths) < 2:
        raise EdgeSerError("--ensemble needs at least two reports")
    members = [_read_report(path) for path in paths]
    first = _without_seed(members[0])
    try:
        for member, path in zip(members, paths, strict=True):
            if "clip_scores" not in member:
                raise EdgeSerError(f"'{path}' has no clip scores: run it with --keep-scores")
            bare = _without_seed(member)
            differing = [k for k in ENSEMBLE_SETTINGS if bare.get(k) != first.get(k)]
            if differing:
                raise EdgeSerError(f"'{path}' differs in more than its model seed: {differing}")
        seeds = [m["edge_ser_config"]["seed"] for m in members]
        if len(set(seeds)) < len(seeds):
            raise EdgeSerError(f"the members' model seeds repeat: {seeds}")
        rows = [
            row
            for row in members[0]["clip_scores"]
            if all(row in m["clip_scores"] for m in members)
        ]
        results = {
            row: _summarise(
                {
                    protocol: [
                        _ensemble_fold([m["clip_scores"][row][protocol][i] for m in members])
                        for i in range(len(members[0]["clip_scores"][row][protocol]))
                    ]
                    for protocol in first["protocols"]
                }
            )
            for row in rows
        }
        latency = [m["edge_ser_int8"] for m in members if "edge_ser_int8" in m]
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise EdgeSerError(f"not a cross_corpus.py report with clip scores: {exc!r}") from None
    report = {
        **first,
        "edge_ser_config": members[0]["edge_ser_config"],
        "results": results,
        "seconds_per_method": _summed_seconds(members),
        "ensemble_of": [
            {"report": Path(path).name, "model_seed": m["edge_ser_config"]["seed"]}
            for m, path in zip(members, paths, strict=True)
        ],
    }
    report.pop("clip_scores", None)
    report.pop("combined_from", None)
    if len(latency) == len(members):
        report["edge_ser_int8"] = {key: sum(m[key] for m in latency) for key in latency[0]}
    return report


def _ensemble_fold(folds: Sequence[dict]) -> dict:
    """``_brief`` of one fold scored by the mean of its members' clip scores."""
    first = folds[0]
    for fold in folds[1:]:
        if (fold["fold"], fold["labels"], fold["clips"]) != (
            first["fold"],
            first["labels"],
            first["clips"],
        ):
            raise EdgeSerError(f"the members' fold {first['fold']} tests other clips or labels")
    probs = np.mean([np.asarray(f["probs"], dtype=np.float64) for f in folds], axis=0)
    clips = [
        corpora.Clip(Path(path), label, speaker, name)
        for path, label, speaker, name in first["clips"]
    ]
    return _brief(corpora_report(probs, first["labels"], clips))


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
    if report.get("ensemble_of"):
        members = report["ensemble_of"]
        lines.append(
            f"- Ensemble (`--ensemble`): each clip scored by the mean of the probabilities of "
            f"{len(members)} models that differ only in their model seed ("
            + ", ".join(f"seed {m['model_seed']}: `{m['report']}`" for m in members)
            + "); the architecture's figures below are the members' sums."
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
        reproduce_text(report),
    ]
    return "\n".join(lines) + "\n"


def reproduce_text(report: dict) -> str:
    """The command lines that rebuild ``report`` (for an ensemble, one run per member)."""
    config = report["edge_ser_config"]
    command = (
        "python benchmarks/cross_corpus.py --protocols "
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
    )
    members = report.get("ensemble_of")
    if not members:
        return f"Reproduce: `{command}`."
    seeds = ", ".join(str(m["model_seed"]) for m in members)
    files = " ".join(m["report"] for m in members)
    return (
        f"Reproduce: for each model seed SEED ({seeds}), `{command} --set seed=SEED "
        f"--keep-scores --json MEMBER.json`; then `python benchmarks/cross_corpus.py "
        f"--ensemble {files}`."
    )


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
        "--keep-scores",
        action="store_true",
        help="store every test clip's scores in the JSON report (for --ensemble)",
    )
    joined = parser.add_mutually_exclusive_group()
    joined.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        metavar="REPORT",
        help="join the JSON reports of consecutive fold ranges of one run (no training)",
    )
    joined.add_argument(
        "--ensemble",
        nargs="+",
        type=Path,
        metavar="REPORT",
        help="score the mean of the clip probabilities of runs that differ in their model seed "
        "only, each run with --keep-scores (no training)",
    )
    return benchmark_main(parser, run_benchmark, to_markdown, argv)


if __name__ == "__main__":
    raise SystemExit(main())
