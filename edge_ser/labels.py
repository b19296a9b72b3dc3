"""The canonical emotion label set shared by every corpus, model and artifact, and the label
sets an export can output instead (``LabelSet``: a model's labels kept, merged or dropped)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_ser.errors import EdgeSerError

CANONICAL_LABELS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
)

LABEL_INDEX: dict[str, int] = {label: i for i, label in enumerate(CANONICAL_LABELS)}

# Training on corpora with different label sets (``edge_ser.train.TrainConfig``): how each
# label's crops are drawn from the corpora that have it, and which labels a clip's softmax
# (and so its loss) runs over.
BALANCES: tuple[str, ...] = ("corpus", "sqrt", "label", "pair")
LOSSES: tuple[str, ...] = ("pooled", "restricted", "partial")

# The partial loss: a corpus that does not annotate the key label files such speech under the
# value (EMO-DB has no calm, so its calm speech is among its neutral clips). Such a corpus's
# clips of the value count as either label: a neutral EMO-DB clip is no evidence against calm.
FILED_UNDER: dict[str, str] = {"calm": "neutral"}


class LabelSetError(EdgeSerError):
    """A label set (``edge-ser export --labels/--merge``, or a manifest's) is inconsistent."""


@dataclass(frozen=True)
class LabelSet:
    """The labels an export's models output, made from a model's (``source``) labels.

    Each output label ``j`` owns a group of source labels: itself and the source labels
    merged into it (``merge``: source label -> output label). A source label in no group is
    dropped. The output is ``out_j = sum(p_i, i in group j) / sum(p_i, i in any group)``:
    merged labels' probabilities are summed into their target and the result renormalized
    over the groups (``reduce``). The full label set (every source label, in order, nothing
    merged) is the identity.
    """

    source: tuple[str, ...]
    labels: tuple[str, ...]
    merge: tuple[tuple[str, str], ...] = ()  # (source label, output label), in source order

    @classmethod
    def full(cls, source: Sequence[str]) -> LabelSet:
        """Every label of ``source``: the identity."""
        return cls(tuple(source), tuple(source))

    @classmethod
    def build(
        cls,
        source: Sequence[str],
        labels: Sequence[str] | None,
        merge: Sequence[str | tuple[str, str]] = (),
    ) -> LabelSet:
        """The label set of ``labels`` (``None``: every source label) and ``merge`` entries
        (``"source=target"`` strings or pairs), checked against the model's ``source`` labels.

        Raises
        ------
        LabelSetError
            One line saying what is wrong (see ``check``).
        """
        pairs = [parse_merge(m) if isinstance(m, str) else tuple(m) for m in merge]
        if labels is None:
            if pairs:
                raise LabelSetError("--merge needs --labels: the labels the model outputs")
            return cls.full(source)
        order = {label: i for i, label in enumerate(source)}
        merged = tuple(sorted(pairs, key=lambda pair: order.get(pair[0], -1)))
        label_set = cls(tuple(source), tuple(labels), merged)
        label_set.check()
        return label_set

    def check(self) -> None:
        """Raise ``LabelSetError`` unless every output label and merge source is a distinct
        source label, every merge target an output label, and at least 2 labels are output."""
        known = ", ".join(self.source)
        if len(set(self.source)) != len(self.source):
            raise LabelSetError(f"the model's labels ({known}) repeat a label")
        if len(self.labels) < 2:
            raise LabelSetError(f"a label set needs at least 2 labels, got {len(self.labels)}")
        for label in self.labels:
            if self.labels.count(label) > 1:
                raise LabelSetError(f"label '{label}' is listed twice")
            if label not in self.source:
                raise LabelSetError(f"unknown label '{label}': the model's labels are {known}")
        sources = [s for s, _ in self.merge]
        for source, target in self.merge:
            if source not in self.source:
                raise LabelSetError(f"cannot merge '{source}': not a label of the model ({known})")
            if sources.count(source) > 1:
                raise LabelSetError(f"label '{source}' is merged more than once")
            if source in self.labels:
                raise LabelSetError(f"label '{source}' is both kept and merged into '{target}'")
            if target not in self.labels:
                raise LabelSetError(
                    f"cannot merge '{source}' into '{target}': '{target}' is not one of the "
                    f"labels ({', '.join(self.labels)})"
                )

    @property
    def is_identity(self) -> bool:
        return self.labels == self.source

    @property
    def groups(self) -> tuple[tuple[int, ...], ...]:
        """Per output label, the indices of its source labels: itself first, then those
        merged into it in source order."""
        index = {label: i for i, label in enumerate(self.source)}
        return tuple(
            (index[label], *(index[s] for s, t in self.merge if t == label))
            for label in self.labels
        )

    @property
    def members(self) -> tuple[int, ...]:
        """Indices of the source labels in any group, group after group (without merges:
        the output labels' own indices, in output order)."""
        return tuple(i for group in self.groups for i in group)

    def group_matrix(self) -> np.ndarray:
        """``(len(members), len(labels))`` 0/1 float32: member ``k`` belongs to label ``j``."""
        owners = [j for j, group in enumerate(self.groups) for _ in group]
        matrix = np.zeros((len(owners), len(self.labels)), np.float32)
        matrix[np.arange(len(owners)), owners] = 1.0
        return matrix

    def reduce(self, probabilities: np.ndarray) -> np.ndarray:
        """``(n, len(source))`` probabilities -> ``(n, len(labels))`` float32: each group's
        sum, renormalized over the groups (the identity set returns its input)."""
        probabilities = np.asarray(probabilities, dtype=np.float32)
        if self.is_identity:
            return probabilities
        kept = probabilities[:, list(self.members)].astype(np.float64)
        sums = kept @ self.group_matrix()
        return (sums / sums.sum(axis=1, keepdims=True)).astype(np.float32)

    def output_label(self, source_label: str) -> str | None:
        """The output label a source label's clips count as (``None``: dropped)."""
        if source_label in self.labels:
            return source_label
        return dict(self.merge).get(source_label)

    def to_manifest(self) -> dict:
        """The manifest's ``label_set`` field (the output labels are its ``labels``)."""
        return {"source_labels": list(self.source), "merge": dict(self.merge)}

    @classmethod
    def from_manifest(cls, manifest: dict) -> LabelSet:
        """The label set a manifest describes: its ``label_set`` field with its ``labels``,
        or every label when the field is absent.

        Raises
        ------
        LabelSetError
            If they do not make a consistent label set.
        """
        entry = manifest.get("label_set")
        if entry is None:
            return cls.full(manifest["labels"])
        return cls.build(entry["source_labels"], manifest["labels"], list(entry["merge"].items()))


def parse_label_list(text: str) -> tuple[str, ...]:
    """``"neutral,happy,sad"`` -> its labels (``LabelSet.check`` checks them)."""
    labels = tuple(part.strip() for part in text.split(","))
    if not all(labels):
        raise LabelSetError(f"empty label in '{text}': give labels separated by commas")
    return labels


def parse_merge(text: str) -> tuple[str, str]:
    """``"calm=neutral"`` -> ``("calm", "neutral")``."""
    source, sep, target = (part.strip() for part in text.partition("="))
    if not sep or not source or not target or "=" in target:
        raise LabelSetError(f"expected SOURCE=TARGET (e.g. calm=neutral), got '{text}'")
    return source, target
