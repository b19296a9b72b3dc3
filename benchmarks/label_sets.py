"""What an export's label set (``edge-ser export --labels/--merge``) costs in int8.

Converts three int8 TFLite models of the same Keras model (the bundled one unless
``--model``) and compares each with the Keras probabilities of the label set that ``verify``
compares exports with (``LabelSet.reduce`` of one CNN's probabilities; for a seed ensemble, the
mean of its members' reduced probabilities) on the inputs ``verify`` uses for patch models (the
golden signals' patches, then the held-out patches):

- ``full model, reduced by the app``: the full-label int8 model, its dequantized output
  reduced in NumPy (what an app would do with a full-label export);
- ``sum, then divide``: fixed layers after the softmax sum each group and divide by the total
  (the reduction written literally);
- ``kept logits, softmax, sum`` (what ``edge-ser export`` builds, ``model.with_label_set``):
  the last Dense keeps only the logits of kept and merged labels, a softmax runs over them and
  a fixed 0/1 Dense sums each merge group.

The full-label model against the Keras full-label probabilities is the baseline row. Also:
file size, the TFLite ops of each file, and the int8 latency per patch (one thread, median of
``--repeats`` calls, the models timed round-robin in the same process).

    python benchmarks/label_sets.py --json benchmarks/label-sets.json \\
        --markdown benchmarks/label-sets.md
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from edge_ser import quiet

# TensorFlow prints its start-up lines on import: hidden as edge-ser hides them.
with quiet.third_party_quieted(quiet.verbose_from_env()):
    from edge_ser.artifacts.formats import PATCH_INPUT
    from edge_ser.bench.latency import sample_patch
    from edge_ser.bench.machine import read_cpuinfo
    from edge_ser.bench.output import benchmark_main
    from edge_ser.bench.timing import time_calls
    from edge_ser.bundle import ModelBundle
    from edge_ser.export.golden import golden_inputs, signal_inputs
    from edge_ser.export.parity import compare
    from edge_ser.export.tflite import to_int8_tflite
    from edge_ser.labels import LabelSet, parse_label_list
    from edge_ser.model import with_label_set


def sum_then_divide(model, label_set: LabelSet):
    """``model`` followed by a fixed group-sum Dense and a division by the row total."""
    import keras

    matrix = np.zeros((len(label_set.source), len(label_set.labels)), np.float32)
    for j, group in enumerate(label_set.groups):
        matrix[list(group), j] = 1.0
    dense = keras.layers.Dense(len(label_set.labels), use_bias=False, name="group_sums")
    sums = dense(model.output)
    dense.set_weights([matrix])
    total = keras.ops.sum(sums, axis=-1, keepdims=True)
    return keras.Model(model.inputs, sums / total)


class Int8Model:
    """A full-integer int8 flatbuffer in LiteRT: outputs row by row, ops, size."""

    def __init__(self, flatbuffer: bytes) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.size = len(flatbuffer)
        self.interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        ops = self.interpreter._get_ops_details()  # the interpreter has no public op listing
        self.ops = sorted({op["op_name"] for op in ops} - {"DELEGATE"})

    def quantize(self, patch: np.ndarray) -> np.ndarray:
        scale, zero = self.input["quantization"]
        return np.clip(np.round(patch / scale + zero), -128, 127).astype(np.int8)

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self.input["index"], model_input)
        self.interpreter.invoke()
        scale, zero = self.output["quantization"]
        return (self.interpreter.get_tensor(self.output["index"]).astype(np.float32) - zero) * scale

    def predict(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of each patch (NaN where the kernel fails) and where it failed."""
        rows, failed = [], []
        for patch in patches:
            try:
                rows.append(self.invoke(self.quantize(patch[np.newaxis]))[0])
                failed.append(False)
            except RuntimeError:  # e.g. the int8 DIV kernel refuses a zero divisor
                rows.append(np.full(self.output["shape"][-1], np.nan, np.float32))
                failed.append(True)
        return np.stack(rows), np.array(failed)


def stats(reference: np.ndarray, probs: np.ndarray, failed: np.ndarray) -> dict:
    """``parity.compare`` over the rows that are finite, and how many are not."""
    finite = np.isfinite(probs).all(axis=1)
    return {
        **compare(reference[finite], probs[finite]),
        "rows": len(probs),
        "kernel_failures": int(failed.sum()),
        "not_finite": int((~finite & ~failed).sum()),
    }


def measure(model_dir: Path | None, label_set_args: tuple, repeats: int) -> dict:
    bundle = ModelBundle.load(model_dir)
    label_set = LabelSet.build(bundle.labels, *label_set_args)
    golden = np.concatenate(
        [signal_inputs(PATCH_INPUT, w, p) for w, _, p in golden_inputs().values()]
    )
    parts = {"held-out speech": bundle.parity_patches(), "golden signals": golden}
    keras_model = bundle.keras_model
    calibration = bundle.calibration_patches()
    models = {
        "full model": Int8Model(to_int8_tflite(keras_model, calibration)),
        "sum, then divide": Int8Model(
            to_int8_tflite(sum_then_divide(keras_model, label_set), calibration)
        ),
        "kept logits, softmax, sum (export)": Int8Model(
            to_int8_tflite(with_label_set(keras_model, label_set), calibration)
        ),
    }
    rows = {name: {"size_bytes": m.size, "ops": m.ops, "parity": {}} for name, m in models.items()}
    for part, patches in parts.items():
        full_keras = bundle.runtime().predict_patches(patches)
        reference = bundle.runtime(label_set).predict_patches(patches)
        for name, model in models.items():
            probs, failed = model.predict(patches)
            parity = rows[name]["parity"]
            if name == "full model":
                parity[f"{part}, all labels"] = stats(full_keras, probs, failed)
                with np.errstate(invalid="ignore"):  # a kept mass rounded to 0 gives 0 / 0
                    probs = label_set.reduce(probs)
            parity[part] = stats(reference, probs, failed)
    patch = sample_patch()
    inputs = {name: model.quantize(patch) for name, model in models.items()}
    timings: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(5):  # round-robin, so that load changes hit every model alike
        for name, model in models.items():
            call = lambda m=model, x=inputs[name]: m.invoke(x)  # noqa: E731
            timings[name].append(time_calls(call, repeats // 5, warmup=20).median_ms)
    for name, values in timings.items():
        rows[name]["latency_ms_median"] = float(np.median(values))
    return {
        "model_id": bundle.model_id,
        "source_labels": list(label_set.source),
        "labels": list(label_set.labels),
        "merge": dict(label_set.merge),
        "cpu": read_cpuinfo().model,
        "cpus": os.cpu_count(),
        "formulations": rows,
    }


def markdown(result: dict) -> str:
    merge = ", ".join(f"{s}={t}" for s, t in result["merge"].items()) or "none"
    lines = [
        f"# Label set in int8: {', '.join(result['labels'])} (merge: {merge})",
        "",
        f"Model {result['model_id']}; CPU: {result['cpu']} ({result['cpus']} cores). Parity "
        "against the Keras probabilities of the label set, as `verify` computes them "
        "(`LabelSet.reduce` of one CNN's; the full model's first row: against Keras's own "
        "labels); failed rows: the int8 kernel refused the input or "
        "the reduction divided 0 by 0 (left out of the other columns).",
        "",
        "| int8 model | inputs | top1 (decisive) | top1 (all) | max\\|dp\\| | mean\\|dp\\| "
        "| failed rows |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in result["formulations"].items():
        for part, s in row["parity"].items():
            failed = s["kernel_failures"] + s["not_finite"]
            lines.append(
                f"| {name} | {part} | {s['top1_agreement']:.3f} | {s['top1_agreement_all']:.3f} "
                f"| {s['max_abs_diff']:.3f} | {s['mean_abs_diff']:.4f} | {failed} of {s['rows']} |"
            )
    lines += ["", "| int8 model | size | latency per patch (1 thread) | TFLite ops |"]
    lines += ["|---|---:|---:|---|"]
    for name, row in result["formulations"].items():
        lines.append(
            f"| {name} | {row['size_bytes'] / 1024:.1f} KiB | {row['latency_ms_median']:.3f} ms "
            f"| {' '.join(row['ops'])} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--labels", type=parse_label_list, default=("neutral", "happy", "sad", "angry")
    )
    parser.add_argument("--merge", action="append", default=None)
    parser.add_argument("--repeats", type=int, default=1000)

    def run(args: argparse.Namespace) -> dict:
        merge = ["calm=neutral"] if args.merge is None else args.merge
        return measure(args.model, (args.labels, merge), args.repeats)

    return benchmark_main(parser, run, markdown, argv)


if __name__ == "__main__":
    raise SystemExit(main())
