"""Weights files that are not what they claim: every WeightsError names the file and the problem."""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from fcn_core.cli import main as cli_main
from fcn_core.models import build_model
from fcn_core.weights import (
    IMAGENET_PREPROCESSING,
    WeightsError,
    load_model,
    save_checkpoint,
)
from tests.weights_helpers import TINY, _random_state


# ---- errors --------------------------------------------------------------------------------------
class _Payload:  # any non-tensor object inside a pickle must be refused
    def __reduce__(self):
        return (os.getcwd, ())


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    cases = {}
    empty = tmp / "empty.pth"
    empty.write_bytes(b"")
    cases["empty"] = (empty, r"empty \(0 bytes\)")
    rand = tmp / "random.pth"
    rand.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    cases["random"] = (rand, "not a PyTorch weights file")
    evil = tmp / "evil.pth"
    torch.save({"conv1_1.weight": torch.zeros(1), "x": _Payload()}, evil)
    cases["pickle"] = (evil, "refused for safety")
    raw_pickle = tmp / "raw.pkl"
    raw_pickle.write_bytes(pickle.dumps(_Payload()))
    cases["raw pickle"] = (raw_pickle, "refused for safety|not a PyTorch weights file")
    js = tmp / "labels.json"
    js.write_text(json.dumps({"shapes": []}))
    cases["json"] = (js, "is a JSON file")
    txt = tmp / "notes.pth"
    txt.write_text("hello, these are not weights\n")
    cases["text"] = (txt, "is a text file")
    cases["missing"] = (tmp / "nope.pth", "file not found")
    cases["folder"] = (tmp, "is a folder")
    fake_st = tmp / "fake.safetensors"
    fake_st.write_bytes(b"\x00\x01binary junk" * 10)
    cases["bad safetensors"] = (fake_st, "not a safetensors file")
    nums = tmp / "numbers.pth"
    torch.save([torch.zeros(2)], nums)
    cases["list"] = (nums, "holds a list, not a model state dict")
    mixed = tmp / "mixed.pth"
    torch.save({"epoch": 3, "lr": 0.1}, mixed)
    cases["not a state dict"] = (mixed, "not a model state dict.*epoch")
    import torchvision  # a classification VGG: right format, wrong kind of model

    vgg = tmp / "vgg.pth"
    with torch.device("meta"):
        keys = list(torchvision.models.vgg16(weights=None).state_dict())
    torch.save({k: torch.zeros(1) for k in keys}, vgg)
    cases["vgg"] = (vgg, "torchvision VGG16 classification model")
    return cases


BAD_CASES = ["empty", "random", "pickle", "raw pickle", "json", "text", "missing", "folder",
             "bad safetensors", "list", "not a state dict", "vgg"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_not_a_weights_file(tmp_path, case):
    path, words = _bad_files(tmp_path)[case]
    with pytest.raises(WeightsError, match=words) as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    state = _random_state("fcn8s", 21)
    del state["score_pool4.bias"]
    state["extra_head.weight"] = torch.zeros(3)
    path = tmp_path / "edited.pth"
    torch.save(state, path)
    with pytest.raises(WeightsError) as err:
        load_model(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "missing keys: score_pool4.bias" in msg and "unexpected keys: extra_head.weight" in msg


def test_shape_mismatch_names_layer_and_both_shapes(tmp_path):
    state = _random_state("fcn8s", 21)
    state["score_pool3.weight"] = torch.zeros(21, 7, 1, 1)
    path = tmp_path / "odd.pth"
    torch.save(state, path)
    with pytest.raises(WeightsError, match=r"odd\.pth: layer score_pool3\.weight has shape \(21, 7, 1, 1\) "
                                           r"in the file but fcn8s needs \(21, 16, 1, 1\)"):
        load_model(path)


def test_class_count_and_arch_mismatch_in_plain_words(tmp_path):
    path = tmp_path / "fcn16s.pth"
    torch.save(_random_state("fcn16s", 21), path)
    with pytest.raises(WeightsError, match=r"fcn16s\.pth: file has 21 classes but 11 were requested"):
        load_model(path, num_classes=11)
    with pytest.raises(WeightsError, match="file holds fcn16s weights but fcn8s was requested"):
        load_model(path, arch="fcn8s")
    with pytest.raises(WeightsError, match="unknown FCN architecture"):
        load_model(path, arch="fcn4s")
    assert load_model(path, num_classes=21).num_classes == 21


def test_damaged_checkpoint(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, build_model("fcn32s", 2, width=TINY), class_names=["a", "b"],
                    preprocessing=IMAGENET_PREPROCESSING)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match=r"m\.safetensors: .*safetensors"):
        load_model(path)


@pytest.mark.parametrize("change, problem", [
    ({"arch": "fcn4s"}, "unknown FCN architecture 'fcn4s'"),
    ({"arch": None}, "lacks 'arch'"),
    ({"void_index": "void"}, "void_index 'void' is not a number"),
    ({"class_names": "[1, 2"}, "'class_names' is not valid JSON"),
])
def test_checkpoint_with_bad_metadata_is_a_weights_error(tmp_path, change, problem):
    from safetensors.torch import load_file, save_file

    path = tmp_path / "m.safetensors"
    save_checkpoint(path, build_model("fcn32s", 2, width=TINY), class_names=["a", "b"],
                    preprocessing=IMAGENET_PREPROCESSING)
    meta = read_checkpoint_metadata_raw(path)
    for key, value in change.items():
        if value is None:
            meta.pop(key)
        else:
            meta[key] = value
    save_file(load_file(str(path)), str(path), metadata=meta)
    with pytest.raises(WeightsError, match=re.escape(f"{path}: ") + ".*" + re.escape(problem)):
        load_model(path)


def read_checkpoint_metadata_raw(path):
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        return dict(fh.metadata())


# ---- fcn info ------------------------------------------------------------------------------------
def test_fcn_info_prints_what_the_file_holds(tmp_path, capsys):
    path = tmp_path / "m.safetensors"
    model = build_model("fcn-multi", 3, batch_norm=True, width=TINY)
    save_checkpoint(path, model, class_names=["sky", "road", "car"], void_index=11,
                    preprocessing=IMAGENET_PREPROCESSING, metadata={"dataset": "camvid"})
    assert cli_main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    for words in ("arch:          fcn-multi", "strides:       32, 16, 8", "batch_norm=True", "road",
                  "void index:    11", "dataset: camvid", "RGB"):
        assert words in out
    n_params = sum(p.numel() for p in model.parameters())
    assert f"{n_params:,}" in out
    assert cli_main(["info", "--json", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["arch"] == "fcn-multi" and info["parameters"] == n_params and info["void_index"] == 11


def test_fcn_info_reports_bad_files(tmp_path, capsys):
    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"")
    assert cli_main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "broken.pth" in err and "empty" in err
