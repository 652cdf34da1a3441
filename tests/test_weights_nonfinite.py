"""Weights holding NaN or Inf (a diverged run) are refused when loaded, naming the file and the tensor."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from fcn_core.cli import main as cli_main
from fcn_core.models import build_model
from fcn_core.weights import IMAGENET_PREPROCESSING, WeightsError, load_model, save_checkpoint
from tests.weights_helpers import TINY, _random_state


def _pth(path, state):
    torch.save(state, path)
    return path


def _safetensors(path, state, arch="fcn32s"):
    model = build_model(arch, 21, width=TINY)
    model.load_state_dict(state)
    save_checkpoint(path, model, class_names=[f"c{i}" for i in range(21)],
                    preprocessing=IMAGENET_PREPROCESSING)
    return path


def _cases(tmp_path):
    good = _random_state("fcn32s", 21)
    all_nan = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in good.items()}
    one_inf = {k: v.clone() for k, v in good.items()}
    one_inf["conv3_2.weight"][1, 2, 0, 0] = float("inf")
    half = {k: v.half() if v.is_floating_point() else v for k, v in one_inf.items()}
    return {
        "pth all NaN": (_pth(tmp_path / "nan.pth", all_nan), "conv1_1.weight"),
        "pth one Inf": (_pth(tmp_path / "inf.pth", one_inf), "conv3_2.weight"),
        "pth fp16 one Inf": (_pth(tmp_path / "half.pth", half), "conv3_2.weight"),
        "trainer dict": (_pth(tmp_path / "trainer.pth", {"model_state_dict": one_inf, "epoch": 3}),
                         "conv3_2.weight"),
        # safetensors stores tensors sorted by name: the first one in the file is conv1_1.bias
        "safetensors all NaN": (_safetensors(tmp_path / "nan.safetensors", all_nan), "conv1_1.bias"),
        "safetensors one Inf": (_safetensors(tmp_path / "inf.safetensors", one_inf), "conv3_2.weight"),
    }


def test_non_finite_weights_are_refused_by_name(tmp_path):
    for what, (path, tensor) in _cases(tmp_path).items():
        with pytest.raises(WeightsError) as info:
            load_model(path)
        message = str(info.value)
        assert str(path) in message and tensor in message and "NaN" in message, (what, message)
    # Finite weights (and integer buffers) load as before, also huge ones whose sum overflows.
    ok = _random_state("fcn32s", 21, batch_norm=True)
    ok["conv1_1.bias"].fill_(3e38)
    assert load_model(_pth(tmp_path / "ok.pth", ok)).num_classes == 21


def test_cli_refuses_them_instead_of_predicting_class_0(tmp_path, capsys):
    path, _ = _cases(tmp_path)["safetensors all NaN"]
    img = tmp_path / "x.png"
    Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(img)
    rc = cli_main(["predict", str(img), "--weights", str(path), "--out", str(tmp_path / "pred"),
                   "--device", "cpu", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and str(path) in err and "conv1_1.bias" in err and "NaN" in err
    assert not (tmp_path / "pred").exists() or not any((tmp_path / "pred").rglob("*.png"))
