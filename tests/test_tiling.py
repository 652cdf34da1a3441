"""Large images in tiles (fcn_core.tiling): the plan, stitching, equality with whole-image prediction, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fcn_core import tiling
from fcn_core.cli import main
from fcn_core.models import build_model
from fcn_core.predictor import Predictor, StrideResult
from fcn_core.tiling import ALIGN, HALO, plan_tiles, predict_tiled
from fcn_core.weights import CAFFE_PREPROCESSING, load_model, save_checkpoint


def blocky_image(h: int, w: int, seed: int = 0, block: int = 32) -> np.ndarray:
    """Blocks of random colour: varied enough for a random tiny net to predict several classes."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (h // block + 1, w // block + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(blocks.repeat(block, 0).repeat(block, 1)[:h, :w])


def varied_checkpoint(folder: Path) -> Path:
    """A width-1/16 fcn-multi, 5 classes, random convs with zero biases (no class wins everywhere) and
    score layers scaled down (confidences well below 1), so every stride predicts several classes."""
    torch.manual_seed(0)
    model = build_model("fcn-multi", 5, width=0.0625)
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                torch.nn.init.zeros_(m.bias)
                if name.startswith("score"):
                    m.weight /= 30
    path = folder / "varied.safetensors"
    save_checkpoint(path, model, arch="fcn-multi", class_names=[f"c{i}" for i in range(5)],
                    preprocessing=CAFFE_PREPROCESSING, options={"width": 0.0625})
    return path


@pytest.mark.parametrize("h,w,cap", [(40, 700, 40 * 699), (700, 40, 40 * 699), (1000, 1300, 600_000),
                                     (6000, 8000, 2_900_000), (33, 2000, 20_000), (900, 900, 1000)])
def test_plan_covers_every_pixel_once_on_the_grid_with_a_halo(h, w, cap):
    tiles = plan_tiles(h, w, cap)
    assert tiles is not None and len(tiles) > 1
    cover = np.zeros((h, w), np.int32)
    for t in tiles:
        y0, y1, x0, x1 = t.box
        cy0, cy1, cx0, cx1 = t.core
        cover[cy0:cy1, cx0:cx1] += 1
        assert y0 % ALIGN == 0 and x0 % ALIGN == 0  # pooling windows and deconv phases as in the image
        # Full receptive-field context on every side that is not the image border.
        assert (y0, y1) == (max(0, cy0 - HALO), min(h, cy1 + HALO))
        assert (x0, x1) == (max(0, cx0 - HALO), min(w, cx1 + HALO))
    assert (cover == 1).all()
    smallest_possible = min(h, ALIGN + 2 * HALO) * min(w, ALIGN + 2 * HALO)
    if smallest_possible <= cap:
        assert max((t.box[1] - t.box[0]) * (t.box[3] - t.box[2]) for t in tiles) <= cap


def test_plan_is_none_when_the_image_fits():
    assert plan_tiles(100, 700, 70_000) is None
    assert len(plan_tiles(100, 700, 69_999)) == 2


def test_stitching_keeps_each_tile_centre_in_2d_and_reports_progress():
    # A stand-in "model" whose output at a pixel depends on that pixel only: stitching must give f(image).
    image = blocky_image(900, 1100, seed=3, block=8)
    tiles = plan_tiles(*image.shape[:2], 600_000)
    assert len({t.core[0] for t in tiles}) > 1 and len({t.core[2] for t in tiles}) > 1  # a 2-D grid
    calls = []

    def run_one(tile):
        return {8: StrideResult(tile[..., 0] // 2, tile[..., 1] / 255.0, tile[..., 2] / 255.0)}

    out = predict_tiled(run_one, image, tiles, progress=lambda d, n: calls.append((d, n)),
                        result_type=StrideResult)
    assert calls == [(i, len(tiles)) for i in range(1, len(tiles) + 1)]
    assert np.array_equal(out[8].labels, image[..., 0] // 2)
    assert out[8].confidence.dtype == np.float16  # whole-image float maps at half the memory
    np.testing.assert_allclose(out[8].confidence, image[..., 1] / 255.0, atol=1e-3)
    np.testing.assert_allclose(out[8].margin, image[..., 2] / 255.0, atol=1e-3)


@pytest.fixture(scope="module")
def multi_ckpt(tmp_path_factory):
    return varied_checkpoint(tmp_path_factory.mktemp("tiling"))


def test_tiled_prediction_equals_whole_image_prediction(multi_ckpt):
    # One seam across a strip (cheap); test_plan_* and test_stitching_* cover 2-D grids.
    image = blocky_image(40, 700, seed=1)
    whole = Predictor(load_model(multi_ckpt), device="cpu", max_tile_pixels=10**9)
    tiled = Predictor(load_model(multi_ckpt), device="cpu", max_tile_pixels=40 * 699)
    expected = whole.predict(image)
    assert whole.last_tiling is None
    calls = []
    got = tiled.predict(image, progress=lambda d, n: calls.append((d, n)))
    info = tiled.last_tiling
    assert info is not None and info.tiles == 2 and info.overlap == HALO
    assert calls == [(1, 2), (2, 2)]  # once per tile
    assert info.describe().startswith("predicted in 2 tiles of ")
    for s in (32, 16, 8):
        # Each tile's kept centre has its whole receptive field inside the tile: same labels right up to
        # the seam (bar float rounding at exact near-ties, which the margin guard excludes).
        clear = expected[s].margin > 1e-4
        assert clear.mean() > 0.99
        assert np.array_equal(got[s].labels[clear], expected[s].labels[clear])
        assert len(np.unique(expected[s].labels)) > 2
        np.testing.assert_allclose(got[s].confidence, expected[s].confidence, atol=2e-3)
        np.testing.assert_allclose(got[s].margin, expected[s].margin, atol=2e-3)


def test_threshold_and_memory_choose_tiling(multi_ckpt):
    image = blocky_image(24, 700, seed=2)
    loaded = load_model(multi_ckpt)
    at_cap = Predictor(loaded, device="cpu", max_tile_pixels=24 * 700)
    at_cap.predict(image, with_confidence=False)
    assert at_cap.last_tiling is None
    at_cap.max_tile_pixels = 24 * 700 - 1
    out = at_cap.predict(image, with_confidence=False)
    assert at_cap.last_tiling is not None and at_cap.last_tiling.tiles == 2 and out[8].confidence is None
    # Slightly too large, but no split is smaller (each tile would need the whole strip as context).
    assert plan_tiles(24, 300, 24 * 300 - 1) is None
    # memory_mb sets the cap through the model's per-pixel estimate; more memory, bigger tiles.
    small = Predictor(load_model(multi_ckpt), device="cpu", memory_mb=64)
    big = Predictor(load_model(multi_ckpt), device="cpu", memory_mb=256)
    assert big.max_tile_pixels == pytest.approx(4 * small.max_tile_pixels, rel=1e-6)


def test_default_cap_for_the_demo_model_tiles_an_8000x6000_image():
    from fcn_core.resources import DEMO_MODEL

    loaded = load_model(DEMO_MODEL)
    cap = tiling.default_max_tile_pixels(loaded, "fp32")
    per_pixel = tiling.bytes_per_pixel(loaded.model, loaded.num_classes, 3, "fp32")
    assert cap * per_pixel <= tiling.DEFAULT_MEMORY_MB * 2**20
    tiles = plan_tiles(6000, 8000, cap)
    info = tiling.describe_plan(tiles, 6000, 8000)
    assert info.tile_size[0] * info.tile_size[1] <= cap
    computed = sum((t.box[1] - t.box[0]) * (t.box[3] - t.box[2]) for t in tiles)
    assert computed < 2.5 * 6000 * 8000  # halos cost, but not more than this


def test_cli_predict_goes_through_tiling(tmp_path, multi_ckpt, monkeypatch, capsys):
    image = blocky_image(40, 700, seed=4)
    Image.fromarray(image).save(tmp_path / "wide.png")
    used = []
    real = tiling.predict_tiled

    def counting(run_one, img, tiles, **kw):
        used.append(len(tiles))
        return real(run_one, img, tiles, **kw)

    monkeypatch.setattr(tiling, "predict_tiled", counting)
    out = tmp_path / "out"
    loaded = load_model(multi_ckpt)
    per_pixel = tiling.bytes_per_pixel(loaded.model, loaded.num_classes, 3, "fp32")
    memory_mb = 40 * 650 * per_pixel / 2**20  # room for 40x650 tiles: the 40x700 image takes two
    rc = main(["predict", str(tmp_path / "wide.png"), "--weights", str(multi_ckpt), "--out", str(out),
               "--stride", "all", "--memory-mb", f"{memory_mb:.6f}", "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    assert used == [2]
    expected = Predictor(load_model(multi_ckpt), device="cpu", max_tile_pixels=10**9).predict(image)
    for s in (32, 16, 8):
        clear = expected[s].margin > 1e-4
        got = np.asarray(Image.open(out / f"{s}s" / "wide.png"))
        assert np.array_equal(got[clear], expected[s].labels[clear])
    assert main(["predict", str(tmp_path / "wide.png"), "--weights", str(multi_ckpt), "--out", str(out),
                 "--memory-mb", "0"]) == 2
    assert "--memory-mb must be positive" in capsys.readouterr().err
