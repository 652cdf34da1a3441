"""Weights: pytorch-fcn files, trainer dicts, our safetensors checkpoints, VGG16 init, errors, `fcn info`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fcn_core.data.palette import VOC_CLASSES, voc_palette
from fcn_core.models import ARCHS, build_model, forward_strides
from fcn_core.weights import (
    CAFFE_PREPROCESSING,
    IMAGENET_PREPROCESSING,
    Preprocessing,
    WeightsError,
    init_from_vgg16,
    load_model,
    read_checkpoint_metadata,
    save_checkpoint,
)
from tests.reference_fcn import reference_forward
from tests.weights_helpers import TINY, _random_state


def _equal_outputs(model_a, model_b, size=(33, 47)):
    x = torch.rand(1, 3, *size) * 255
    with torch.no_grad():
        a, b = forward_strides(model_a.eval(), x), forward_strides(model_b.eval(), x)
    assert a.keys() == b.keys()
    for s in a:
        torch.testing.assert_close(a[s], b[s])


# ---- pytorch-fcn files ---------------------------------------------------------------------------
@pytest.mark.parametrize("zipfile", [True, False])
def test_plain_pytorch_fcn_state_dict_loads_with_caffe_preprocessing(tmp_path, zipfile):
    state = _random_state("fcn8s", 21)
    path = tmp_path / "fcn8s_from_caffe.pth"
    # The original files are from 2017 (legacy, non-zip torch format); both must load.
    torch.save(state, path, _use_new_zipfile_serialization=zipfile)
    loaded = load_model(path)
    assert loaded.arch == "fcn8s" and loaded.num_classes == 21 and loaded.strides == (8,)
    assert loaded.options == {"batch_norm": False, "width": TINY}
    assert loaded.preprocessing == CAFFE_PREPROCESSING
    assert loaded.preprocessing.color_order == "BGR"
    assert loaded.preprocessing.mean == (104.00698793, 116.66876762, 122.67891434)
    assert loaded.class_names == list(VOC_CLASSES)
    assert np.array_equal(loaded.palette, voc_palette(256))
    assert loaded.void_index == 255 and loaded.path == path
    assert not loaded.model.training
    for key, value in loaded.model.state_dict().items():
        assert torch.equal(value, state[key]), key


@pytest.mark.parametrize("arch", ["fcn32s", "fcn16s", "fcn8s", "fcn-multi"])
def test_arch_inferred_from_keys(tmp_path, arch):
    path = tmp_path / "w.pth"
    torch.save(_random_state(arch, 4), path)
    loaded = load_model(path)
    assert loaded.arch == arch and loaded.num_classes == 4
    assert loaded.class_names == ["class 0", "class 1", "class 2", "class 3"]


def test_atonce_needs_arch_and_is_accepted(tmp_path):
    path = tmp_path / "fcn8s-atonce_from_caffe.pth"
    torch.save(_random_state("fcn8s", 21), path)
    assert load_model(path).arch == "fcn8s"  # the keys cannot tell; default is staged FCN-8s
    loaded = load_model(path, arch="fcn8s-atonce")
    assert loaded.arch == "fcn8s-atonce" and type(loaded.model).__name__ == "FCN8sAtOnce"


def test_batch_norm_and_width_inferred(tmp_path):
    path = tmp_path / "bn.pth"
    state = _random_state("fcn-multi", 5, width=0.3, batch_norm=True)
    torch.save(state, path)
    loaded = load_model(path)
    assert loaded.options == {"batch_norm": True, "width": 0.3}
    assert loaded.model.conv3_1.weight.shape == state["conv3_1.weight"].shape


def test_trainer_dict_with_model_state_dict(tmp_path):
    path = tmp_path / "checkpoint.pth.tar"
    model = build_model("fcn8s-atonce", 21, width=TINY)
    model.load_state_dict(_random_state("fcn8s", 21))
    # pytorch-fcn's trainer layout, saved from a DataParallel model ("module." prefixes).
    torch.save({
        "epoch": 3, "iteration": 1200, "arch": "FCN8sAtOnce", "best_mean_iu": 0.61,
        "optim_state_dict": {"state": {}, "param_groups": [{"lr": 1e-10}]},
        "model_state_dict": {f"module.{k}": v for k, v in model.state_dict().items()},
    }, path)
    loaded = load_model(path)
    assert loaded.arch == "fcn8s-atonce"
    assert loaded.metadata["epoch"] == 3 and loaded.metadata["best_mean_iu"] == 0.61
    _equal_outputs(model, loaded.model)


def test_same_random_weights_match_the_independent_reference_on_voc_photos(tmp_path, shared_data):
    """Full-width pytorch-fcn files load into our models and give the reference's arg-max on real photos."""
    from PIL import Image

    voc = shared_data("voc2012-sample")
    names = sorted((voc / "JPEGImages").glob("*.jpg"))[:2]
    images = []
    for p in names:
        im = Image.open(p).convert("RGB")
        im.thumbnail((96, 96))  # keeps a 134 M-parameter forward cheap on 2 CPU cores
        images.append(np.array(im))
    cases = [("fcn8s", 1.0, 0), ("fcn16s", 0.25, 1), ("fcn32s", 0.25, 2), ("fcn8s-atonce", 0.25, 3)]
    for arch, width, seed in cases:
        state = _random_state("fcn8s" if arch == "fcn8s-atonce" else arch, 21, width=width, seed=seed)
        path = tmp_path / f"{arch}.pth"
        torch.save(state, path)
        loaded = load_model(path, arch=arch)
        del state
        ref_state = loaded.model.state_dict()
        for img in images:
            x = CAFFE_PREPROCESSING.normalize(torch.from_numpy(img).permute(2, 0, 1)[None])
            with torch.no_grad():
                ours = loaded.model(x)
            ref = reference_forward(ref_state, x, arch)
            assert ours.shape == ref.shape == (1, 21, *img.shape[:2])
            top2 = ref.topk(2, dim=1).values
            clear = (top2[:, 0] - top2[:, 1]) > 1e-3 * top2[:, 0].abs().clamp(min=1)
            assert clear.float().mean() > 0.98, "random weights should rarely tie"
            agree = ours.argmax(1) == ref.argmax(1)
            assert bool(agree[clear].all()), f"{arch}: {int((~agree[clear]).sum())} pixels differ"
        del loaded, ref_state


# ---- our checkpoints -----------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ARCHS)
def test_checkpoint_round_trip(tmp_path, arch):
    model = build_model(arch, 3, batch_norm=arch == "fcn-multi", width=0.125)
    model.load_state_dict(_random_state(arch, 3, width=0.125, batch_norm=arch == "fcn-multi"))
    pal = np.array([[10, 20, 30], [40, 50, 60], [70, 80, 90]], dtype=np.uint8)
    path = tmp_path / "sub" / "model.safetensors"
    meta = {"recipe": {"lr": 1e-4}, "dataset": "camvid"}
    save_checkpoint(path, model, arch=arch, class_names=["sky", "road", "car"], palette=pal, void_index=11,
                    preprocessing=IMAGENET_PREPROCESSING, metadata=meta)
    assert [p.name for p in path.parent.iterdir()] == ["model.safetensors"]  # atomic: no temp files left
    loaded = load_model(path)
    assert loaded.arch == arch and loaded.num_classes == 3
    assert loaded.class_names == ["sky", "road", "car"]
    assert np.array_equal(loaded.palette[:3], pal) and loaded.palette.shape == (256, 3)
    assert loaded.void_index == 11
    assert loaded.preprocessing == IMAGENET_PREPROCESSING
    assert loaded.options == {"batch_norm": arch == "fcn-multi", "width": 0.125}
    assert loaded.metadata == meta
    _equal_outputs(model, loaded.model)
    meta = read_checkpoint_metadata(path)
    assert meta["arch"] == arch and meta["class_names"] == ["sky", "road", "car"]


def test_pytorch_fcn_file_round_trips_through_our_checkpoint(tmp_path):
    src = tmp_path / "fcn16s.pth"
    torch.save(_random_state("fcn16s", 21), src)
    first = load_model(src)
    dst = tmp_path / "fcn16s.safetensors"
    save_checkpoint(dst, first.model, arch=first.arch, class_names=first.class_names,
                    preprocessing=first.preprocessing, metadata={"converted_from": src.name})
    second = load_model(dst)
    assert second.preprocessing == CAFFE_PREPROCESSING and second.class_names == list(VOC_CLASSES)
    assert np.array_equal(second.palette, first.palette)
    _equal_outputs(first.model, second.model)


def test_save_checkpoint_rejects_wrong_class_names(tmp_path):
    with pytest.raises(ValueError, match="2 class names given for a model with 3 classes"):
        save_checkpoint(tmp_path / "m.safetensors", build_model("fcn32s", 3, width=TINY),
                        class_names=["a", "b"], preprocessing=IMAGENET_PREPROCESSING)


def test_preprocessing_normalize_and_dict_round_trip():
    img = torch.tensor([[10, 20, 30]], dtype=torch.uint8).view(1, 3, 1, 1)  # one RGB pixel
    out = CAFFE_PREPROCESSING.normalize(img).flatten().tolist()
    assert out == pytest.approx([30 - 104.00698793, 20 - 116.66876762, 10 - 122.67891434])  # BGR order
    out = IMAGENET_PREPROCESSING.normalize(img).flatten().tolist()
    expect = [(10 / 255 - 0.485) / 0.229, (20 / 255 - 0.456) / 0.224, (30 / 255 - 0.406) / 0.225]
    assert out == pytest.approx(expect, rel=1e-5)
    as_json = json.loads(json.dumps(CAFFE_PREPROCESSING.to_dict()))
    assert Preprocessing.from_dict(as_json) == CAFFE_PREPROCESSING
    with pytest.raises(ValueError):
        Preprocessing("RGBA", 1.0, (0, 0, 0), (1, 1, 1))


# ---- VGG16 initialisation ------------------------------------------------------------------------
def test_init_from_torchvision_vgg16(tmp_path):
    import torchvision

    vgg_state = torchvision.models.vgg16(weights=None).state_dict()
    path = tmp_path / "vgg16-397923af.pth"
    torch.save(vgg_state, path)
    model = build_model("fcn8s", 21)
    written = init_from_vgg16(model, path)
    assert len(written) == 2 * 15
    torch.testing.assert_close(model.conv1_1.weight, vgg_state["features.0.weight"])
    torch.testing.assert_close(model.conv3_3.bias, vgg_state["features.14.bias"])
    torch.testing.assert_close(model.conv5_3.weight, vgg_state["features.28.weight"])
    torch.testing.assert_close(model.fc6.weight, vgg_state["classifier.0.weight"].view(4096, 512, 7, 7))
    torch.testing.assert_close(model.fc7.weight, vgg_state["classifier.3.weight"].view(4096, 4096, 1, 1))
    torch.testing.assert_close(model.fc7.bias, vgg_state["classifier.3.bias"])
    assert not model.score_fr.weight.any() and not model.score_pool3.weight.any()
    del model
    with pytest.raises(WeightsError, match="width-1.0 model"):
        init_from_vgg16(build_model("fcn32s", 21, width=0.25), vgg_state)
    with pytest.raises(WeightsError, match="not a torchvision VGG16"):
        init_from_vgg16(build_model("fcn32s", 21, width=TINY), {"features.0.weight": torch.zeros(1, 3, 3, 3)})


def test_init_from_torchvision_vgg16_bn_maps_each_batch_norm_to_its_conv():
    import torchvision

    with torch.device("meta"):
        shapes = {k: v.shape for k, v in torchvision.models.vgg16_bn(weights=None).state_dict().items()}
        model = build_model("fcn32s", 21, batch_norm=True)
    model = model.to_empty(device="cpu")  # real memory, no init cost: every trunk value gets overwritten
    # Each tensor holds its features/classifier index (expanded views cost no memory).
    state = {}
    for key, shape in shapes.items():
        index = float(key.split(".")[1])
        state[key] = torch.tensor(index).expand(shape) if key.endswith(("weight", "bias")) else (
            torch.tensor(index + 0.5).expand(shape) if "running" in key else torch.tensor(5))
    written = init_from_vgg16(model, state)
    assert len(written) == 13 * 6 + 4
    # vgg16_bn: conv 0 -> bn 1, conv 3 -> bn 4, ..., conv 40 -> bn 41.
    def only(t: torch.Tensor, value: float) -> bool:
        return bool((t == value).all())

    assert only(model.conv1_1.weight, 0) and only(model.conv1_1_bn.weight, 1)
    assert only(model.conv2_1.bias, 7) and only(model.conv2_1_bn.running_mean, 8.5)
    assert only(model.conv5_3.weight, 40) and only(model.conv5_3_bn.bias, 41)
    assert only(model.fc6.weight, 0) and only(model.fc7.bias, 3)
    with pytest.raises(WeightsError, match="no batch norm"):
        init_from_vgg16(build_model("fcn32s", 21, width=TINY), state)
