"""Training on CPU with tiny networks and tiny demo images: loss goes down, staged init, resume, files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from fcn_core.cli import main as fcn_main
from fcn_core.demo_data import make_demo_dataset
from fcn_core.models import bilinear_kernel, build_model
from fcn_core.training import TrainConfig, train, train_model
from fcn_core.training.recipe import build_stage_model
from fcn_core.weights import load_model, read_checkpoint_metadata

TINY = {"width": 0.0625, "batch_size": 2, "crop": (48, 64), "num_workers": 0, "show_progress": False}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny convolutions run fastest single-threaded (and the CI machine is shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """10 demo scenes of 64x48 (8 train, 2 val)."""
    return make_demo_dataset(tmp_path_factory.mktemp("data") / "demo", count=10, seed=0, size=(64, 48))


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def test_a_few_steps_reduce_the_loss(tiny_data, tmp_path):
    events = []
    cfg = TrainConfig(
        data=tiny_data,
        out=tmp_path / "run",
        arch="fcn-multi",
        max_iters=12,
        lr=5e-3,
        scale_range=(1.0, 1.0),
        **TINY,
    )
    result = train_model(cfg, progress=events.append)
    losses = [e["loss"] for e in events if e["event"] == "iteration"]
    assert len(losses) == 12
    # Score layers start at zero: the first loss is exactly ln(8) per head for the three heads.
    assert losses[0] == pytest.approx(3 * np.log(8), rel=1e-3)
    assert np.mean(losses[-3:]) < 0.8 * losses[0]
    evals = [e for e in events if e["event"] == "evaluation"]
    assert evals and set(evals[-1]["metrics"]) == {"32", "16", "8"}
    assert events[-1]["event"] == "finished" and not events[-1]["stopped"]
    for name in ("best.safetensors", "last.safetensors", "last.state.pt", "log.jsonl", "config.json"):
        assert (tmp_path / "run" / name).is_file(), name
    meta = read_checkpoint_metadata(result.best)
    assert meta["arch"] == "fcn-multi"
    assert meta["class_names"][-2:] == ["pole", "wire"]
    assert meta["metadata"]["recipe"] == "scratch"
    assert len(meta["metadata"]["data_hash"]) == 64
    assert set(meta["metadata"]["metrics"]) == {"32", "16", "8"}
    loaded = load_model(result.best)
    assert loaded.options == {"batch_norm": True, "width": 0.0625}
    assert loaded.preprocessing.color_order == "RGB"


def test_staged_init_copies_shared_layers_and_zeroes_new_score_layers(tiny_data, tmp_path):
    ckpt32 = train(TrainConfig(data=tiny_data, out=tmp_path / "s32", arch="fcn32s", max_iters=3, **TINY))
    src = load_model(ckpt32).model
    assert src.score_fr.weight.abs().sum() > 0  # trained: no longer zero
    cfg = TrainConfig(data=tiny_data, out=tmp_path / "s16", arch="fcn16s", **TINY).resolved()
    model16, prep, how = build_stage_model(
        cfg, "fcn16s", _ds(tiny_data), [], init_from=ckpt32, init_vgg16=None
    )
    assert "fcn32s" in how and prep == load_model(ckpt32).preprocessing
    s16, s32 = model16.state_dict(), src.state_dict()
    shared = [k for k in s32 if k.startswith(("conv", "fc6", "fc7", "score_fr"))]
    assert len(shared) > 50
    for key in shared:
        assert torch.equal(s16[key], s32[key]), key
    assert not model16.score_pool4.weight.any() and not model16.score_pool4.bias.any()
    n = model16.num_classes
    assert torch.equal(model16.upscore2.weight, bilinear_kernel(n, n, 4))
    assert torch.equal(model16.upscore16.weight, bilinear_kernel(n, n, 32))
    assert model16.width == 0.0625 and model16.batch_norm  # taken from the checkpoint


def _ds(path):
    from fcn_core.data import open_dataset

    return open_dataset(path)


def test_staged_run_trains_32s_then_16s_then_8s(tiny_data, tmp_path):
    best = train(TrainConfig(data=tiny_data, out=tmp_path / "staged", staged=True, max_iters=2, **TINY))
    assert best == tmp_path / "staged" / "fcn8s" / "best.safetensors"
    for arch, parent in (("fcn16s", "fcn32s"), ("fcn8s", "fcn16s")):
        meta = read_checkpoint_metadata(tmp_path / "staged" / arch / "best.safetensors")
        assert meta["arch"] == arch
        assert f"{parent}/best.safetensors" in meta["metadata"]["init"]


def test_resume_continues_exactly(tiny_data, tmp_path):
    common = dict(data=tiny_data, arch="fcn8s", max_iters=7, lr=3e-3, eval_every=3, **TINY)
    straight = train_model(TrainConfig(out=tmp_path / "straight", **common))
    calls = {"n": 0}

    def stop_after_four() -> bool:
        calls["n"] += 1
        return calls["n"] >= 4

    first = train_model(TrainConfig(out=tmp_path / "split", **common), should_stop=stop_after_four)
    assert first.stopped and first.iterations == 4
    state = torch.load(tmp_path / "split" / "last.state.pt", weights_only=True)
    assert state["iteration"] == 4 and not state["finished"]
    # The rest runs with a data-loading worker: augmentation is seeded per sample, so this must not matter.
    resumed = train_model(TrainConfig(out=tmp_path / "split", resume=True, **{**common, "num_workers": 1}))
    assert resumed.iterations == 7
    a, b = _state(straight.model), _state(resumed.model)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # A finished run resumed again does nothing more.
    again = train_model(TrainConfig(out=tmp_path / "split", resume=True, **common))
    assert again.iterations == 7


def test_should_stop_cancels_cleanly_and_saves_last(tiny_data, tmp_path):
    events = []
    result = train_model(
        TrainConfig(data=tiny_data, out=tmp_path / "c", arch="fcn32s", max_iters=50, **TINY),
        progress=events.append,
        should_stop=lambda: True,
    )
    assert result.stopped and result.iterations == 1
    assert (tmp_path / "c" / "last.safetensors").is_file() and (tmp_path / "c" / "best.safetensors").is_file()
    assert events[-1] == {**events[-1], "event": "finished", "stopped": True}


def test_corrected_labels_are_used(tiny_data, tmp_path):
    from fcn_core.data import open_dataset, write_palette_png

    ds = open_dataset(tiny_data)
    fixes = tmp_path / "fixes"
    stem = ds.split("train")[0].stem
    write_palette_png(fixes / f"{stem}.png", np.full((48, 64), 2, np.uint8), ds.palette)
    result = train_model(
        TrainConfig(data=tiny_data, labels_dir=fixes, out=tmp_path / "f", arch="fcn32s", max_iters=1, **TINY)
    )
    plain = read_checkpoint_metadata(
        train(TrainConfig(data=tiny_data, out=tmp_path / "p", arch="fcn32s", max_iters=1, **TINY))
    )
    meta = read_checkpoint_metadata(result.best)
    assert meta["metadata"]["labels_dir"] == str(fixes)
    assert meta["metadata"]["data_hash"] != plain["metadata"]["data_hash"]  # the corrected label was read


def test_paper_recipe_uses_sgd_and_paper_rates(tiny_data):
    from fcn_core.training.recipe import make_optimizer

    cfg = TrainConfig(data=tiny_data, out="x", arch="fcn8s", recipe="paper").resolved()
    assert (cfg.batch_size, cfg.batch_norm, cfg.weight_decay, cfg.crop) == (1, False, 5e-4, None)
    assert (
        cfg.stage_lr("fcn32s") == 1e-10 and cfg.stage_lr("fcn16s") == 1e-12 and cfg.stage_lr("fcn8s") == 1e-14
    )
    model = build_model("fcn8s", 8, width=0.0625)
    opt = make_optimizer(model, cfg, cfg.stage_lr("fcn8s"))
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["momentum"] == 0.99
    assert [g["lr"] for g in opt.param_groups] == [1e-14, 2e-14]
    assert not model.upscore8.weight.requires_grad and model.upscore2.weight.requires_grad


def test_cli_train_then_info_and_predict_accept_the_checkpoint(tiny_data, tmp_path, capsys):
    out = tmp_path / "cli"
    assert (
        fcn_main(
            [
                "train",
                "--data",
                str(tiny_data),
                "--out",
                str(out),
                "--arch",
                "fcn-multi",
                "--width",
                "0.0625",
                "--batch-size",
                "2",
                "--crop",
                "48x64",
                "--max-iters",
                "2",
                "--num-workers",
                "0",
                "--quiet",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["iterations"] == 2 and report["best"].endswith("best.safetensors")
    assert fcn_main(["info", report["best"]]) == 0
    assert "fcn-multi" in capsys.readouterr().out
    pred = tmp_path / "pred"
    assert (
        fcn_main(
            [
                "predict",
                str(tiny_data / "JPEGImages"),
                "--weights",
                report["best"],
                "--out",
                str(pred),
                "--device",
                "cpu",
                "--no-progress",
            ]
        )
        == 0
    )
    assert len(list(pred.rglob("*.png"))) >= 10
    assert fcn_main(["train", "--data", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "missing" in capsys.readouterr().err
