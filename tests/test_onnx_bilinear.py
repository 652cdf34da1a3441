"""``fcn_core.onnx_bilinear``: a fixed bilinear deconvolution rewritten as Pad -> Resize -> Slice computes
the same values at every output pixel (borders included) for FCN's strides and odd input sizes; any other
deconvolution is left alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fcn_core.models.layers import upscore_layer
from fcn_core.onnx_bilinear import rewrite_bilinear_deconvs

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the TorchScript exporter's notice


def _export(layer: torch.nn.Module, path, channels: int):
    torch.onnx.export(layer.eval(), (torch.zeros(1, channels, 5, 7),), str(path), dynamo=False,
                      opset_version=17, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "h", 3: "w"}})
    return onnx.load(str(path))


def _run(model, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize("stride", [2, 8, 16, 32])
def test_bilinear_deconvolution_equals_its_resize_rewrite(tmp_path, stride):
    layer = upscore_layer(5, 2 * stride, stride)
    model = _export(layer, tmp_path / "up.onnx", 5)
    rewritten = onnx.load(str(tmp_path / "up.onnx"))
    assert rewrite_bilinear_deconvs(rewritten) == 1
    ops = [n.op_type for n in rewritten.graph.node]
    assert "ConvTranspose" not in ops and ops.count("Resize") == 1
    assert not any(i.name.endswith("weight") for i in rewritten.graph.initializer)  # the dead weight is gone
    onnx.checker.check_model(rewritten)
    rng = np.random.default_rng(stride)
    for h, w in [(1, 1), (3, 7), (13, 6)]:
        x = (rng.normal(0, 30, (2, 5, h, w))).astype(np.float32)
        with torch.no_grad():
            want = layer(torch.from_numpy(x)).numpy()
        deconv, resize = _run(model, x), _run(rewritten, x)
        assert resize.shape == deconv.shape == want.shape == (2, 5, (h + 1) * stride, (w + 1) * stride)
        scale = float(np.abs(want).max())
        assert np.abs(resize - want).max() <= 1e-6 * scale
        assert np.abs(resize - deconv).max() <= 1e-6 * scale


def test_learned_or_other_deconvolutions_are_left_alone(tmp_path):
    learned = upscore_layer(4, 4, 2)
    with torch.no_grad():
        learned.weight[0, 1, 1, 1] = 0.25  # one class leaks into another: not an interpolation any more
    odd = torch.nn.ConvTranspose2d(4, 4, 3, stride=2, bias=False)  # not kernel 2s
    biased = upscore_layer(4, 16, 8)
    biased.bias = torch.nn.Parameter(torch.zeros(4))
    for i, layer in enumerate([learned, odd, biased]):
        model = _export(layer, tmp_path / f"m{i}.onnx", 4)
        before = model.SerializeToString()
        assert rewrite_bilinear_deconvs(model) == 0
        assert model.SerializeToString() == before
