"""Clip accuracy with and without the silent-window rule (reference_preprocess/SPEC.md).

Scores the bundled int8 model on each corpus: clip = mean of all windows; clip = mean of the
windows the level rule alone keeps, for ``SILENCE_LEVEL_DROP`` and a few other drops (the
sweep shows how sensitive the choice is); and clip = mean of the windows the whole rule (level
and silent ends) keeps. Features come from the feature cache.

    python benchmarks/silence.py ravdess=../shared/data/ravdess-speech-actors01-20:17,18,19,20 \\
        emodb=../shared/data/emodb --json benchmarks/silence.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_ser import corpora
from edge_ser.aggregate import clip_probabilities
from edge_ser.features import FeatureCache, clip_patches
from edge_ser.metrics import score
from edge_ser.recognizer import Recognizer
from edge_ser.reference_preprocess import (
    SILENCE_LEVEL_DROP,
    WindowLevels,
    quiet_windows,
    silent_windows,
    window_levels,
)

DROPS = (1.0, 1.5, SILENCE_LEVEL_DROP, 2.5, 3.0, 4.0)


def corpus_windows(recognizer: Recognizer, data_dir: Path, actors: set[str] | None) -> dict:
    """Window probabilities, window levels and the label index of every clip."""
    scan = corpora.discover(data_dir)
    clips = [c for c in scan.clips if actors is None or c.speaker.split(":")[-1] in actors]
    features = FeatureCache().load_many([c.path for c in clips], progress=False)
    index = {label: i for i, label in enumerate(recognizer.labels)}
    rows = {"probs": [], "levels": [], "targets": []}
    for i, log_mel in zip(features.kept, features.log_mels, strict=True):
        patches = clip_patches(log_mel)
        rows["probs"].append(recognizer.runtime.predict_patches(patches))
        rows["levels"].append(window_levels(patches))
        rows["targets"].append(index[clips[i].label])
    return rows


def level_rule(drop: float) -> Callable[[WindowLevels], np.ndarray]:
    """The level rule alone at another ``drop``: which windows it marks as silence."""
    return lambda levels: quiet_windows(levels, drop=drop)


def scores(
    rows: dict, labels: tuple[str, ...], rule: Callable[[WindowLevels], np.ndarray] | None
) -> dict:
    """Clip accuracy and UAR with the windows ``rule`` marks as silence left out (``None``:
    every window counts)."""
    predicted = []
    silent = 0
    for probs, levels in zip(rows["probs"], rows["levels"], strict=True):
        kept = None if rule is None else ~rule(levels)
        silent += 0 if kept is None else int((~kept).sum())
        predicted.append(clip_probabilities(probs if kept is None else probs[kept]).argmax())
    result = score(np.array(rows["targets"]), np.array(predicted), labels)
    windows = sum(len(p) for p in rows["probs"])
    return {
        "accuracy": result.accuracy,
        "uar": result.uar,
        "silent_windows": silent,
        "windows": windows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", metavar="NAME=DIR[:ACTORS]")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    recognizer = Recognizer.load(num_threads=1)
    report = {"model": recognizer.source, "rule_drop": SILENCE_LEVEL_DROP, "corpora": {}}
    for spec in args.corpora:
        name, _, rest = spec.partition("=")
        directory, _, actors = rest.partition(":")
        rows = corpus_windows(recognizer, Path(directory), set(actors.split(",")) - {""} or None)
        results = {"all windows": scores(rows, recognizer.labels, None)}
        for drop in DROPS:
            results[f"drop {drop:g}"] = scores(rows, recognizer.labels, level_rule(drop))
        results["the rule"] = scores(rows, recognizer.labels, silent_windows)
        report["corpora"][name] = {"clips": len(rows["targets"]), "results": results}
        for row, r in results.items():
            print(
                f"{name:<8} {row:<12} accuracy {r['accuracy']:.3f}  UAR {r['uar']:.3f}  "
                f"silent windows {r['silent_windows']}/{r['windows']}"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
