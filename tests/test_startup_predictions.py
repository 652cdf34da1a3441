"""main.py with stored predictions and dataset formats: `--data DS --predictions DIR` renders a screenshot;
`--screenshot` on a dataset that cannot be opened stops at once with the reason (it used to wait for its
time-out); `--format NAME` is checked and passed to the dataset reader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from app.launch import build_parser
from fcn_core.cli import main as fcn_main
from tests.gui_helpers import make_tiny_dataset

REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "resources" / "demo" / "model.safetensors"


def _run_main(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=240)


def test_parser_takes_predictions_and_format():
    a = build_parser().parse_args(["--data", "d", "--predictions", "p", "--format", "cityscapes"])
    assert a.predictions == "p" and a.data_format == "cityscapes"


def test_screenshot_of_dataset_with_stored_predictions(tmp_path):
    ds = make_tiny_dataset(tmp_path / "ds", count=2)
    preds = tmp_path / "preds"
    assert fcn_main(["predict", str(ds / "JPEGImages"), "--weights", str(DEMO_MODEL), "--stride", "all",
                     "--device", "cpu", "--out", str(preds), "--no-progress"]) == 0
    out = tmp_path / "shot.png"
    proc = _run_main(["--data", str(ds), "--predictions", str(preds), "--screenshot", str(out),
                      "--size", "900x600", "--stride", "16", "--timeout", "200"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    img = QImage(str(out))
    assert not img.isNull() and (img.width(), img.height()) == (900, 600)


def test_screenshot_of_a_dataset_that_cannot_open_stops_at_once(tmp_path):
    broken = tmp_path / "broken"
    (broken / "JPEGImages").mkdir(parents=True)
    (broken / "SegmentationClass").mkdir()
    (broken / "dataset.json").write_text("{not json")
    proc = _run_main(["--data", str(broken), "--screenshot", str(tmp_path / "s.png"), "--timeout", "200"],
                     tmp_path)
    # before: no predictions ever came, and it gave up only after --timeout (200 s) with exit status 2
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Cannot open dataset" in proc.stderr and "dataset.json" in proc.stderr
    assert "no predictions on screen" not in proc.stderr
    assert not (tmp_path / "s.png").exists()


def test_format_is_checked_and_used(tmp_path):
    ds = make_tiny_dataset(tmp_path / "ds", count=2)
    proc = _run_main(["--data", str(ds), "--format", "nonsense", "--screenshot", str(tmp_path / "a.png")],
                     tmp_path)
    assert proc.returncode == 2 and "unknown dataset format 'nonsense'" in proc.stderr
    assert "voc" in proc.stderr  # the known formats are listed
    proc = _run_main(["--data", str(ds), "--format", "cityscapes", "--screenshot", str(tmp_path / "b.png"),
                      "--timeout", "200"], tmp_path)
    assert proc.returncode == 2 and "not a cityscapes dataset" in proc.stderr, proc.stderr[-2000:]


def test_predictions_need_a_dataset_and_no_model(tmp_path):
    proc = _run_main(["--predictions", str(tmp_path)], tmp_path)
    assert proc.returncode == 2 and "--predictions needs a dataset" in proc.stderr
    proc = _run_main(["--data", str(tmp_path), "--predictions", str(tmp_path), "--weights", "m.pth"],
                     tmp_path)
    assert proc.returncode == 2 and "not both" in proc.stderr
