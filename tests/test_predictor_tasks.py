"""Predictor with extra inputs (depth, HHA) and two heads; `fcn predict/evaluate --task` (issue 14 item 4)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("scipy.io")

from fcn_core.cli import main  # noqa: E402
from fcn_core.data import open_dataset  # noqa: E402
from fcn_core.data.task_view import task_dataset  # noqa: E402
from fcn_core.models import forward_tasks  # noqa: E402
from fcn_core.predictor import Predictor  # noqa: E402
from fcn_core.task_predictor import TaskPredictor  # noqa: E402
from fcn_core.weights import load_model, network_input  # noqa: E402
from tests.paper_app_fixtures import make_nyud, make_siftflow, save_tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def nyud(tmp_path_factory):
    root = make_nyud(tmp_path_factory.mktemp("p") / "nyud")
    ds = open_dataset(root)
    weights = save_tiny_model(root.parent / "rgbd.safetensors", "nyud-fcn32s-color-d", ds)
    return ds, weights


@pytest.fixture(scope="module")
def sift(tmp_path_factory):
    root = make_siftflow(tmp_path_factory.mktemp("s") / "sift-flow")
    ds = open_dataset(root)
    weights = save_tiny_model(root.parent / "sift.safetensors", "siftflow-fcn16s", ds)
    return ds, weights


def test_depth_net_takes_the_depth_and_says_when_it_is_missing(nyud):
    ds, weights = nyud
    loaded = load_model(weights)
    predictor = Predictor(loaded, device="cpu")
    assert predictor.extra_inputs == ("depth",)
    image, depth = ds.image("5001"), ds.depth("5001")
    with pytest.raises(ValueError, match="needs the depth input"):
        predictor.predict(image)
    got = predictor.predict(image, extra={"depth": depth})
    # the same as the network on network_input(specs, arrays) by hand
    x = network_input(predictor.input_specs, {"color": image, "depth": depth})
    with torch.no_grad():
        logits = loaded.model(torch.from_numpy(x).permute(2, 0, 1)[None])
    assert np.array_equal(got[32].labels, logits.argmax(1)[0].numpy().astype(np.uint8))
    # another depth gives another input: the depth is really used
    assert not np.array_equal(x, network_input(predictor.input_specs, {"color": image, "depth": depth * 3}))
    from_sample = predictor.predict_sample(ds, "5001")
    assert np.array_equal(from_sample[32].labels, got[32].labels)


def test_two_heads_per_task_results_and_the_plain_return_kept(sift):
    ds, weights = sift
    loaded = load_model(weights)
    predictor = Predictor(loaded, device="cpu")
    assert predictor.tasks == ("sem", "geo")
    assert predictor.task_class_names("geo") == ["sky", "horizontal", "vertical"]
    image = ds.image(ds.stems[0])
    tasks = predictor.predict_tasks(image)
    assert set(tasks) == {"sem", "geo"} and set(tasks["geo"]) == {16}
    with torch.no_grad():
        ref = forward_tasks(loaded.model, torch.from_numpy(
            network_input(predictor.input_specs, {"color": image})).permute(2, 0, 1)[None])
    for task in ("sem", "geo"):
        assert np.array_equal(tasks[task][16].labels, ref[task][16].argmax(1)[0].numpy().astype(np.uint8))
    assert tasks["geo"][16].labels.max() <= 2 and tasks["geo"][16].confidence is not None
    plain = predictor.predict(image)  # unchanged contract: {stride: StrideResult} of the semantic head
    assert set(plain) == {16} and np.array_equal(plain[16].labels, tasks["sem"][16].labels)
    geo = TaskPredictor(predictor, "geo")
    assert geo.num_classes == 3 and np.array_equal(geo.predict(image)[16].labels, tasks["geo"][16].labels)


def test_geo_view_of_siftflow_reads_geo_labels_and_own_corrections(sift, tmp_path):
    ds, _ = sift
    geo = task_dataset(ds, "geo")
    lab = geo.label(ds.stems[0])
    assert lab[0, 0] == 255 and lab[1, 0] == 0 and lab[-1, 0] == 1 and lab[12, 0] == 2
    assert geo.class_names == ["sky", "horizontal", "vertical"]
    assert task_dataset(ds, "sem") is ds


def test_cli_evaluate_task_all_reports_both_tasks(sift, tmp_path, capsys):
    ds, weights = sift
    out = tmp_path / "r.json"
    rc = main(["evaluate", "--weights", str(weights), "--data", str(ds.root), "--task", "all",
               "--device", "cpu", "--no-progress", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "semantic (sem):" in text and "geometric (geo):" in text and "horizontal" in text
    report = json.loads(out.read_text())
    assert set(report) == {"sem", "geo"}
    assert list(report["geo"]["per_class"]) == ["sky", "horizontal", "vertical"]
    assert len(report["sem"]["per_class"]) == 33
    # the geometric scores are the geometric head against the geometric labels
    predictor = TaskPredictor(Predictor(load_model(weights), device="cpu"), "geo")
    gds = task_dataset(ds, "geo")
    correct = total = 0
    for stem in ds.stems:
        gt, pred = gds.label(stem), predictor.predict(ds.image(stem))[16].labels
        correct += int(((gt == pred) & (gt != 255)).sum())
        total += int((gt != 255).sum())
    assert report["geo"]["pixel_acc"] == pytest.approx(correct / total)


def test_cli_evaluate_depth_net_reads_the_nyud_depth(nyud, capsys):
    ds, weights = nyud
    rc = main(["evaluate", "--weights", str(weights), "--data", str(ds.root), "--device", "cpu",
               "--no-progress"])
    assert rc == 0, capsys.readouterr()
    assert main(["evaluate", "--weights", str(weights), "--data", str(ds.root), "--task", "geo",
                 "--no-progress"]) == 2
    assert "not 'geo'" in capsys.readouterr().err


def test_cli_predict_task_all_writes_each_head(sift, tmp_path, capsys):
    ds, weights = sift
    out = tmp_path / "pred"
    rc = main(["predict", str(ds.sample(ds.stems[0]).image_path), "--weights", str(weights), "--task", "all",
               "--stride", "all", "--out", str(out), "--device", "cpu", "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    stem = ds.stems[0]
    geo = np.asarray(Image.open(out / "geo" / "16s" / f"{stem}.png"))
    sem = np.asarray(Image.open(out / "sem" / "16s" / f"{stem}.png"))
    assert geo.max() <= 2 and geo.shape == sem.shape
    expected = Predictor(load_model(weights), device="cpu").predict_tasks(ds.image(stem))
    assert np.array_equal(geo, expected["geo"][16].labels)
    assert np.array_equal(sem, expected["sem"][16].labels)


def test_cli_export_task_geo_writes_the_geometric_labels_with_their_corrections(sift, tmp_path, capsys):
    import shutil

    from fcn_core.data import write_palette_png
    from fcn_core.data.labels import read_label

    ds, _ = sift
    root = tmp_path / "sift-flow"
    shutil.copytree(ds.root, root)
    stem = ds.stems[1]
    fixed = task_dataset(ds, "geo").label(stem).copy()
    fixed[:4] = 1  # a correction of the geometric labels
    (root / "corrections" / "geo").mkdir(parents=True)
    write_palette_png(root / "corrections" / "geo" / f"{stem}.png", fixed, task_dataset(ds, "geo").palette)
    rc = main(["export", "--data", str(root), "--labels", str(root / "corrections"), "--task", "geo",
               "--out", str(tmp_path / "out"), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "class_names.txt").read_text().split() == ["sky", "horizontal", "vertical"]
    assert np.array_equal(read_label(tmp_path / "out" / "SegmentationClass" / f"{stem}.png"), fixed)
    other = ds.stems[0]
    assert np.array_equal(read_label(tmp_path / "out" / "SegmentationClass" / f"{other}.png"),
                          task_dataset(ds, "geo").label(other))


def test_cli_predict_depth_net_reads_the_depth_beside_the_photos(nyud, tmp_path, capsys):
    ds, weights = nyud
    photo = ds.sample("5002").image_path  # data/images/img_5002.png; its depth is data/depth/img_5002.png
    out = tmp_path / "pred"
    rc = main(["predict", str(photo), "--weights", str(weights), "--out", str(out), "--device", "cpu",
               "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    got = np.asarray(Image.open(out / "img_5002.png"))
    predictor = Predictor(load_model(weights), device="cpu")
    expected = predictor.predict(ds.image("5002"), extra={"depth": ds.depth("5002")})
    assert np.array_equal(got, expected[32].labels)
    empty = tmp_path / "no-depth"
    empty.mkdir()
    rc = main(["predict", str(photo), "--weights", str(weights), "--out", str(tmp_path / "p2"), "--depth",
               str(empty), "--device", "cpu", "--no-progress"])
    assert rc == 1 and f"no depth file img_5002.png in {empty}" in capsys.readouterr().err


def _blocky(h: int, w: int, seed: int, channels: int | None = 3, scale: float = 255.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (h // 8 + 1, w // 8 + 1) + ((channels,) if channels else ())
    grid = rng.random(shape) * scale
    big = np.repeat(np.repeat(grid, 8, axis=0), 8, axis=1)[:h, :w]
    return big.astype(np.uint8) if scale == 255.0 else big.astype(np.float32)


def _same_where_clear(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for s in expected:
        clear = expected[s].margin > 1e-4
        assert clear.mean() > 0.95
        assert np.array_equal(got[s].labels[clear], expected[s].labels[clear])
        np.testing.assert_allclose(got[s].confidence, expected[s].confidence, atol=2e-3)


def test_depth_net_in_tiles_equals_the_whole_image_with_progress(nyud):
    # Tiling crops the host-normalised photo + depth input: the same labels as one pass.
    _, weights = nyud
    image, depth = _blocky(40, 700, 1), _blocky(40, 700, 2, channels=None, scale=5000.0) + 500.0
    whole = Predictor(load_model(weights), device="cpu", max_tile_pixels=10**9)
    tiled = Predictor(load_model(weights), device="cpu", max_tile_pixels=40 * 699)
    expected = whole.predict(image, extra={"depth": depth})
    calls = []
    got = tiled.predict(image, extra={"depth": depth}, progress=lambda d, n: calls.append((d, n)))
    assert tiled.last_tiling is not None and tiled.last_tiling.tiles == 2 and calls == [(1, 2), (2, 2)]
    _same_where_clear(got, expected)


def test_two_headed_net_in_tiles_gives_every_head(sift):
    _, weights = sift
    image = _blocky(40, 700, 3)
    whole = Predictor(load_model(weights), device="cpu", max_tile_pixels=10**9)
    tiled = Predictor(load_model(weights), device="cpu", max_tile_pixels=40 * 699)
    expected, got = whole.predict_tasks(image), tiled.predict_tasks(image)
    assert tiled.last_tiling is not None and set(got) == {"sem", "geo"}
    for task in ("sem", "geo"):
        _same_where_clear(got[task], expected[task])
    geo = TaskPredictor(tiled, "geo").predict(image)
    assert np.array_equal(geo[16].labels, got["geo"][16].labels)


@pytest.mark.parametrize("which", ["nyud", "sift"])
def test_onnx_backend_falls_back_to_torch_for_extra_inputs_and_two_heads(which, request):
    pytest.importorskip("onnxruntime")
    ds, weights = request.getfixturevalue(which)
    torch_pred = Predictor(load_model(weights), device="cpu")
    onnx_pred = Predictor(load_model(weights), device="cpu", backend="onnxruntime")
    assert onnx_pred.backend == "torch"
    assert onnx_pred.backend_note and ("depth" in onnx_pred.backend_note or "heads" in onnx_pred.backend_note)
    stem = ds.stems[0]
    got, expected = onnx_pred.predict_sample(ds, stem), torch_pred.predict_sample(ds, stem)
    for s in expected:
        assert np.array_equal(got[s].labels, expected[s].labels)


def test_cli_resumable_predict_per_task_then_evaluate_the_stored_geo_head(sift, tmp_path, capsys):
    # fcn predict --resume --task all writes OUT/sem/ and OUT/geo/ with their own records; the stored geo
    # predictions score against the geometric labels exactly as the live geo head does.
    ds, weights = sift
    photos = ds.sample(ds.stems[0]).image_path.parent
    out = tmp_path / "pred"
    args = ["predict", str(photos), "--weights", str(weights), "--task", "all", "--resume", "--out", str(out),
            "--device", "cpu", "--backend", "torch", "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    for task in ("sem", "geo"):
        records = [json.loads(p.read_text()) for p in (out / task / "records").glob("*.json")]
        assert len(records) == len(ds.stems) and {r["task"] for r in records} == {task}
    assert main(args) == 0
    assert f"{len(ds.stems)} already done" in capsys.readouterr().err  # resumed per task, nothing redone
    stored, live = tmp_path / "stored.json", tmp_path / "live.json"
    assert main(["evaluate", "--pred", str(out / "geo"), "--data", str(ds.root), "--task", "geo",
                 "--no-progress", "--json", str(stored)]) == 0, capsys.readouterr().err
    assert main(["evaluate", "--weights", str(weights), "--data", str(ds.root), "--task", "geo",
                 "--device", "cpu", "--backend", "torch", "--no-progress", "--json", str(live)]) == 0
    a, b = json.loads(stored.read_text()), json.loads(live.read_text())
    assert list(a["per_class"]) == ["sky", "horizontal", "vertical"]
    assert a["confusion"] == b["confusion"] and a["images"] == b["images"] == len(ds.stems)
