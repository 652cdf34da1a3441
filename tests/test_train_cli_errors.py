"""`fcn train` refuses what it cannot do before touching the output folder: clear errors, exit status 2."""

from __future__ import annotations

import pytest
import torch

from fcn_core.cli import main
from fcn_core.demo_data import make_demo_dataset
from fcn_core.training import TrainConfig, train_model


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("data") / "demo", count=6, seed=0, size=(64, 48))


OPTIONS = {"--arch": "fcn32s", "--width": "0.0625", "--batch-size": "2", "--crop": "48x64",
           "--max-iters": "1", "--num-workers": "0"}


def _args(data, out, *flags, **changed):
    """``fcn train`` arguments; ``changed`` replaces options (``batch_size="1"``), ``flags`` are added."""
    options = {**OPTIONS, **{"--" + k.replace("_", "-"): v for k, v in changed.items()}}
    return ["train", "--data", str(data), "--out", str(out), *[x for kv in options.items() for x in kv],
            "--quiet", *flags]


def _snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished_run(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(_args(tiny_data, out)) == 0
    return out


@pytest.mark.parametrize("flags, changed, named", [
    ((), {"arch": "fcn8s"}, "--arch"),
    ((), {"width": "0.125"}, "--width"),
    (("--no-batch-norm",), {}, "--batch-norm"),
    ((), {"batch_size": "1"}, "--batch-size"),
    ((), {"recipe": "paper"}, "--recipe"),
    (("--staged",), {}, "--staged"),
])
def test_resume_with_other_options_changes_nothing(tiny_data, finished_run, capsys, flags, changed, named):
    before = _snapshot(finished_run)
    capsys.readouterr()
    assert main(_args(tiny_data, finished_run, "--resume", *flags, **changed)) == 2
    err = capsys.readouterr().err
    assert err.startswith("fcn train: error:") and "Traceback" not in err, err
    assert str(finished_run) in err and named in err and "resume" in err, err
    assert _snapshot(finished_run) == before  # config.json (and everything else) untouched


def test_resume_with_the_same_options_still_works(tiny_data, finished_run, capsys):
    capsys.readouterr()
    rc = main(_args(tiny_data, finished_run, "--resume", num_workers="1"))  # not a fixed option
    assert rc == 0, capsys.readouterr().err


def test_resume_with_nothing_to_resume(tiny_data, tmp_path, capsys):
    for out in (tmp_path / "new", tmp_path / "empty"):
        if out.name == "empty":
            out.mkdir()
        assert main(_args(tiny_data, out, "--resume")) == 2
        err = capsys.readouterr().err
        assert "nothing to resume" in err and str(out) in err and "Traceback" not in err, err
    assert not (tmp_path / "new").exists() and list((tmp_path / "empty").iterdir()) == []
    with pytest.raises(ValueError, match="nothing to resume"):  # the library says so too
        train_model(TrainConfig(data=tiny_data, out=tmp_path / "new", arch="fcn32s", resume=True,
                                width=0.0625, max_iters=1, crop=(48, 64), batch_size=2, num_workers=0,
                                show_progress=False))


def test_out_that_is_a_file(tiny_data, tmp_path, capsys):
    note = tmp_path / "notes.txt"
    note.write_text("keep me")
    for out in (note, note / "run"):
        assert main(_args(tiny_data, out)) == 2
        err = capsys.readouterr().err
        assert err.startswith("fcn train: error:") and str(note) in err and "not a folder" in err, err
        assert "Traceback" not in err
    assert note.read_text() == "keep me"


def test_resume_from_another_init_checkpoint_width(tiny_data, tmp_path):
    """--init-from decides the width when --width is not given: a model that no longer fits is refused
    with a plain error, and the run's files stay as they were."""
    from fcn_core.models import build_model
    from fcn_core.weights import IMAGENET_PREPROCESSING, save_checkpoint

    names = [f"c{i}" for i in range(8)]
    for width, name in ((0.0625, "narrow"), (0.125, "wide")):
        save_checkpoint(tmp_path / f"{name}.safetensors", build_model("fcn32s", 8, width=width),
                        class_names=names, preprocessing=IMAGENET_PREPROCESSING)
    common = dict(data=tiny_data, out=tmp_path / "run", arch="fcn32s", max_iters=1, crop=(48, 64),
                  batch_size=2, num_workers=0, show_progress=False)
    train_model(TrainConfig(init_from=tmp_path / "narrow.safetensors", **common))
    before = _snapshot(tmp_path / "run")
    with pytest.raises(ValueError, match="cannot resume: the saved model does not fit"):
        train_model(TrainConfig(init_from=tmp_path / "wide.safetensors", resume=True, **common))
    assert _snapshot(tmp_path / "run") == before
