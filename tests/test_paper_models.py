"""The other fcn.berkeleyvision.org nets: layer names and shapes as in the reference's net.py, late fusion,
two heads on one trunk pass, RGB-D input, defaults and checkpoints."""

from __future__ import annotations

import pytest
import torch

from fcn_core.models import ARCHS, PAPER_ARCHS, build_model, forward_strides, forward_tasks
from fcn_core.weights import CAFFE_PREPROCESSING, load_model, save_checkpoint

TINY = 0.0625

# --- The expected table, transcribed from the reference net.py files (num_output, kernel_size). ---------
# conv_relu(bottom, nout, ks=3): 64,64 | 128,128 | 256 x3 | 512 x3 | 512 x3; fc6 4096 ks 7; fc7 4096 ks 1.
VGG = [("conv1_1", 64, 3), ("conv1_2", 64, 64), ("conv2_1", 128, 64), ("conv2_2", 128, 128),
       ("conv3_1", 256, 128), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
       ("conv4_1", 512, 256), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
       ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512)]


def trunk(suffix: str = "", first: str = "conv1_1", in_ch: int = 3) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for name, nout, nin in VGG:
        if name == "conv1_1":
            name, nin = first, in_ch
        out[f"{name}{suffix}.weight"] = (nout, nin, 3, 3)
        out[f"{name}{suffix}.bias"] = (nout,)
    out[f"fc6{suffix}.weight"], out[f"fc6{suffix}.bias"] = (4096, 512, 7, 7), (4096,)
    out[f"fc7{suffix}.weight"], out[f"fc7{suffix}.bias"] = (4096, 4096, 1, 1), (4096,)
    return out


def score(name: str, n: int, nin: int) -> dict[str, tuple]:  # L.Convolution(..., num_output=n, kernel_size=1)
    return {f"{name}.weight": (n, nin, 1, 1), f"{name}.bias": (n,)}


def deconv(name: str, n: int, ks: int) -> dict[str, tuple]:  # L.Deconvolution(bias_term=False)
    return {f"{name}.weight": (n, n, ks, ks)}


def voc_heads(n: int, stride: int, t: str = "") -> dict[str, tuple]:
    out = score(f"score_fr{t}", n, 4096)
    if stride == 32:
        return {**out, **deconv(f"upscore{t}", n, 64)}
    out.update({**deconv(f"upscore2{t}", n, 4), **score(f"score_pool4{t}", n, 512)})
    if stride == 16:
        return {**out, **deconv(f"upscore16{t}", n, 32)}
    return {**out, **deconv(f"upscore_pool4{t}", n, 4), **score(f"score_pool3{t}", n, 256),
            **deconv(f"upscore8{t}", n, 16)}


EXPECTED = {
    "nyud-fcn32s-color": {**trunk(), **voc_heads(40, 32)},
    "nyud-fcn32s-hha": {**trunk(), **voc_heads(40, 32)},
    "nyud-fcn32s-color-d": {**trunk(first="conv1_1_bgrd", in_ch=4), **voc_heads(40, 32)},
    "nyud-fcn32s-color-hha": {**trunk("color"), **trunk("hha"), **score("score_frcolor", 40, 4096),
                              **score("score_frhha", 40, 4096), **deconv("upscore", 40, 64)},
    "nyud-fcn16s-color-hha": {**trunk("color"), **trunk("hha"), **score("score_frcolor", 40, 4096),
                              **score("score_frhha", 40, 4096), **score("score_pool4color", 40, 512),
                              **score("score_pool4hha", 40, 512), **deconv("upscore2", 40, 4),
                              **deconv("upscore16", 40, 32)},
    "pascalcontext-fcn32s": {**trunk(), **voc_heads(60, 32)},
    "pascalcontext-fcn16s": {**trunk(), **voc_heads(60, 16)},
    "pascalcontext-fcn8s": {**trunk(), **voc_heads(60, 8)},
    **{f"siftflow-fcn{s}s": {**trunk(), **voc_heads(33, s, "_sem"), **voc_heads(3, s, "_geo")}
       for s in (32, 16, 8)},
}


def test_every_paper_arch_is_in_the_table_and_existing_archs_are_unchanged():
    assert set(PAPER_ARCHS) == set(EXPECTED)
    assert ARCHS == ("fcn32s", "fcn16s", "fcn8s", "fcn8s-atonce", "fcn-multi")
    assert build_model("fcn8s", width=TINY).num_classes == 21  # VOC default kept


@pytest.mark.parametrize("arch", sorted(EXPECTED))
def test_parameter_names_and_shapes_equal_the_reference(arch):
    with torch.device("meta"):
        model = build_model(arch)  # the reference's class count by default
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == EXPECTED[arch]


def _randomize(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            std = 0.05 if "score" in name else (2.0 / max(1, p[0].numel())) ** 0.5
            if not name.startswith("upscore"):  # keep deconvolutions bilinear, as both sides use them
                p.copy_(torch.randn(p.shape, generator=g) * std)
    return model.eval()


def _copy_stream(single: torch.nn.Module, fused: torch.nn.Module, suffix: str) -> None:
    state = fused.state_dict()
    with torch.no_grad():
        for key, value in single.state_dict().items():
            name, field = key.rsplit(".", 1)
            if name.startswith("upscore"):
                continue
            state[f"{name}{suffix}.{field}"].copy_(value)


@pytest.mark.parametrize(("fused_arch", "single_arch"),
                         [("nyud-fcn32s-color-hha", "fcn32s"), ("nyud-fcn16s-color-hha", "fcn16s")])
def test_late_fusion_is_the_average_of_the_two_streams_run_alone(fused_arch, single_arch):
    color = _randomize(build_model(single_arch, 40, width=TINY), 1)
    hha = _randomize(build_model(single_arch, 40, width=TINY), 2)
    fused = build_model(fused_arch, width=TINY).eval()
    _copy_stream(color, fused, "color")
    _copy_stream(hha, fused, "hha")
    g = torch.Generator().manual_seed(3)
    xc, xh = torch.randn(2, 3, 33, 41, generator=g), torch.randn(2, 3, 33, 41, generator=g)
    with torch.no_grad():
        out = fused(torch.cat([xc, xh], 1))
        expected = 0.5 * color(xc) + 0.5 * hha(xh)
        assert out.shape == (2, 40, 33, 41)
        torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)
        assert not torch.allclose(out, color(xc), atol=1e-3)  # both streams matter
    with pytest.raises(ValueError, match="6 input channels"):
        fused(xc)


@pytest.mark.parametrize("stride", [32, 16, 8])
def test_two_heads_share_one_trunk_pass_and_each_is_the_single_task_net(stride):
    model = _randomize(build_model(f"siftflow-fcn{stride}s", width=TINY), 4)
    calls = []
    model.conv1_1.register_forward_hook(lambda *a: calls.append(1))
    model.fc7.register_forward_hook(lambda *a: calls.append(7))
    x = torch.randn(1, 3, 45, 38, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        out = model(x)
    assert calls == [1, 7]  # one trunk pass for both heads
    assert set(out) == {"sem", "geo"}
    assert out["sem"].shape == (1, 33, 45, 38) and out["geo"].shape == (1, 3, 45, 38)
    # Each head equals the VOC net of that stride with the head's weights (same crops, same layers).
    for task, n in (("sem", 33), ("geo", 3)):
        single = build_model(f"fcn{stride}s", n, width=TINY).eval()
        src = model.state_dict()
        single.load_state_dict({k: src[k.replace(".", f"_{task}.", 1) if k.startswith(("score", "upscore"))
                                    else k] for k in single.state_dict()})
        with torch.no_grad():
            torch.testing.assert_close(single(x), out[task])
    with torch.no_grad():
        tasks = forward_tasks(model, x)
        assert set(tasks) == {"sem", "geo"} and list(tasks["geo"]) == [stride]
        torch.testing.assert_close(forward_strides(model, x)[stride], out["sem"])


def test_rgbd_first_layer_sees_four_channels_and_depth_matters():
    model = _randomize(build_model("nyud-fcn32s-color-d", width=TINY), 6)
    assert model.conv1_1_bgrd.in_channels == 4 and not hasattr(model, "conv1_1")
    x = torch.randn(1, 4, 40, 40, generator=torch.Generator().manual_seed(7))
    x2 = x.clone()
    x2[:, 3] += 1.0
    with torch.no_grad():
        a, b = model(x), model(x2)
    assert a.shape == (1, 40, 40, 40) and not torch.allclose(a, b)
    bn = build_model("nyud-fcn32s-color-d", batch_norm=True, width=TINY)
    assert "conv1_1_bgrd_bn.running_mean" in bn.state_dict() and "conv1_1_bn.weight" not in bn.state_dict()


@pytest.mark.parametrize("arch", ["nyud-fcn32s-color-hha", "siftflow-fcn8s", "nyud-fcn32s-color-d"])
def test_checkpoints_of_paper_archs_round_trip_with_batch_norm(tmp_path, arch):
    model = _randomize(build_model(arch, batch_norm=True, width=TINY), 8)
    path = tmp_path / "m.safetensors"
    names = [f"c{i}" for i in range(model.num_classes)]
    save_checkpoint(path, model, class_names=names, preprocessing=CAFFE_PREPROCESSING)
    loaded = load_model(path)
    assert loaded.arch == arch and loaded.options == {"batch_norm": True, "width": TINY}
    c = getattr(model, "in_channels", 3)
    x = torch.randn(1, c, 30, 30, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        a, b = forward_strides(model, x), forward_strides(loaded.model, x)
    assert all(torch.equal(a[s], b[s]) for s in a)
