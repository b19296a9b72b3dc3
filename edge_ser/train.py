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
from edge_ser.aggregate import AGGREGATION_RULE
from edge_ser.atomic import atomic_directory, check_target
from edge_ser.augment import AugmentConfig, make_augmenter, make_mixup, stretch_in_time
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
from edge_ser.evaluate import corpora_report, predict_clips
from edge_ser.features import FeatureCache
from edge_ser.labels import BALANCES, CANONICAL_LABELS, FILED_UNDER, LOSSES
from edge_ser.metrics import Scores, score
from edge_ser.model import (
    ModelConfig,
    PartialCrossentropy,
    RestrictedCrossentropy,
    build_model,
    centre_patches,
    count_macs,
    partial_accuracy,
    restricted_accuracy,
    save_for_inference,
    with_corpus_adversary,
)
from edge_ser.reference_preprocess import (
    frame_levels_db,
    params,
    silent_windows,
    window_levels,
)
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
    # Several corpora: "corpus" draws each label's crops equally from the corpora that have
    # it, "sqrt" in proportion to the square root of each corpus's clip count of the label,
    # "label" from all of that label's clips (the larger corpus dominates). On 2 joint
    # RAVDESS + EMO-DB folds "sqrt" read RAVDESS +1.8 and EMO-DB -2.3 points against "corpus",
    # "label" (40 epochs) EMO-DB -2.8; "pair" gives every (corpus, label) pair the same crops
    # (a label one corpus lacks gets half a shared label's): over 5 folds RAVDESS +2.9 and
    # EMO-DB -3.6, with model seed 1 on 2 folds RAVDESS -3.7 and EMO-DB +2.0, measured while
    # its cosine schedule still ended at 7/8 of its span (the schedule assumed a full
    # labels x crops_per_class epoch); with the schedule fixed, 2 folds and 2 seeds: RAVDESS
    # even, EMO-DB +0.7 (benchmarks/cross-corpus-levers/joint-*-balance-*).
    balance: str = "corpus"
    # Several corpora with different label sets: "pooled" scores each crop's softmax over every
    # label, "restricted" over its corpus's labels only (a corpus without calm says nothing
    # against calm), "partial" like pooled but with a clip of a corpus that lacks a label
    # counting as that label too where its corpus files it under the clip's (``FILED_UNDER``:
    # an EMO-DB neutral clip is neutral or calm). Pooled is the default: on a joint
    # RAVDESS + EMO-DB fold the restricted loss let 52% of the EMO-DB test clips drift to calm
    # and surprised (strict UAR 0.378 against 0.839 pooled; benchmarks/cross-corpus-edge-ser-
    # joint-*).
    loss: str = "pooled"
    # Leading and trailing silence trimmed from each training clip (the frames before the
    # first and after the last one within this many dB of the clip's loudest; 0: off). Off by
    # default: against trimming at 30 dB, untrimmed training read +0.07 restricted UAR from
    # RAVDESS to EMO-DB (two seeds), +0.03 / -0.01 from EMO-DB to RAVDESS (seeds 0 / 1) and
    # +0.025 / +0.015 in RAVDESS's / EMO-DB's own 5-fold speaker CV (benchmarks/
    # cross-corpus-bundled-recipe-* against cross-corpus-levers/*-trim30-120-epochs*); the clip
    # score leaves silent ends out at inference instead.
    trim_silence_db: float = 0.0
    # Training crops start only where the clip score would keep the window (``speech_starts``:
    # not silence by ``silent_windows``), so the model learns from the windows it is scored on.
    # Off: it cost RAVDESS's own CV 6.6 points over 2 folds and restricted leave-one-corpus-out
    # 1-3 points (benchmarks/cross-corpus-levers/*speech-crops*).
    speech_crops: bool = False
    # Several corpora: > 0 trains a corpus classifier on the embedding behind a gradient
    # reversal of this strength (reached along 2 / (1 + exp(-10 p)) - 1 over the epochs,
    # p the share done), so the shared layers learn features that do not tell the corpora
    # apart (``model.with_corpus_adversary``). 0: off. At 0.5 on 2 joint RAVDESS + EMO-DB
    # folds both corpora read lower (RAVDESS -3.5, EMO-DB -5.1 points; benchmarks/
    # cross-corpus-levers/joint-2-folds-corpus-adversary-*).
    corpus_adversary: float = 0.0
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @property
    def early_stopping(self) -> bool:
        return self.patience > 0

    def __post_init__(self) -> None:
        if self.balance not in BALANCES:
            raise EdgeSerError(f"balance must be one of {', '.join(BALANCES)}, got {self.balance}")
        if self.loss not in LOSSES:
            raise EdgeSerError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss}")
        if not 0 <= self.corpus_adversary < float("inf"):
            raise EdgeSerError(f"corpus_adversary must be >= 0, got {self.corpus_adversary}")
        if not 0 <= self.trim_silence_db < float("inf"):
            raise EdgeSerError(f"trim_silence_db must be >= 0, got {self.trim_silence_db}")

    def to_dict(self) -> dict:
        return {**asdict(self), "model": self.model.to_dict(), "augment": self.augment.to_dict()}

    @classmethod
    def with_overrides(
        cls,
        seed: int = 0,
        epochs: int | None = None,
        patience: int | None = None,
        mixup_alpha: float = 0.0,
        loss: str | None = None,
        balance: str | None = None,
        trim_silence_db: float | None = None,
    ) -> TrainConfig:
        """The defaults with the options a command line gave (``None`` / 0: keep the default).

        Raises ``EdgeSerError`` for fewer than one epoch, a negative mixup alpha or patience, or
        an unknown loss or balance.
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
        if loss is not None:
            config = replace(config, loss=loss)
        if balance is not None:
            config = replace(config, balance=balance)
        if trim_silence_db is not None:
            config = replace(config, trim_silence_db=trim_silence_db)
        return config


@dataclass
class LabelledClips:
    """Clips with their log-mel features and integer labels (indices into ``labels``).

    ``corpus_labels`` maps each corpus to the labels it annotates (missing corpora: all of
    ``labels``); it is fixed when the corpora are loaded, so a subset keeps it.
    """

    clips: list
    log_mels: list[np.ndarray]
    targets: np.ndarray
    labels: tuple[str, ...]
    corpus_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def subset(self, keep: Sequence[int]) -> LabelledClips:
        return LabelledClips(
            [self.clips[i] for i in keep],
            [self.log_mels[i] for i in keep],
            self.targets[list(keep)],
            self.labels,
            self.corpus_labels,
        )

    @property
    def speakers(self) -> list[str]:
        return [clip.speaker for clip in self.clips]

    @property
    def corpora(self) -> list[str]:
        """Corpus names in sorted order."""
        return sorted({clip.corpus for clip in self.clips})

    def label_mask(self) -> np.ndarray:
        """``(n_clips, n_labels)`` bool: the labels each clip's corpus annotates."""
        allowed = {
            name: [label in self.corpus_labels.get(name, self.labels) for label in self.labels]
            for name in self.corpora
        }
        return np.array([allowed[clip.corpus] for clip in self.clips], dtype=bool).reshape(
            len(self.clips), len(self.labels)
        )

    def target_sets(self) -> np.ndarray:
        """``(n_clips, n_labels)`` multi-hot targets of the partial loss: each clip's label, and
        each label its corpus lacks that ``FILED_UNDER`` files under that label."""
        targets = np.eye(len(self.labels), dtype=np.float32)[self.targets]
        lacking = ~self.label_mask()
        for hidden, shown in FILED_UNDER.items():
            if hidden in self.labels and shown in self.labels:
                h, s = self.labels.index(hidden), self.labels.index(shown)
                targets[lacking[:, h] & (self.targets == s), h] = 1.0
        return targets

    def speech_starts(self) -> list[np.ndarray]:
        """Per clip, the frames where a patch that is not silence starts (``silent_windows``
        over the clip's patches at every frame, against the loudest of them)."""
        starts = []
        for log_mel in self.log_mels:
            windows = np.lib.stride_tricks.sliding_window_view(log_mel, params.PATCH_FRAMES, 0)
            silent = silent_windows(window_levels(windows.transpose(0, 2, 1)))
            starts.append(np.flatnonzero(~silent))
        return starts

    def with_silence_trimmed(self, below_peak_db: float) -> LabelledClips:
        """The same clips with each log-mel trimmed by ``trim_silence`` (0: unchanged)."""
        if not below_peak_db:
            return self
        trimmed = [trim_silence(log_mel, below_peak_db) for log_mel in self.log_mels]
        return LabelledClips(self.clips, trimmed, self.targets, self.labels, self.corpus_labels)

    def with_present_labels(self) -> LabelledClips:
        """The same clips with the label set reduced to the labels they have."""
        return _labelled(self.clips, self.log_mels, present_labels(self.clips), self.corpus_labels)

    def only_labels(self, labels: Sequence[str]) -> LabelledClips:
        """The clips whose label is in ``labels``, indexed into ``labels``."""
        keep = [i for i, clip in enumerate(self.clips) if clip.label in labels]
        clips = [self.clips[i] for i in keep]
        return _labelled(clips, [self.log_mels[i] for i in keep], tuple(labels), self.corpus_labels)


def present_labels(clips: Sequence) -> tuple[str, ...]:
    """The canonical labels that ``clips`` have, in canonical order."""
    found = {clip.label for clip in clips}
    return tuple(label for label in CANONICAL_LABELS if label in found)


def trim_silence(log_mel: np.ndarray, below_peak_db: float) -> np.ndarray:
    """The log-mel from its first to its last frame within ``below_peak_db`` of its loudest
    frame (``frame_levels_db``), kept at least one patch long where the clip is."""
    level_db = frame_levels_db(log_mel)
    active = np.flatnonzero(level_db > level_db.max() - below_peak_db)
    first, last = int(active[0]), int(active[-1]) + 1
    missing = params.PATCH_FRAMES - (last - first)
    if missing > 0:  # widen around the speech, within the clip
        first = max(0, first - missing // 2)
        last = min(len(log_mel), first + params.PATCH_FRAMES)
        first = max(0, last - params.PATCH_FRAMES)
    return log_mel[first:last]


def _labelled(clips, log_mels, labels, corpus_labels) -> LabelledClips:
    index = {label: i for i, label in enumerate(labels)}
    targets = np.array([index[clip.label] for clip in clips], dtype=np.int64)
    return LabelledClips(list(clips), list(log_mels), targets, tuple(labels), corpus_labels)


def load_labelled_clips(
    data_dirs: Path | Sequence[Path],
    corpus: str | Sequence[str] = "auto",
    cache: FeatureCache | None = None,
    progress: bool = True,
) -> tuple[LabelledClips, list]:
    """Discover one or more corpora, compute (cached) features and map labels to indices.

    ``corpus`` is one adapter for every directory or one per directory
    (``corpora.discover_all``: with several directories speakers are namespaced by corpus).
    Returns the clips and the list of skipped files (unmappable labels, unreadable audio).
    The label set is the canonical labels present in the data, in canonical order, and each
    corpus's own label set is kept in ``corpus_labels``.
    """
    dirs = [data_dirs] if isinstance(data_dirs, (str, Path)) else list(data_dirs)
    names = [corpus] if isinstance(corpus, str) else list(corpus)
    scans = corpora.discover_all([Path(d) for d in dirs], names)
    found = [clip for scan in scans for clip in scan.clips]
    where = ", ".join(f"'{d}'" for d in dirs)
    if not found:
        raise DataError(f"no labelled clips found in {where}")
    cache = cache or FeatureCache()
    features = cache.load_many([clip.path for clip in found], progress=progress)
    skipped = [s for scan in scans for s in scan.skipped]
    skipped += [corpora.Skipped(p, r) for p, r in features.failed]
    clips = [found[i] for i in features.kept]
    if not clips:
        raise DataError(f"none of the clips in {where} could be read")
    corpus_labels = {
        scan.corpus: present_labels([c for c in clips if c.corpus == scan.corpus]) for scan in scans
    }
    return _labelled(clips, features.log_mels, present_labels(clips), corpus_labels), skipped


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
    data: LabelledClips, crops_per_class: int, rng: np.random.Generator, balance: str = "corpus"
) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced random 96-frame crops: ``crops_per_class`` per label.

    With several corpora and ``balance="corpus"``, each label's crops are split evenly over
    the corpora that have it, with ``"sqrt"`` in proportion to the square root of each
    corpus's clip count of the label; ``"label"`` draws them from all of that label's clips;
    ``"pair"`` splits them evenly too, but a label that some corpora lack gets only the
    shares of those that have it (each corpus's own labels stay balanced).
    """
    x, y, _ = sample_crops_with_sources(data, crops_per_class, rng, balance)
    return x, y


def sample_crops_with_sources(
    data: LabelledClips,
    crops_per_class: int,
    rng: np.random.Generator,
    balance: str = "corpus",
    tempo: tuple[float, float] = (1.0, 1.0),
    starts: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sample_crops`` and the index of the clip each crop was cut from; with a ``tempo``
    range other than (1, 1), each crop spans ``96 r`` frames (``r`` uniform in the range, at
    most the clip) resampled to 96. ``starts`` (``LabelledClips.speech_starts``): where each
    clip's 96-frame crops may start (other lengths start anywhere)."""
    plan = crop_plan(data, crops_per_class, balance)
    y = np.repeat(np.arange(len(data.labels)), [sum(shares) for _, shares in plan])
    x = np.empty((len(y), params.PATCH_FRAMES, params.NUM_MEL_BANDS), dtype=np.float32)
    sources = np.empty(len(y), dtype=np.int64)
    row = 0
    for groups, shares in plan:
        for group, share in zip(groups, shares, strict=True):
            chosen = rng.choice(np.flatnonzero(group), size=share, replace=True)
            for clip in chosen:
                log_mel = data.log_mels[clip]
                length = params.PATCH_FRAMES
                if tempo != (1.0, 1.0):
                    length = min(round(length * rng.uniform(*tempo)), len(log_mel))
                if starts is not None and length == params.PATCH_FRAMES:
                    start = rng.choice(starts[clip])
                else:
                    start = rng.integers(0, len(log_mel) - length + 1)
                x[row] = stretch_in_time(log_mel[start : start + length], params.PATCH_FRAMES)
                sources[row] = clip
                row += 1
    return x, y, sources


def crop_plan(
    data: LabelledClips, crops_per_class: int, balance: str
) -> list[tuple[list[np.ndarray], list[int]]]:
    """For each label, the clip masks its crops are drawn from and how many from each.

    ``"pair"`` gives every (corpus, label) pair ``crops_per_class / len(data.corpora)`` crops,
    so a label only one corpus has gets that corpus's share, not a whole label's; the other
    modes give every label ``crops_per_class`` crops (see ``sample_crops``)."""
    names = np.array([clip.corpus for clip in data.clips])
    plan = []
    for label in range(len(data.labels)):
        of_label = data.targets == label
        groups = [of_label]
        if balance != "label":
            groups = [
                of_label & (names == n) for n in data.corpora if np.any(of_label & (names == n))
            ]
        weights = [1.0] * len(groups)
        if balance == "sqrt":
            weights = [np.sqrt(group.sum()) for group in groups]
        total = crops_per_class
        if balance == "pair":
            total = round(crops_per_class * len(groups) / len(data.corpora))
        plan.append((groups, proportional_shares(total, weights)))
    return plan


def proportional_shares(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, summing to ``total`` (the largest
    remainders, the first of equal ones, take the units left over)."""
    exact = total * np.asarray(weights, dtype=np.float64) / np.sum(weights)
    shares = np.floor(exact).astype(np.int64)
    order = np.argsort(shares - exact, kind="stable")
    shares[order[: total - shares.sum()]] += 1
    return shares.tolist()


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
    train = train.with_silence_trimmed(config.trim_silence_db)
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    scale = input_scale(
        sample_crops(train, 64, np.random.default_rng(config.seed))[0],
        config.model.per_band_normalization,
    )
    model = build_model(config.model, train.labels, input_scale=scale)
    crops = sum(
        sum(shares) for _, shares in crop_plan(train, config.crops_per_class, config.balance)
    )
    steps = math.ceil(crops / config.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=steps * config.epochs, alpha=0.05
    )
    masks = train.label_mask()
    # Per-clip target rows, each crop taking its clip's: one-hot labels (pooled), with the
    # corpus mask appended (restricted), label sets (partial).
    clip_targets = np.eye(len(train.labels), dtype=np.float32)[train.targets]
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    metrics = ["accuracy"]
    if config.loss != "pooled" and not masks.all():
        if config.augment.mixup_alpha > 0:
            raise EdgeSerError(
                f"mixup cannot be combined with the {config.loss} loss; use --loss pooled"
            )
        if config.loss == "restricted":
            clip_targets = np.concatenate([clip_targets, masks], axis=1)
            loss, metrics = RestrictedCrossentropy(config.label_smoothing), [restricted_accuracy]
        else:
            clip_targets = train.target_sets()
            loss, metrics = PartialCrossentropy(config.label_smoothing), [partial_accuracy]
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay)
    # The model fitted: ``model``, or with several corpora and an adversary, ``model`` with a
    # corpus head (whose targets are each crop's corpus, one-hot).
    trainer, reversal, clip_corpora = model, None, None
    accuracy_key = getattr(metrics[0], "__name__", metrics[0])  # in the fit history
    if config.corpus_adversary > 0 and len(train.corpora) > 1:
        if config.augment.mixup_alpha > 0:
            raise EdgeSerError("mixup cannot be combined with the corpus adversary")
        trainer, reversal = with_corpus_adversary(model, len(train.corpora))
        corpus_of_clip = [train.corpora.index(clip.corpus) for clip in train.clips]
        clip_corpora = np.eye(len(train.corpora), dtype=np.float32)[corpus_of_clip]
        loss = {"probabilities": loss, "corpus": keras.losses.CategoricalCrossentropy()}
        metrics = {"probabilities": metrics, "corpus": ["accuracy"]}
        accuracy_key = f"probabilities_{accuracy_key}"
    trainer.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    starts = train.speech_starts() if config.speech_crops else None
    augment = make_augmenter(config.augment)
    mixup = make_mixup(config.augment.mixup_alpha) if config.augment.mixup_alpha > 0 else None

    def epoch_dataset() -> tf.data.Dataset:
        x, _, sources = sample_crops_with_sources(
            train, config.crops_per_class, rng, config.balance, config.augment.tempo, starts
        )
        order = rng.permutation(len(x))
        # The augmenter draws from TF's stateful RNG: mapping one batch at a time after
        # reseeding from ``rng`` makes the draws reproducible and new in every epoch.
        tf.random.set_seed(int(rng.integers(2**31)))
        targets = clip_targets[sources[order]]
        if clip_corpora is not None:
            targets = (targets, clip_corpora[sources[order]])
        ds = tf.data.Dataset.from_tensor_slices((x[order], targets)).batch(config.batch_size)
        ds = ds.map(lambda p, t: (augment(p)[..., tf.newaxis], t))
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
    if reversal is not None:
        history["corpus_accuracy"] = []
    for epoch in range(1, config.epochs + 1):
        if reversal is not None:
            done = (epoch - 1) / config.epochs
            reversal.strength.assign(config.corpus_adversary * (2 / (1 + math.exp(-10 * done)) - 1))
        result = trainer.fit(epoch_dataset(), epochs=1, shuffle=False, verbose=1 if progress else 0)
        history["loss"].append(float(result.history["loss"][0]))
        history["accuracy"].append(float(result.history[accuracy_key][0]))
        line = (
            f"epoch {epoch:3d}/{config.epochs}  loss {history['loss'][-1]:.3f}  "
            f"train acc {history['accuracy'][-1]:.3f}"
        )
        if reversal is not None:
            history["corpus_accuracy"].append(float(result.history["corpus_accuracy"][0]))
            line += f"  corpus acc {history['corpus_accuracy'][-1]:.3f}"
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


def corpus_sizes(data: LabelledClips) -> dict[str, dict[str, int]]:
    """Clips and speakers of each corpus in ``data``."""
    return {
        name: {
            "clips": sum(clip.corpus == name for clip in data.clips),
            "speakers": len({clip.speaker for clip in data.clips if clip.corpus == name}),
        }
        for name in data.corpora
    }


def default_val_speakers(clips: LabelledClips, seed: int) -> list[str]:
    """Validation speakers chosen by the speaker-split helper: about 20% of each corpus's
    speakers."""
    chosen: set[str] = set()
    for name in clips.corpora:
        _, val = corpora.split_by_speakers([c for c in clips.clips if c.corpus == name], seed=seed)
        chosen |= {clip.speaker for clip in val}
    return sorted(chosen)


def split_clips(
    data: LabelledClips, val_speakers: Sequence[str]
) -> tuple[LabelledClips, LabelledClips]:
    """Partition clips by speaker into (training, validation)."""
    known = set(data.speakers)
    unknown = [s for s in val_speakers if s not in known]
    if unknown:
        hints = [k for s in unknown for k in sorted(known) if k.split(":")[-1] == s]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise DataError(f"unknown validation speakers: {', '.join(unknown)}{hint}")
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
    data_dirs: Path | Sequence[Path],
    out_dir: Path,
    corpus: str | Sequence[str] = "auto",
    config: TrainConfig = TrainConfig(),
    val_speakers: Sequence[str] | None = None,
    cache: FeatureCache | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    force: bool = False,
) -> dict:
    """Train on ``data_dirs`` (one or more corpora) and write a model directory plus reports
    into ``out_dir``.

    ``val_speakers`` ``None`` holds out about 20% of each corpus's speakers; an empty list
    trains on every speaker (the weights are averaged, so validation chooses nothing).

    ``out_dir`` must be new, empty or (with ``force``) an earlier run directory, whose
    files are replaced and whose other files are kept. Returns the run summary that is also
    written to ``metrics.json``.
    """

    check_target(out_dir, RUN_OUTPUT, force)
    dirs = [data_dirs] if isinstance(data_dirs, (str, Path)) else list(data_dirs)
    data, skipped = load_labelled_clips(dirs, corpus, cache, progress)
    if len(set(data.speakers)) < 2:
        raise DataError(
            f"'{dirs[0]}' has a single speaker: a speaker-independent split is impossible"
        )
    if val_speakers is None:
        val_speakers = default_val_speakers(data, config.seed)
    train, val = split_clips(data, val_speakers) if val_speakers else (data, None)
    train_speakers = reports.count(len(set(train.speakers)), "speaker")
    held_out = (
        f"validating on {len(val.clips)} clips from "
        f"{reports.count(len(val_speakers), 'speaker')} ({', '.join(val_speakers)})"
        if val is not None
        else "no validation speakers"
    )
    log(
        f"training on {len(train.clips)} clips from {train_speakers}, {held_out}; "
        f"labels: {', '.join(data.labels)}"
    )
    model, history = fit(train, val, config, log=log, progress=progress)
    val_scores = clip_scores(model, val) if val is not None else None
    train_scores = clip_scores(model, train)
    summary = {
        "model_id": model_id(train, config),
        "labels": list(data.labels),
        "corpus": "+".join(data.corpora),
        "data_dir": ", ".join(str(d) for d in dirs),
        "corpus_labels": {name: list(labels) for name, labels in data.corpus_labels.items()},
        "corpus_sizes": corpus_sizes(data),
        "train_speakers": sorted(set(train.speakers)),
        "val_speakers": sorted(val_speakers),
        "n_train_clips": len(train.clips),
        "n_val_clips": len(val.clips) if val is not None else 0,
        "n_skipped": len(skipped),
        "parameters": int(model.count_params()),
        "macs_per_patch": count_macs(model),
        "kept_weights": kept_weights_text(history),
        "validation": val_scores.to_dict() if val_scores is not None else None,
        "train_clip_accuracy": train_scores.accuracy,
        "preprocessor_version": params.PREPROCESSOR_VERSION,
        "aggregation": AGGREGATION_RULE,
        "config": config.to_dict(),
    }
    rng = np.random.default_rng(config.seed + 1)
    with atomic_directory(Path(out_dir), RUN_OUTPUT, force) as tmp:
        save_for_inference(model, tmp / MODEL_FILE)
        np.save(tmp / CALIBRATION_FILE, representative_patches(train, CALIBRATION_PATCHES, rng))
        held_out = train if val is None else val  # no validation speakers: training clips
        np.save(tmp / PARITY_FILE, representative_patches(held_out, PARITY_PATCHES, rng))
        (tmp / INFO_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / METRICS_FILE).write_text(json.dumps({**summary, "history": history}, indent=2))
        if val_scores is not None:
            reports.plot_confusion(val_scores, tmp / CONFUSION_PNG, "validation speakers")
        reports.plot_history(history, tmp / CURVES_PNG)
        (tmp / CARD_FILE).write_text(reports.model_card(summary))
    log(f"saved {out_dir}: {run_result_text(summary)}")
    return summary


def run_result_text(summary: dict) -> str:
    """A training run's validation figures (or why there are none) in one line."""
    val = summary["validation"]
    if val is None:
        return f"no validation speakers ({summary['kept_weights']})"
    return (
        f"validation clip accuracy {val['accuracy']:.3f}, UAR {val['uar']:.3f}, "
        f"macro-F1 {val['macro_f1']:.3f} ({summary['kept_weights']})"
    )


FOLD_KINDS: tuple[str, ...] = ("speaker", "corpus")


def cross_validate(
    data_dirs: Path | Sequence[Path],
    folds: int = 5,
    corpus: str | Sequence[str] = "auto",
    config: TrainConfig = TrainConfig(),
    cache: FeatureCache | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    by: str = "speaker",
) -> dict:
    """Cross-validation: mean and standard deviation of clip metrics over folds.

    ``by="speaker"``: ``folds`` leave-speakers-out folds (each corpus's speakers dealt on
    their own). ``by="corpus"``: leave-one-corpus-out, one fold per data directory; the
    model knows only the labels of its training corpora, and the test corpus is scored on
    its clips with those labels. With early stopping, a fold's stopping speakers come from
    its training side, so the test speakers never influence training.

    Every fold is scored strictly (argmax over the model's labels) and restricted (argmax
    over the test corpus's labels), with predicted shares and collapse flags
    (``evaluate.corpora_report``).
    """
    if by not in FOLD_KINDS:
        raise EdgeSerError(f"--by must be one of {', '.join(FOLD_KINDS)}, got {by}")
    data, _ = load_labelled_clips(data_dirs, corpus, cache, progress)
    if by == "corpus":
        splits = corpora.corpus_folds(data.clips)
    else:
        splits = corpora.speaker_folds(data.clips, k=folds, seed=config.seed)
    fold_reports = []
    for k, (_, test_clips) in enumerate(splits, start=1):
        fit_part, stop_part, test = fold_parts(
            data, {c.speaker for c in test_clips}, config.seed, k, config.early_stopping
        )
        if by == "corpus":
            fit_part = fit_part.with_present_labels()
            stop_part = stop_part and stop_part.only_labels(fit_part.labels)
            test = test.only_labels(fit_part.labels)
            log(f"fold {k}/{len(splits)}: test corpus {', '.join(test.corpora)}")
        else:
            log(f"fold {k}/{len(splits)}: test speakers {', '.join(sorted(set(test.speakers)))}")
        model, _ = fit(fit_part, stop_part, config, log=log, progress=progress)
        probs = predict_clips(KerasRuntime(model, fit_part.labels), test.log_mels)
        report = corpora_report(probs, fit_part.labels, test.clips)
        fold_reports.append(report)
        log(
            f"fold {k}/{len(splits)}: test accuracy {report['accuracy']:.3f}, "
            f"UAR {report['uar']:.3f}, restricted UAR {report['restricted']['uar']:.3f}"
            + (f", collapse: {', '.join(report['collapse'])}" if report["collapse"] else "")
        )
    summary = {
        "by": by,
        "folds": len(splits),
        "labels": list(data.labels),
        "n_clips": len(data.clips),
        "corpora": data.corpora,
    }
    return {**summary, **summarise_reports(fold_reports), "fold_reports": fold_reports}


def summarise_reports(reports: Sequence[dict]) -> dict:
    """Mean, standard deviation and per-fold values of the strict accuracy, UAR and macro-F1,
    of the restricted UAR, and of both UARs per corpus (over the folds that test it)."""
    summary = {metric: _spread([r[metric] for r in reports]) for metric in METRICS}
    summary["uar_restricted"] = _spread([r["restricted"]["uar"] for r in reports])
    names = sorted({name for r in reports for name in r["per_corpus"]})
    summary["per_corpus"] = {
        name: {
            "uar": _spread(
                [r["per_corpus"][name]["uar"] for r in reports if name in r["per_corpus"]]
            ),
            "uar_restricted": _spread(
                [
                    r["per_corpus"][name]["restricted"]["uar"]
                    for r in reports
                    if name in r["per_corpus"]
                ]
            ),
        }
        for name in names
    }
    return summary


def _spread(values: Sequence[float]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "folds": list(values)}


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


METRICS: tuple[str, ...] = ("accuracy", "uar", "macro_f1")


def summarise_folds(per_fold: Sequence[Scores]) -> dict:
    """Mean, standard deviation and per-fold values of accuracy, UAR and macro-F1."""
    return {metric: _spread([getattr(s, metric) for s in per_fold]) for metric in METRICS}
