"""`fcn train --freeze-trunk` (FCN-32s-fixed): only the final classifier learns, everything else stays."""

from __future__ import annotations

import pytest
import torch

from fcn_core.cli import main as fcn_main
from fcn_core.demo_data import make_demo_dataset
from fcn_core.models import build_model
from fcn_core.training.freeze import freeze_all_but_classifier
from fcn_core.weights import CAFFE_PREPROCESSING, load_model, save_checkpoint


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("data") / "demo", count=6, seed=1, size=(64, 48))


def _start(tmp_path, arch: str) -> tuple:
    torch.manual_seed(0)
    model = build_model(arch, 8, batch_norm=True, width=0.0625)
    with torch.no_grad():  # non-trivial batch-norm statistics, so that a changed buffer would show
        for name, buf in model.named_buffers():
            if name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
    path = tmp_path / "start.safetensors"
    names = ["sky", "road", "building", "tree", "car", "person", "pole", "wire"]
    save_checkpoint(path, model, class_names=names, preprocessing=CAFFE_PREPROCESSING)
    return path, {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("freeze", [True, False])
def test_freeze_trunk_changes_only_score_fr(tiny_data, tmp_path, capsys, freeze):
    start, before = _start(tmp_path, "fcn32s")
    out = tmp_path / "run"
    argv = ["train", "--data", str(tiny_data), "--out", str(out), "--arch", "fcn32s",
            "--init-from", str(start), "--max-iters", "3", "--batch-size", "2", "--crop", "48x64",
            "--lr", "0.01", "--num-workers", "0", "--quiet"] + (["--freeze-trunk"] if freeze else [])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert fcn_main(argv) == 0, capsys.readouterr().err
    finally:
        torch.set_num_threads(threads)
    after = load_model(out / "last.safetensors").model.state_dict()
    assert set(after) == set(before)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert {"score_fr.weight", "score_fr.bias"} <= changed
    if freeze:
        assert changed == {"score_fr.weight", "score_fr.bias"}  # trunk and BN statistics bit-identical
    else:
        assert "conv1_1.weight" in changed and "fc7_bn.running_mean" in changed


@pytest.mark.parametrize(("arch", "classifier"), [
    ("siftflow-fcn8s", {"score_fr_sem", "score_fr_geo"}),
    ("nyud-fcn32s-color-hha", {"score_frcolor", "score_frhha"}),
])
def test_the_classifier_of_every_net_is_what_stays_trainable(arch, classifier):
    model = build_model(arch, batch_norm=True, width=0.0625)
    trainable = freeze_all_but_classifier(model)
    assert {n.split(".")[0] for n in trainable} == classifier
    model.train()
    bn = model.conv1_2_bn if hasattr(model, "conv1_2_bn") else model.conv1_2color_bn
    assert not bn.training  # frozen batch norm stays in eval mode
