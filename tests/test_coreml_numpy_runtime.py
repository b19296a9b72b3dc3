"""The NumPy evaluator of saved Core ML models (``edge_ser.runtimes.coreml_numpy_runtime``):
batching, sensitivity to the saved weights, and refusal of ops it does not implement."""

from __future__ import annotations

import shutil

import coremltools as ct
import numpy as np
import pytest
from coreml_factory import FLOAT32_MLPACKAGE, WEIGHTS_BIN, max_diff, save
from coremltools.converters.mil.mil import Builder as mb
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder

from edge_ser.artifacts import layout
from edge_ser.errors import ModelError
from edge_ser.runtimes.coreml_numpy_runtime import CoreMLNumpyRuntime

pytestmark = pytest.mark.slow


def test_batched_and_single_patch_predictions_agree(coreml_exports, coreml_patches):
    runtime = CoreMLNumpyRuntime().load(coreml_exports[FLOAT32_MLPACKAGE])
    one_by_one = np.concatenate(
        [runtime.predict_patches(p[np.newaxis]) for p in coreml_patches[:4]]
    )
    np.testing.assert_allclose(runtime.predict_patches(coreml_patches[:4]), one_by_one, atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        runtime.predict_patches(coreml_patches[:, :48])


@pytest.mark.parametrize("name", [FLOAT32_MLPACKAGE, layout.MLMODEL])
def test_perturbed_saved_weight_is_detected(
    coreml_exports, coreml_model, coreml_patches, name, tmp_path
):
    kernel = coreml_model.get_layer("logits").kernel.numpy()
    original = np.ascontiguousarray(kernel.T, "<f4").tobytes()
    perturbed = np.ascontiguousarray(-kernel.T, "<f4").tobytes()
    copy = tmp_path / name
    if coreml_exports[name].is_dir():
        shutil.copytree(coreml_exports[name], copy)
        weights_file = copy / WEIGHTS_BIN
    else:
        shutil.copy(coreml_exports[name], copy)
        weights_file = copy
    data = weights_file.read_bytes()
    assert data.count(original) == 1
    weights_file.write_bytes(data.replace(original, perturbed))
    assert max_diff(copy, coreml_model, coreml_patches) > 0.05


def test_evaluator_rejects_unknown_ml_program_op(tmp_path):
    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 4))], opset_version=ct.target.iOS15)
    def program(x):
        return mb.softmax(x=mb.sin(x=x), axis=-1)

    mlmodel = ct.convert(
        program,
        convert_to="mlprogram",
        minimum_deployment_target=ct.target.iOS15,
        classifier_config=ct.ClassifierConfig(["a", "b", "c", "d"]),
        skip_model_load=True,
    )
    path = save(mlmodel, tmp_path / "sin.mlpackage")
    with pytest.raises(ModelError, match=r"not supported by the NumPy evaluator: sin$"):
        CoreMLNumpyRuntime().load(path)


def test_evaluator_rejects_unknown_neuralnetwork_layer(tmp_path):
    builder = NeuralNetworkBuilder(
        [("x", datatypes.Array(1, 4))],
        [("probabilities", None)],
        mode="classifier",
        disable_rank5_shape_mapping=True,
    )
    builder.add_unary("root", "x", "root", mode="sqrt")
    builder.add_softmax_nd("softmax", "root", "softmax", axis=-1)
    builder.set_class_labels(["a", "b", "c", "d"], prediction_blob="softmax")
    mlmodel = ct.models.MLModel(builder.spec, skip_model_load=True)
    path = save(mlmodel, tmp_path / "sqrt.mlmodel")
    with pytest.raises(ModelError, match=r"not supported by the NumPy evaluator: unary$"):
        CoreMLNumpyRuntime().load(path)
