"""Start-up: command line, --screenshot, the bundled demo, and the real VOC2012 sample."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from app import settings
from app.launch import build_parser
from app.main_window import MainWindow
from fcn_core.data.palette import VOC_CLASSES
from tests.gui_helpers import make_tiny_dataset, make_tiny_model

REPO = Path(__file__).resolve().parents[1]


def _run_main(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=240)


def test_parser_accepts_model_sets_device_precision():
    a = build_parser().parse_args(["--data", "d", "--weights", "a.pth", "b.pth", "c.pth", "--device", "cpu",
                                   "--precision", "bf16", "--screenshot", "o.png"])
    assert a.weights == ["a.pth", "b.pth", "c.pth"] and a.device == "cpu" and a.precision == "bf16"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--precision", "fp8"])


def test_screenshot_of_dataset_and_model(tmp_path):
    ds = make_tiny_dataset(tmp_path / "ds", count=3)
    model = make_tiny_model(tmp_path / "m.safetensors", (ds / "class_names.txt").read_text().split())
    out = tmp_path / "shot.png"
    proc = _run_main(["--data", str(ds), "--weights", str(model), "--screenshot", str(out),
                      "--size", "1000x700", "--device", "cpu", "--error-map"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    img = QImage(str(out))
    assert not img.isNull() and (img.width(), img.height()) == (1000, 700)


def test_bad_model_file_still_opens_window_and_says_why(tmp_path):
    ds = make_tiny_dataset(tmp_path / "ds", count=2)
    bad = tmp_path / "bad.pth"
    bad.write_text("not a checkpoint")
    out = tmp_path / "shot.png"
    proc = _run_main(["--data", str(ds), "--weights", str(bad), "--screenshot", str(out), "--timeout", "20"],
                     tmp_path)
    # the dataset still shows (without predictions) and the reason is printed
    assert proc.returncode == 0 and "bad.pth" in proc.stderr, proc.stderr[-2000:]
    assert not QImage(str(out)).isNull()


def test_bundled_demo_starts_with_predictions(tmp_path):
    demo_model = REPO / "resources" / "demo" / "model.safetensors"
    if not demo_model.is_file():
        pytest.skip("bundled demo model not built yet (resources/demo/model.safetensors)")
    out = tmp_path / "demo.png"
    proc = _run_main(["--screenshot", str(out), "--device", "cpu"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not QImage(str(out)).isNull()


def test_opens_voc2012_sample(qtbot, tmp_path, shared_data):
    voc = shared_data("voc2012-sample")
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    model = make_tiny_model(tmp_path / "voc.safetensors", list(VOC_CLASSES))
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.first_view_ready, timeout=120_000):
        w.open_models([model])
        w.open_dataset(voc)
    assert w.browser.model.rowCount() == 330
    assert w.class_names == list(VOC_CLASSES)
    assert w.current_stem == w.dataset.stems[0]
    assert w.current_gt.shape == w.current_image.shape[:2] and (w.current_gt == 255).any()  # VOC borders
    assert w.current_results[8].labels.shape == w.current_gt.shape
    # class filter on "cat" once the background label scan is done
    qtbot.waitUntil(lambda: all(r.classes is not None for r in w.browser.model.rows), timeout=120_000)
    w.browser.class_combo.setCurrentIndex(VOC_CLASSES.index("cat") + 1)
    cats = w.browser.stems_in_order()
    assert 0 < len(cats) < 330
    with qtbot.waitSignal(w.predictions_changed, timeout=60_000):
        w.browser.select_stem(cats[0])
    assert (w.current_gt == VOC_CLASSES.index("cat")).any()
    settings.use_ini_file(None)
