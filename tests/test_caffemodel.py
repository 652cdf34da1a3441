"""`.caffemodel` files of fcn.berkeleyvision.org: read without Caffe, recognised, loaded, converted.

The files are written here by an independent protobuf encoder (tests/caffe_writer.py) from random weights of
tiny-width models; loading them must give the very same outputs as the weights themselves.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fcn_core.cli import main as cli_main
from fcn_core.models import build_model, forward_tasks
from fcn_core.weights import KNOWN_NETS, WeightsError, load_model
from fcn_core.weights.caffe_proto import parse_net
from tests import caffe_writer as cw

TINY = 0.0625


def _random_model(arch: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_model(arch, width=TINY).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            std = 0.05 if "score" in name or "upscore" in name else (2.0 / max(1, p[0].numel())) ** 0.5
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return model


def _outputs(model: torch.nn.Module, seed: int = 1) -> dict:
    c = getattr(model, "in_channels", 3)
    x = torch.randn(1, c, 29, 35, generator=torch.Generator().manual_seed(seed)) * 50
    with torch.no_grad():
        return forward_tasks(model, x)


def _assert_same_outputs(a: torch.nn.Module, b: torch.nn.Module) -> None:
    oa, ob = _outputs(a), _outputs(b)
    assert oa.keys() == ob.keys()
    for task in oa:
        for stride in oa[task]:
            assert torch.equal(oa[task][stride], ob[task][stride]), (task, stride)


@pytest.mark.parametrize("reference", sorted(KNOWN_NETS))
def test_every_reference_net_loads_with_its_arch_classes_and_preprocessing(tmp_path, reference):
    net = KNOWN_NETS[reference]
    model = _random_model(net.arch)
    extra = []
    if reference == "voc-fcn8s-atonce":  # the reference's fixed Scale layers (param lr_mult 0)
        extra = [("scale_pool4", "Scale", [np.full(32, 0.01, np.float32)]),  # per channel of pool4
                 ("scale_pool3", "Scale", [np.full(16, 0.0001, np.float32)])]
    path = tmp_path / f"{reference}-heavy.caffemodel"
    path.write_bytes(cw.net_from_state(model.state_dict(), extra_layers=extra))
    loaded = load_model(path)
    assert loaded.arch == net.arch
    assert loaded.metadata["reference"] == reference
    assert loaded.class_names == list(net.class_names) and loaded.num_classes == len(net.class_names)
    assert loaded.options == {"batch_norm": False, "width": TINY}
    _assert_same_outputs(model, loaded.model)
    inputs = [i["name"] for i in loaded.metadata["inputs"]]
    assert sum(3 if i != "depth" else 1 for i in inputs) == getattr(model, "in_channels", 3)
    if "hha" in reference and "color" not in reference:
        assert loaded.preprocessing.color_order == "RGB"
        assert loaded.preprocessing.mean == pytest.approx((132.431, 94.076, 118.477))
    elif reference.startswith("nyud"):
        assert loaded.preprocessing.color_order == "BGR"
        assert loaded.preprocessing.mean == pytest.approx((116.190, 97.203, 92.318))
    elif reference.startswith("siftflow"):
        assert loaded.preprocessing.mean == pytest.approx((114.578, 115.294, 108.353))
        assert loaded.metadata["task_classes"]["geo"] == ["sky", "horizontal", "vertical"]
    else:
        assert loaded.preprocessing.color_order == "BGR"
        assert loaded.preprocessing.mean[0] == pytest.approx(104.0, abs=0.01)


@pytest.mark.parametrize("opts", [
    {"v1": True},
    {"v1": True, "legacy": True},
    {"double": True, "packed_shape": False},
])
def test_v1_layers_legacy_shapes_and_double_data(tmp_path, opts):
    model = _random_model("fcn16s", seed=3)
    path = tmp_path / "old.caffemodel"
    path.write_bytes(cw.net_from_state(model.state_dict(), **opts))
    loaded = load_model(path)
    assert loaded.arch == "fcn16s"
    _assert_same_outputs(model, loaded.model)


def test_inner_product_fc6_is_reshaped_into_the_convolution(tmp_path):
    model = _random_model("fcn32s", seed=4)
    state = dict(model.state_dict())
    state["fc6.weight"] = state["fc6.weight"].reshape(state["fc6.weight"].shape[0], -1)  # InnerProduct blob
    path = tmp_path / "fc.caffemodel"
    path.write_bytes(cw.net_from_state(state))
    _assert_same_outputs(model, load_model(path).model)


def test_nyud_color_or_hha_by_file_name_or_arch(tmp_path):
    model = _random_model("nyud-fcn32s-color", seed=5)
    path = tmp_path / "net.caffemodel"
    path.write_bytes(cw.net_from_state(model.state_dict()))
    assert load_model(path).arch == "nyud-fcn32s-color"
    assert load_model(path, arch="nyud-fcn32s-hha").arch == "nyud-fcn32s-hha"
    with pytest.raises(WeightsError, match="net.caffemodel.*siftflow-fcn32s was requested"):
        load_model(path, arch="siftflow-fcn32s")


def test_unknown_net_is_refused_with_its_layers(tmp_path):
    model = build_model("fcn32s", 7, width=TINY)  # 7 classes: no reference net has them
    path = tmp_path / "mine.caffemodel"
    path.write_bytes(cw.net_from_state(model.state_dict()))
    with pytest.raises(WeightsError) as err:
        load_model(path)
    msg = str(err.value)
    assert "mine.caffemodel" in msg and "not one of the known" in msg
    assert "score_fr (Convolution, (7, 256, 1, 1)/(7,))" in msg and "conv1_1" in msg


def test_corrupt_and_truncated_files_give_a_weights_error_naming_the_file(tmp_path):
    data = cw.net_from_state(_random_model("fcn32s").state_dict())
    cuts = [1, 2, 7, 50, len(data) // 3, len(data) // 2, len(data) - 5, len(data) - 1]
    for cut in cuts:
        path = tmp_path / f"cut{cut}.caffemodel"
        path.write_bytes(data[:cut])
        with pytest.raises(WeightsError, match=f"cut{cut}.caffemodel"):
            load_model(path)
    garbage = tmp_path / "garbage.caffemodel"
    garbage.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(WeightsError, match="garbage.caffemodel"):
        load_model(garbage)
    empty = tmp_path / "empty.caffemodel"
    empty.write_bytes(b"")
    with pytest.raises(WeightsError, match="empty.caffemodel.*empty"):
        load_model(empty)
    # A blob whose data does not fill its shape.
    bad = cw.layer("conv1_1", "Convolution", [np.zeros((2, 3), np.float32)])
    shape_23 = cw.length_field(1, cw.varint(2) + cw.varint(3))
    bad = bad.replace(shape_23, cw.length_field(1, cw.varint(2) + cw.varint(4)))
    with pytest.raises(WeightsError, match="holds 6 values instead of 8"):
        parse_net(bad, tmp_path / "x.caffemodel")


def test_fcn_convert_writes_a_checkpoint_that_loads_the_same(tmp_path, capsys):
    model = _random_model("siftflow-fcn16s", seed=7)
    src = tmp_path / "siftflow-fcn16s-heavy.caffemodel"
    src.write_bytes(cw.net_from_state(model.state_dict()))
    out = tmp_path / "sf.safetensors"
    assert cli_main(["convert", str(src), str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["arch"] == "siftflow-fcn16s" and summary["reference"] == "siftflow-fcn16s"
    loaded = load_model(out)
    assert loaded.arch == "siftflow-fcn16s" and loaded.num_classes == 33
    assert loaded.metadata["task_classes"]["geo"] == ["sky", "horizontal", "vertical"]
    assert loaded.preprocessing.mean == pytest.approx((114.578, 115.294, 108.353))
    _assert_same_outputs(model, loaded.model)
    assert cli_main(["convert", str(src), str(out)]) == 2  # exists, no --force
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize("arch", ["nyud-fcn32s-color-hha", "nyud-fcn32s-color-d"])
def test_converted_multimodal_checkpoints_keep_their_inputs(tmp_path, capsys, arch):
    model = _random_model(arch, seed=8)
    src = tmp_path / f"{arch}.caffemodel"
    src.write_bytes(cw.net_from_state(model.state_dict(), v1=True))
    out = tmp_path / "m.safetensors"
    assert cli_main(["convert", str(src), str(out)]) == 0
    loaded = load_model(out)
    assert loaded.arch == arch
    names = [i["name"] for i in loaded.metadata["inputs"]]
    assert names == (["color", "hha"] if arch.endswith("hha") else ["color", "depth"])
    _assert_same_outputs(model, loaded.model)


def test_at_once_scale_layers_must_hold_the_models_constants(tmp_path):
    model = _random_model("fcn8s-atonce")
    extra = [("scale_pool4", "Scale", [np.full(32, 0.5, np.float32)]),
             ("scale_pool3", "Scale", [np.full(16, 0.0001, np.float32)])]
    path = tmp_path / "atonce.caffemodel"
    path.write_bytes(cw.net_from_state(model.state_dict(), extra_layers=extra))
    with pytest.raises(WeightsError, match="atonce.caffemodel: layer scale_pool4 scales by"):
        load_model(path)


def test_predictor_shows_the_semantic_head_of_a_two_headed_net(tmp_path):
    from fcn_core.predictor import Predictor

    model = _random_model("siftflow-fcn32s", seed=9)
    path = tmp_path / "siftflow-fcn32s.caffemodel"
    path.write_bytes(cw.net_from_state(model.state_dict()))
    result = Predictor(load_model(path), device="cpu").predict(np.zeros((20, 24, 3), np.uint8))
    assert list(result) == [32] and result[32].labels.shape == (20, 24)
    x = torch.from_numpy(np.zeros((1, 20, 24, 3), np.uint8)).permute(0, 3, 1, 2)
    with torch.no_grad():
        sem = model(load_model(path).preprocessing.normalize(x))["sem"]
    assert np.array_equal(result[32].labels, sem[0].argmax(0).numpy().astype(np.uint8))
