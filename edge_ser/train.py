"""Training: speaker-independent, class-balanced, augmented, with the last epochs' weights averaged.

One epoch draws ``crops_per_class`` random 96-frame crops per label from the training clips'
log-mels (class-balanced sampling; random crop positions are the time-shift augmentation),
augments them in a tf.data pipeline (``edge_ser.augment``) and fits the CNN. After each epoch
the model is scored on the validation speakers' clips (clip = mean of patch probabilities).

By default training runs all epochs (the learning rate follows a cosine decay) and the final
model is the average of the weights at the end of the last ``average_last`` epochs; the
validation speakers are only watched, never used to choose weights. With ``patience`` > 0,
training instead stops when the validation UAR has not improved for ``patience`` epochs
(after ``warmup_epochs``) and the best epoch's weights are kept.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from edge_ser import corpora, reports
from edge_ser.atomic import atomic_directory, check_target
from edge_ser.augment import AugmentConfig, make_augmenter, make_mixup
from edge_ser.bundle import (
    CALIBRATION_FILE,
    CARD_FILE,
    CONFUSION_PNG,
    CURVES_PNG,
    INFO_FILE,
    METRICS_FILE,
    MODEL_FILE,
    PARITY_FILE,
    RUN_OUTPUT,
)
from edge_ser.errors import DataError, EdgeSerError
from edge_ser.evaluate import predict_clips
from edge_ser.features import FeatureCache
from edge_ser.labels import CANONICAL_LABELS
from edge_ser.metrics import Scores, score
from edge_ser.model import (
    ModelConfig,
    build_model,
    centre_patches,
    count_macs,
    save_for_inference,
)
from edge_ser.reference_preprocess import params
from edge_ser.runtimes.keras_runtime import KerasRuntime

CALIBRATION_PATCHES = 128  # int8 calibration, from training speakers
PARITY_PATCHES = 128  # export-time parity checks, from held-out validation speakers


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run (saved in ``model.json``)."""

    epochs: int = 120
    seed: int = 0
    batch_size: int = 64
    crops_per_class: int = 320
    learning_rate: float = 2e-3
    weight_decay: float = 1e-3
    label_smoothing: float = 0.1
    patience: int = 0  # > 0: early stopping on the validation speakers instead of averaging
    # Validation scores of the first epochs are noise (batch-norm statistics still settling):
    # during warm-up the latest weights are kept and training cannot stop.
    warmup_epochs: int = 8
    average_last: int = 20  # without early stopping: average the last epochs' weights
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @property
    def early_stopping(self) -> bool:
        return self.patience > 0

    def to_dict(self) -> dict:
        return {**asdict(self), "model": self.model.to_dict(), "augment": self.augment.to_dict()}

    @classmethod
    def with_overrides(
        cls,
        seed: int = 0,
        epochs: int | None = None,
        patience: int | None = None,
        mixup_alpha: float = 0.0,
    ) -> TrainConfig:
        """The defaults with the options a command line gave (``None`` / 0: keep the default).

        Raises ``EdgeSerError`` for fewer than one epoch or a negative mixup alpha or patience.
        """
        if epochs is not None and epochs < 1:
            raise EdgeSerError(f"--epochs must be >= 1, got {epochs}")
        if mixup_alpha < 0:
            raise EdgeSerError(f"--mixup must be >= 0, got {mixup_alpha:g}")
        if patience is not None and patience < 0:
            raise EdgeSerError(f"--patience must be >= 0, got {patience}")
        config = cls(seed=seed)
        if epochs is not None:
            config = replace(config, epochs=epochs)
        if patience is not None:
            config = replace(config, patience=patience)
        if mixup_alpha:
            config = replace(config, augment=replace(config.augment, mixup_alpha=mixup_alpha))
        return config


@dataclass
class LabelledClips:
    """Clips with their log-mel features and integer labels (indices into ``labels``)."""

    clips: list
    log_mels: list[np.ndarray]
    targets: np.ndarray
    labels: tuple[str, ...]

    def subset(self, keep: Sequence[int]) -> LabelledClips:
        return LabelledClips(
            [self.clips[i] for i in keep],
            [self.log_mels[i] for i in keep],
            self.targets[list(keep)],
            self.labels,
        )

    @property
    def speakers(self) -> list[str]:
        return [clip.speaker for clip in self.clips]


def load_labelled_clips(
    data_dir: Path, corpus: str = "auto", cache: FeatureCache | None = None, progress: bool = True
) -> tuple[LabelledClips, list]:
    """Discover a corpus, compute (cached) features and map labels to indices.

    Returns the clips and the list of skipped files (unmappable labels, unreadable audio).
    The label set is the canonical labels present in the data, in canonical order.
    """
    scan = corpora.discover(Path(data_dir), corpus)
    if not scan.clips:
        raise DataError(f"no labelled clips found in '{data_dir}'")
    cache = cache or FeatureCache()
    features = cache.load_many([clip.path for clip in scan.clips], progress=progress)
    skipped = list(scan.skipped) + [corpora.Skipped(p, r) for p, r in features.failed]
    clips = [scan.clips[i] for i in features.kept]
    if not clips:
        raise DataError(f"none of the clips in '{data_dir}' could be read")
    labels = tuple(label for label in CANONICAL_LABELS if any(c.label == label for c in clips))
    index = {label: i for i, label in enumerate(labels)}
    targets = np.array([index[clip.label] for clip in clips], dtype=np.int64)
    return LabelledClips(clips, features.log_mels, targets, labels), skipped


def check_trainable(train: LabelledClips, val: LabelledClips | None) -> None:
    """Raise ``DataError`` before training when a split cannot train or validate every label
    (``val`` ``None``: no validation speakers, only the training side is checked)."""
    for name, part in (("training", train), ("validation", val)):
        if part is None:
            continue
        missing = [lab for i, lab in enumerate(part.labels) if not np.any(part.targets == i)]
        if missing:
            raise DataError(
                f"the {name} speakers have no clips labelled {', '.join(missing)}; "
                "choose other validation speakers or add data"
            )


def sample_crops(
    data: LabelledClips, crops_per_class: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced random 96-frame crops: ``crops_per_class`` per label."""
    shape = (crops_per_class * len(data.labels), params.PATCH_FRAMES, params.NUM_MEL_BANDS)
    x = np.empty(shape, dtype=np.float32)
    y = np.repeat(np.arange(len(data.labels)), crops_per_class)
    for label in range(len(data.labels)):
        members = np.flatnonzero(data.targets == label)
        chosen = rng.choice(members, size=crops_per_class, replace=True)
        for row, clip in enumerate(chosen, start=label * crops_per_class):
            log_mel = data.log_mels[clip]
            start = rng.integers(0, len(log_mel) - params.PATCH_FRAMES + 1)
            x[row] = log_mel[start : start + params.PATCH_FRAMES]
    return x, y


def input_scale(x: np.ndarray, per_band: bool = False) -> float:
    """1 / standard deviation of mean-removed patches (the model's fixed input scale)."""
    return float(1.0 / max(centre_patches(x, per_band).std(), 1e-6))


def representative_patches(data: LabelledClips, count: int, rng: np.random.Generator) -> np.ndarray:
    """Real random patches spread over labels and speakers, stored as float16."""
    x, _ = sample_crops(data, math.ceil(count / len(data.labels)), rng)
    return x[rng.permutation(len(x))[:count]][..., np.newaxis].astype(np.float16)


def clip_scores(model, data: LabelledClips) -> Scores:
    """Score a Keras model on clips (clip = mean of patch probabilities)."""

    clip_probs = predict_clips(KerasRuntime(model, data.labels), data.log_mels)
    return score(data.targets, clip_probs.argmax(axis=1), data.labels)


class WeightAverage:
    """Running mean of a model's weights, one sample per epoch."""

    def __init__(self) -> None:
        self.mean: list[np.ndarray] | None = None
        self.count = 0

    def add(self, weights: list[np.ndarray]) -> None:
        self.count += 1
        if self.mean is None:
            self.mean = [w.astype(np.float64) for w in weights]
        else:
            for total, w in zip(self.mean, weights, strict=True):
                total += (w - total) / self.count

    def weights(self) -> list[np.ndarray]:
        return [w.astype(np.float32) for w in self.mean]


def fit(
    train: LabelledClips,
    val: LabelledClips | None,
    config: TrainConfig,
    log: Callable[[str], None] = print,
    progress: bool = True,
):
    """Train a fresh model; return ``(model, history)``.

    Without early stopping the model is the average of the last ``config.average_last``
    epochs' weights and ``val`` (optional) is only scored for the log and the curves; with
    early stopping ``val`` is required and the best validation epoch's weights are kept.
    """
    import keras
    import tensorflow as tf

    if val is None and config.early_stopping:
        raise EdgeSerError("early stopping needs validation speakers")
    check_trainable(train, val)
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    scale = input_scale(
        sample_crops(train, 64, np.random.default_rng(config.seed))[0],
        config.model.per_band_normalization,
    )
    model = build_model(config.model, train.labels, input_scale=scale)
    steps = math.ceil(config.crops_per_class * len(train.labels) / config.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=steps * config.epochs, alpha=0.05
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    augment = make_augmenter(config.augment)
    mixup = make_mixup(config.augment.mixup_alpha) if config.augment.mixup_alpha > 0 else None
    n_labels = len(train.labels)

    def epoch_dataset() -> tf.data.Dataset:
        x, y = sample_crops(train, config.crops_per_class, rng)
        order = rng.permutation(len(x))
        # The augmenter draws from TF's stateful RNG: mapping one batch at a time after
        # reseeding from ``rng`` makes the draws reproducible and new in every epoch.
        tf.random.set_seed(int(rng.integers(2**31)))
        ds = tf.data.Dataset.from_tensor_slices((x[order], y[order])).batch(config.batch_size)
        ds = ds.map(lambda p, t: (augment(p)[..., tf.newaxis], tf.one_hot(t, n_labels)))
        if mixup is not None:
            ds = ds.map(mixup)
        return ds.prefetch(tf.data.AUTOTUNE)

    history: dict[str, list[float]] = {
        "loss": [],
        "accuracy": [],
        "val_uar": [],
        "val_accuracy": [],
    }
    best = {"uar": -1.0, "epoch": 0, "weights": None}
    average = WeightAverage()
    first_averaged = max(config.epochs - max(config.average_last, 1) + 1, 1)
    for epoch in range(1, config.epochs + 1):
        result = model.fit(epoch_dataset(), epochs=1, shuffle=False, verbose=1 if progress else 0)
        history["loss"].append(float(result.history["loss"][0]))
        history["accuracy"].append(float(result.history["accuracy"][0]))
        line = (
            f"epoch {epoch:3d}/{config.epochs}  loss {history['loss'][-1]:.3f}  "
            f"train acc {history['accuracy'][-1]:.3f}"
        )
        if val is not None:
            val_scores = clip_scores(model, val)
            history["val_uar"].append(val_scores.uar)
            history["val_accuracy"].append(val_scores.accuracy)
            line += f"  val clip acc {val_scores.accuracy:.3f}  val UAR {val_scores.uar:.3f}"
        if config.early_stopping:
            improved = epoch <= config.warmup_epochs or val_scores.uar > best["uar"]
            if improved:
                best = {"uar": val_scores.uar, "epoch": epoch, "weights": model.get_weights()}
            log(line + ("  *" if improved else ""))
            if epoch - best["epoch"] >= config.patience:
                log(f"early stop: no validation improvement for {config.patience} epochs")
                break
        else:
            if epoch >= first_averaged:
                average.add(model.get_weights())
            log(line)
    if config.early_stopping:
        model.set_weights(best["weights"])
        history["kept_epochs"] = [best["epoch"], best["epoch"]]
    else:
        model.set_weights(average.weights())
        history["kept_epochs"] = [first_averaged, config.epochs]
        if val is not None:
            log(f"{kept_weights_text(history)}: val UAR {clip_scores(model, val).uar:.3f}")
    return model, history


def recipe_text(epochs: int, patience: int, average_last: int) -> str:
    """How a cross-validation fold's model is trained, in words (reports and model cards)."""
    if patience:
        return (
            f"at most {epochs} epochs, early stopping (patience {patience}) on speakers drawn "
            "from the training side of each fold"
        )
    return (
        f"{epochs} epochs on all training-side speakers of each fold, the weights of the "
        f"last {average_last} epochs averaged"
    )


def kept_weights_text(history: dict) -> str:
    """Which epochs' weights a trained model holds, in words."""
    first, last = history["kept_epochs"]
    if first == last:
        return f"weights of epoch {last}"
    return f"weights averaged over epochs {first}-{last}"


def default_val_speakers(clips: LabelledClips, seed: int) -> list[str]:
    """Validation speakers chosen by the speaker-split helper (about 20% of speakers)."""
    _, val = corpora.split_by_speakers(clips.clips, seed=seed)
    return sorted({clip.speaker for clip in val})


def split_clips(
    data: LabelledClips, val_speakers: Sequence[str]
) -> tuple[LabelledClips, LabelledClips]:
    """Partition clips by speaker into (training, validation)."""
    known = set(data.speakers)
    unknown = [s for s in val_speakers if s not in known]
    if unknown:
        raise DataError(f"unknown validation speakers: {', '.join(unknown)}")
    held = set(val_speakers)
    train_idx = [i for i, s in enumerate(data.speakers) if s not in held]
    val_idx = [i for i, s in enumerate(data.speakers) if s in held]
    if not train_idx or not val_idx:
        raise DataError("a speaker-independent split needs speakers on both sides")
    return data.subset(train_idx), data.subset(val_idx)


def model_id(train: LabelledClips, config: TrainConfig) -> str:
    digest = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode())
    digest.update(",".join(sorted({c.path.name for c in train.clips})).encode())
    return f"edge-ser-cnn-{digest.hexdigest()[:10]}"


def train_run(
    data_dir: Path,
    out_dir: Path,
    corpus: str = "auto",
    config: TrainConfig = TrainConfig(),
    val_speakers: Sequence[str] | None = None,
    cache: FeatureCache | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    force: bool = False,
) -> dict:
    """Train on ``data_dir`` and write a model directory plus reports into ``out_dir``.

    ``out_dir`` must be new, empty or (with ``force``) an earlier run directory, whose
    files are replaced and whose other files are kept. Returns the run summary that is also
    written to ``metrics.json``.
    """

    check_target(out_dir, RUN_OUTPUT, force)
    data, skipped = load_labelled_clips(data_dir, corpus, cache, progress)
    if len(set(data.speakers)) < 2:
        raise DataError(
            f"'{data_dir}' has a single speaker: a speaker-independent split is impossible"
        )
    val_speakers = list(val_speakers) if val_speakers else default_val_speakers(data, config.seed)
    train, val = split_clips(data, val_speakers)
    log(
        f"training on {len(train.clips)} clips from {len(set(train.speakers))} speakers, "
        f"validating on {len(val.clips)} clips from {len(val_speakers)} speakers "
        f"({', '.join(val_speakers)}); labels: {', '.join(data.labels)}"
    )
    model, history = fit(train, val, config, log=log, progress=progress)
    val_scores = clip_scores(model, val)
    train_scores = clip_scores(model, train)
    summary = {
        "model_id": model_id(train, config),
        "labels": list(data.labels),
        "corpus": data.clips[0].corpus,
        "data_dir": str(data_dir),
        "train_speakers": sorted(set(train.speakers)),
        "val_speakers": sorted(val_speakers),
        "n_train_clips": len(train.clips),
        "n_val_clips": len(val.clips),
        "n_skipped": len(skipped),
        "parameters": int(model.count_params()),
        "macs_per_patch": count_macs(model),
        "kept_weights": kept_weights_text(history),
        "validation": val_scores.to_dict(),
        "train_clip_accuracy": train_scores.accuracy,
        "preprocessor_version": params.PREPROCESSOR_VERSION,
        "config": config.to_dict(),
    }
    rng = np.random.default_rng(config.seed + 1)
    with atomic_directory(Path(out_dir), RUN_OUTPUT, force) as tmp:
        save_for_inference(model, tmp / MODEL_FILE)
        np.save(tmp / CALIBRATION_FILE, representative_patches(train, CALIBRATION_PATCHES, rng))
        np.save(tmp / PARITY_FILE, representative_patches(val, PARITY_PATCHES, rng))
        (tmp / INFO_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / METRICS_FILE).write_text(json.dumps({**summary, "history": history}, indent=2))
        reports.plot_confusion(val_scores, tmp / CONFUSION_PNG, "validation speakers")
        reports.plot_history(history, tmp / CURVES_PNG)
        (tmp / CARD_FILE).write_text(reports.model_card(summary))
    log(
        f"saved {out_dir}: validation clip accuracy {val_scores.accuracy:.3f}, "
        f"UAR {val_scores.uar:.3f}, macro-F1 {val_scores.macro_f1:.3f} "
        f"({summary['kept_weights']})"
    )
    return summary


def cross_validate(
    data_dir: Path,
    folds: int = 5,
    corpus: str = "auto",
    config: TrainConfig = TrainConfig(),
    cache: FeatureCache | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict:
    """Leave-speakers-out cross-validation: mean and standard deviation of clip metrics.

    By default every training-side speaker of a fold is fitted and the last epochs' weights
    are averaged. With ``config.patience`` > 0, each fold's training speakers are split again
    (by speaker) into fitting and early-stopping speakers, so the test speakers never
    influence training.
    """
    data, _ = load_labelled_clips(data_dir, corpus, cache, progress)
    results = []
    for k, (_, test_clips) in enumerate(
        corpora.speaker_folds(data.clips, k=folds, seed=config.seed), start=1
    ):
        fit_part, stop_part, test = fold_parts(
            data, {c.speaker for c in test_clips}, config.seed, k, config.early_stopping
        )
        log(f"fold {k}/{folds}: test speakers {', '.join(sorted(set(test.speakers)))}")
        model, _ = fit(fit_part, stop_part, config, log=log, progress=progress)
        test_scores = clip_scores(model, test)
        results.append(test_scores)
        log(
            f"fold {k}/{folds}: test accuracy {test_scores.accuracy:.3f}, UAR {test_scores.uar:.3f}"
        )
    summary = {"folds": folds, "labels": list(data.labels), "n_clips": len(data.clips)}
    return {**summary, **summarise_folds(results)}


def fold_parts(
    data: LabelledClips, test_speakers: set[str], seed: int, fold: int, early_stopping: bool
) -> tuple[LabelledClips, LabelledClips | None, LabelledClips]:
    """``(fit, early-stopping, test)`` parts of one cross-validation fold, split by speaker.

    The early-stopping speakers come from the training side, so test speakers never
    influence training; without early stopping every training-side speaker is fitted and
    the early-stopping part is ``None``.
    """
    rest, test = split_clips(data, sorted(test_speakers))
    if not early_stopping:
        return rest, None, test
    fit_part, stop_part = split_clips(rest, default_val_speakers(rest, seed + fold))
    return fit_part, stop_part, test


def summarise_folds(per_fold: Sequence[Scores]) -> dict:
    """Mean, standard deviation and per-fold values of accuracy, UAR and macro-F1."""
    summary = {}
    for metric in ("accuracy", "uar", "macro_f1"):
        values = [getattr(s, metric) for s in per_fold]
        summary[metric] = {
            "mean": float(np.mean(values)),
            "std": float(np.std(values)),
            "folds": values,
        }
    return summary
