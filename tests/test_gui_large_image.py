"""A large image in the app: predicted in tiles within the memory cap, with labels equal to one pass, and the
window says what was done (tile progress, then "N tiles" in the prediction panel and the status bar)."""

from __future__ import annotations

import numpy as np

from app import settings
from fcn_core.data.labels import write_palette_png
from fcn_core.predictor import Predictor
from fcn_core.weights import load_model
from tests.gui_helpers import make_tiny_model, open_test_window

TIMEOUT = 120_000


def test_large_image_is_tiled_said_so_and_equal_to_one_pass(qtbot, tmp_path):
    import cv2

    names = ["a", "b", "c"]
    model = make_tiny_model(tmp_path / "m.safetensors", names, seed=2)
    root = tmp_path / "ds"
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    (root / "class_names.txt").write_text("\n".join(names) + "\n")
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (700, 1200, 3), np.uint8)
    cv2.imwrite(str(root / "JPEGImages" / "big.png"), image[:, :, ::-1])
    write_palette_png(root / "SegmentationClass" / "big.png", rng.integers(0, 3, (700, 1200), np.uint8))
    w = open_test_window(qtbot, tmp_path)
    w.memory_mb = 120  # a cap that splits this 1200x700 image in two tiles
    ticks = []
    w.client.tile_progress.connect(lambda _r, _s, done, total: ticks.append((done, total)))
    try:
        with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
            w.open_models([model])
            w.open_dataset(root)
        qtbot.waitUntil(lambda: w.current_results is not None, timeout=TIMEOUT)
        assert ticks and ticks[-1][0] == ticks[-1][1] > 1  # one progress step per tile
        n = ticks[-1][1]
        assert w.prediction_note.startswith(f"predicted in {n} tiles")
        assert f"{n} tiles" in w.panels["pred"].title.text()
        shown = w.dataset.image("big")
        whole = Predictor(load_model(model), device="cpu", max_tile_pixels=10**9).predict(shown)
        for s in (32, 16, 8):
            decided = whole[s].margin > 1e-4  # ties may break either way; everything else is equal
            assert np.array_equal(w.current_results[s].labels[decided], whole[s].labels[decided])
    finally:
        settings.use_ini_file(None)
