"""FCN models: output sizes, pytorch-fcn keys/shapes, crops, bilinear kernels, heads and weight copying."""

from __future__ import annotations

import pytest
import torch

from fcn_core.models import (
    ARCHS,
    FCN8s,
    FCN8sAtOnce,
    bilinear_kernel,
    build_model,
    copy_compatible_weights,
    count_parameters,
    forward_strides,
    normalize_arch,
)
from fcn_core.models import layers as L
from tests.reference_fcn import derive_crop_offsets, expected_state_shapes, reference_upsample_filter

TINY = 0.0625  # 4/8/16/32/32 channels, fc 256: cheap on 2 CPU cores even at 375x500


def _randomize(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every parameter random values so that heads are not silent (score layers start at zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            std = 0.05 if name.startswith(("score", "upscore")) else (2.0 / max(1, p[0].numel())) ** 0.5
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return model


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("size", [(1, 1), (37, 53), (375, 500)])
def test_output_has_input_size(arch, batch_norm, size):
    model = build_model(arch, 3, batch_norm=batch_norm, width=TINY).eval()
    n = 1 if size[0] > 100 else 2  # batch of 2 where it is cheap
    with torch.no_grad():
        out = forward_strides(model, torch.rand(n, 3, *size))
    assert sorted(out) == sorted(model.strides)
    for logits in out.values():
        assert logits.shape == (n, 3, *size)
        assert torch.isfinite(logits).all()


@pytest.mark.parametrize("arch", ARCHS)
def test_model_attributes(arch):
    model = build_model(arch, 7, width=TINY)
    assert model.arch == arch and model.num_classes == 7
    assert model.strides == ((32, 16, 8) if arch == "fcn-multi" else (int(arch[3:5].rstrip("s")),))
    assert model.options == {"batch_norm": False, "width": TINY}


@pytest.mark.parametrize("arch", ["fcn32s", "fcn16s", "fcn8s", "fcn8s-atonce"])
def test_full_width_keys_and_shapes_equal_pytorch_fcn(arch):
    with torch.device("meta"):  # no memory, no init cost: only keys and shapes matter here
        model = build_model(arch, 21)
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == expected_state_shapes(arch, 21)
    assert count_parameters(model) == sum(torch.Size(s).numel() for s in got.values())


def test_multi_keys_are_the_union_of_the_paper_heads():
    with torch.device("meta"):
        model = build_model("fcn-multi", 21)
    expected = {}
    for arch in ("fcn32s", "fcn16s", "fcn8s"):
        expected.update(expected_state_shapes(arch, 21))
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == expected


def test_batch_norm_and_width_options():
    with torch.device("meta"):
        model = build_model("fcn8s", 11, batch_norm=True, width=0.25)
    sd = model.state_dict()
    assert sd["conv1_1.weight"].shape == (16, 3, 3, 3)
    assert sd["conv5_3.weight"].shape == (128, 128, 3, 3)
    assert sd["fc6.weight"].shape == (1024, 128, 7, 7)
    assert sd["fc7.weight"].shape == (1024, 1024, 1, 1)
    for name in ("conv1_1", "conv3_3", "conv5_3", "fc6", "fc7"):
        for field in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            assert f"{name}_bn.{field}" in sd
    assert sd["conv1_1_bn.weight"].shape == (16,)
    # Width 1/4 is the ~8.4 M-parameter model of DESIGN.md.
    assert 8.0e6 < count_parameters(build_model("fcn8s", 21, width=0.25)) < 9.0e6
    with pytest.raises(ValueError):
        build_model("fcn8s", 21, width=0)
    with pytest.raises(ValueError):
        build_model("fcn8s", 0)


def test_crop_offsets_follow_from_layer_geometry():
    derived = derive_crop_offsets()
    assert derived == {"fcn32s": 19, "fcn16s": 27, "fcn8s": 31, "pool4": 5, "pool3": 9}
    assert (L.CROP_UPSCORE32, L.CROP_UPSCORE16, L.CROP_UPSCORE8) == (19, 27, 31)
    assert (L.CROP_POOL4, L.CROP_POOL3) == (5, 9)


@pytest.mark.parametrize("size", [4, 16, 32, 64])
def test_bilinear_kernel_equals_caffe_filler(size):
    k = bilinear_kernel(5, 5, size)
    assert k.shape == (5, 5, size, size)
    for i in range(5):
        for j in range(5):
            if i == j:
                torch.testing.assert_close(k[i, j], reference_upsample_filter(size))
            else:
                assert not k[i, j].any(), "classes must not mix"


def test_bilinear_kernel_odd_size_is_symmetric():
    k = bilinear_kernel(1, 1, 3)[0, 0]
    torch.testing.assert_close(k, torch.outer(torch.tensor([0.5, 1, 0.5]), torch.tensor([0.5, 1, 0.5])))


def test_bilinear_upscore_interpolates_a_constant_exactly():
    # Away from the borders, the bilinear deconvolution reproduces a constant map: a check of the kernel
    # that does not depend on its formula.
    model = build_model("fcn32s", 2, width=TINY)
    up = model.upscore(torch.ones(1, 2, 6, 6))
    inner = up[:, :, 64:-64, 64:-64]
    torch.testing.assert_close(inner, torch.ones_like(inner))


@pytest.mark.parametrize("arch", ARCHS)
def test_initialisation_like_pytorch_fcn(arch):
    model = build_model(arch, 4, width=TINY)
    sd = model.state_dict()
    for key, value in sd.items():
        if key.startswith("score"):
            assert not value.any(), f"{key} must start at zero"
        if key.startswith("upscore"):
            size = value.shape[-1]
            torch.testing.assert_close(value, bilinear_kernel(4, 4, size))
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ConvTranspose2d):
            assert module.bias is None, name
    assert model.conv1_1.padding == (100, 100)
    assert model.conv1_2.padding == (1, 1)
    assert model.fc6.kernel_size == (7, 7) and model.fc7.kernel_size == (1, 1)
    # Fresh model: score layers are zero so the output is exactly zero.
    with torch.no_grad():
        for logits in forward_strides(model.eval(), torch.rand(1, 3, 20, 30)).values():
            assert not logits.any()


def test_atonce_scales_pool4_and_pool3():
    staged = _randomize(FCN8s(3, width=TINY)).eval()
    at_once = FCN8sAtOnce(3, width=TINY).eval()
    at_once.load_state_dict(staged.state_dict())
    x = torch.rand(1, 3, 45, 61) * 255
    with torch.no_grad():
        assert not torch.allclose(staged(x), at_once(x))
        # Scaling the skip inputs by 0.01/0.0001 equals scaling the score weights (not biases) by them.
        staged.score_pool4.weight.mul_(0.01)
        staged.score_pool3.weight.mul_(0.0001)
        torch.testing.assert_close(staged(x), at_once(x), rtol=1e-4, atol=1e-4)


def test_multi_stride_heads_equal_the_single_stride_models():
    multi = _randomize(build_model("fcn-multi", 4, width=TINY), seed=3).eval()
    x = torch.rand(2, 3, 50, 70) * 255
    with torch.no_grad():
        outs = multi(x)
        for stride, arch in ((32, "fcn32s"), (16, "fcn16s"), (8, "fcn8s")):
            single = build_model(arch, 4, width=TINY).eval()
            copied = copy_compatible_weights(multi, single)
            assert set(copied) == set(single.state_dict())
            torch.testing.assert_close(outs[stride], single(x), rtol=1e-5, atol=1e-5)


def test_staged_training_copies_shared_layers_and_keeps_new_heads_fresh():
    m32 = _randomize(build_model("fcn32s", 5, width=TINY), seed=1)
    m16 = build_model("fcn16s", 5, width=TINY)
    copied = copy_compatible_weights(m32, m16)
    assert "conv1_1.weight" in copied and "fc7.bias" in copied and "score_fr.weight" in copied
    assert "score_pool4.weight" not in copied and "upscore16.weight" not in copied
    torch.testing.assert_close(m16.score_fr.weight, m32.score_fr.weight)
    assert not m16.score_pool4.weight.any()
    torch.testing.assert_close(m16.upscore2.weight, bilinear_kernel(5, 5, 4))
    # 8s from 16s also takes upscore2 and score_pool4, as pytorch-fcn's copy_params_from_fcn16s does.
    m16 = _randomize(m16, seed=2)
    m8 = build_model("fcn8s", 5, width=TINY)
    copied = copy_compatible_weights(m16, m8)
    assert {"upscore2.weight", "score_pool4.weight", "score_pool4.bias"} <= set(copied)
    assert not m8.score_pool3.weight.any()
    torch.testing.assert_close(m8.upscore2.weight, m16.upscore2.weight)
    # Different widths share no shapes, so nothing of the trunk is copied.
    other = build_model("fcn8s", 5, width=0.125)
    assert "conv1_1.weight" not in copy_compatible_weights(m16, other)


def test_arch_names():
    assert normalize_arch("FCN8sAtOnce") == "fcn8s-atonce"
    assert normalize_arch("fcn8s") == "fcn8s"
    assert normalize_arch("multi") == "fcn-multi"
    with pytest.raises(ValueError, match="unknown FCN architecture 'fcn4s'"):
        build_model("fcn4s")


def test_dropout_is_only_active_in_training():
    model = _randomize(build_model("fcn32s", 3, width=TINY))
    x = torch.rand(1, 3, 40, 40) * 255
    with torch.no_grad():
        model.train()
        assert not torch.equal(model(x), model(x))
        model.eval()
        torch.testing.assert_close(model(x), model(x))
    assert isinstance(model.drop6, torch.nn.Dropout2d) and isinstance(model.drop7, torch.nn.Dropout2d)
