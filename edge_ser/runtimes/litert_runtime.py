"""LiteRT (TFLite) backend: runs ``.tflite`` artifacts one input at a time, as an app does."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_ser.errors import ModelError
from edge_ser.quantization import dequantize, quantize


def tensor_fields(detail: dict) -> dict:
    """A LiteRT tensor as an export manifest describes it: name, dtype, shape and, for
    int8, scale and zero point."""
    scale, zero_point = detail["quantization"]
    fields = {
        "name": detail["name"],
        "dtype": np.dtype(detail["dtype"]).name,
        "shape": [int(d) for d in detail["shape"]],
    }
    if fields["dtype"] == "int8":
        fields.update(scale=float(scale), zero_point=int(zero_point))
    return fields


class LiteRTRuntime:
    """A ``.tflite`` model in the LiteRT interpreter; int8 models are fed quantized inputs.

    Parameters
    ----------
    path:
        The ``.tflite`` file (float32 or full-integer int8 input/output).
    labels:
        Label order of the model's output.
    num_threads:
        Interpreter threads (``None``: LiteRT's default).
    input_quantization:
        ``(scale, zero_point)`` to quantize int8 inputs with, as an app reads them from the
        manifest; ``None`` uses the values stored in the model.
    """

    def __init__(
        self,
        path: Path,
        labels: tuple[str, ...],
        num_threads: int | None = None,
        input_quantization: tuple[float, int] | None = None,
    ):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        self.labels = tuple(labels)
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load '{self.path}': {str(exc).splitlines()[0]}") from exc
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.input_quantization = input_quantization or tuple(self.input["quantization"])
        if self.output["shape"][-1] != len(self.labels):
            raise ModelError(
                f"'{self.path}' outputs {self.output['shape'][-1]} classes "
                f"but {len(self.labels)} labels were given"
            )

    def manifest_fields(self) -> dict:
        """The model's own input and output tensors (``tensor_fields``)."""
        return {"input": tensor_fields(self.input), "output": tensor_fields(self.output)}

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.input["shape"])

    @property
    def is_int8(self) -> bool:
        return self.input["dtype"] == np.int8

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """The exact tensor an app feeds: int8 per the model's input scale, else float32."""
        if not self.is_int8:
            return np.asarray(x, dtype=np.float32)
        scale, zero_point = self.input_quantization
        return quantize(x, scale, zero_point)

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        """Run one already-quantized input of the model's input shape; float32 output."""
        return self._dequantize_output(self._invoke_raw(model_input))

    def _invoke_raw(self, model_input: np.ndarray) -> np.ndarray:
        """Run one input; the output tensor as the model stores it (int8 or float32)."""
        self.interpreter.set_tensor(self.input["index"], model_input)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"])

    def _dequantize_output(self, raw: np.ndarray) -> np.ndarray:
        if self.output["dtype"] == np.int8:
            scale, zero_point = self.output["quantization"]
            return dequantize(raw, scale, zero_point)
        return raw.astype(np.float32)

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        """``(n, labels)`` probabilities of n model inputs, each reshaped to the input shape:
        ``(n, 96, 64, 1)`` log-mel patches, or ``(n, 15600)`` windows for waveform-in models."""
        patches = np.asarray(patches, dtype=np.float32)
        if len(patches) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        shape = self.input_shape
        inputs = self.quantize_input(patches.reshape(len(patches), *shape[1:]))
        raw = np.concatenate([self._invoke_raw(row.reshape(shape)) for row in inputs])
        return self._dequantize_output(raw)
