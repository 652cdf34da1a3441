"""The synthetic demo dataset: deterministic bytes, documented classes and splits, thin structures, cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from fcn_core.cli import main as fcn_main
from fcn_core.data import open_dataset
from fcn_core.demo_data import DEMO_CLASSES, POLE, WIRE, make_demo_dataset, make_demo_sample

SIZE = (64, 48)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_same_bytes_and_other_seed_differs(tmp_path):
    a = make_demo_dataset(tmp_path / "a", count=6, seed=3, size=SIZE)
    b = make_demo_dataset(tmp_path / "b", count=6, seed=3, size=SIZE)
    c = make_demo_dataset(tmp_path / "c", count=6, seed=4, size=SIZE)
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert da == db
    assert len(da) == 6 * 2 + 3 + 2  # images, labels, three split files, class_names.txt, dataset.json
    assert da["JPEGImages/demo_00000.jpg"] != dc["JPEGImages/demo_00000.jpg"]
    # Each scene depends on (seed, index) only, not on how many scenes are drawn.
    img_small, lab_small = make_demo_sample(2, seed=3, size=SIZE)
    assert np.array_equal(lab_small, make_demo_sample(2, seed=3, size=SIZE)[1])
    assert np.array_equal(img_small, make_demo_sample(2, seed=3, size=SIZE)[0])


def test_layout_classes_and_splits_open_as_voc(tmp_path):
    out = make_demo_dataset(tmp_path / "demo", count=10, seed=0, size=SIZE)
    ds = open_dataset(out)
    assert ds.kind == "voc"
    assert (
        list(ds.class_names)
        == list(DEMO_CLASSES)
        == ["sky", "road", "building", "tree", "car", "person", "pole", "wire"]
    )
    assert [s.stem for s in ds.split("val")] == ["demo_00004", "demo_00009"]
    assert len(ds.split("train")) == 8
    assert not {s.stem for s in ds.split("val")} & {s.stem for s in ds.split("train")}
    lab = ds.label("demo_00004")
    assert lab.shape == (SIZE[1], SIZE[0]) and lab.dtype == np.uint8
    assert lab.max() < len(DEMO_CLASSES)
    assert ds.image("demo_00004").shape == (SIZE[1], SIZE[0], 3)


def test_scenes_have_thin_poles_and_wires():
    seen = np.zeros(len(DEMO_CLASSES), bool)
    for i in range(12):
        _, lab = make_demo_sample(i, seed=0)
        seen |= np.bincount(lab.ravel(), minlength=len(DEMO_CLASSES)) > 0
        # Poles are at most 8 px wide: every row of a pole is a thin run of pixels.
        pole_cols = (lab == POLE).sum(1)
        assert pole_cols.max() <= 3 * 8
        # Wires are thin: in any column they cover only a few pixels per wire.
        if (lab == WIRE).any():
            assert (lab == WIRE).sum(0).max() <= 6 * 5
    assert seen.all(), f"classes never drawn: {[c for c, s in zip(DEMO_CLASSES, seen) if not s]}"


def test_existing_folder_is_refused_unless_overwrite(tmp_path):
    out = make_demo_dataset(tmp_path / "d", count=2, size=SIZE)
    with pytest.raises(FileExistsError, match="d"):
        make_demo_dataset(out, count=2, size=SIZE)
    make_demo_dataset(out, count=3, size=SIZE, overwrite=True)
    assert len(open_dataset(out).samples) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_cli_demo_data(tmp_path, capsys):
    assert fcn_main(["demo-data", "--out", str(tmp_path / "cli"), "--count", "5", "--size", "64x48"]) == 0
    assert len(open_dataset(tmp_path / "cli").samples) == 5
    assert fcn_main(["demo-data", "--out", str(tmp_path / "cli"), "--count", "5"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_demo_paths_generates_once_into_cache(tmp_path, monkeypatch):
    from fcn_core import resources

    monkeypatch.setenv("FCN_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(resources, "DEMO_COUNT", 5)
    if not resources.DEMO_MODEL.is_file():
        pytest.fail(f"bundled demo model missing: {resources.DEMO_MODEL}")
    data, model = resources.demo_paths()
    assert model == resources.DEMO_MODEL
    assert data.parent == tmp_path / "cache"
    stamp = (data / "dataset.json").stat().st_mtime_ns
    assert resources.demo_paths()[0] == data
    assert (data / "dataset.json").stat().st_mtime_ns == stamp  # reused, not regenerated
    assert len(open_dataset(data).samples) == 5
