"""GUI responsiveness benchmark: prints one JSON object.

* ``stride_toggle_ms``: median time from a stride switch (cached results) to the panels repainted, on a
  500×375 image in the real MainWindow (4 panels; ``stride_toggle_all_panels_ms`` with error + confidence).
* ``max_ui_stall_ms``: the longest gap between ticks of a 1 ms QTimer in the GUI event loop while the
  inference worker runs FCN-8s VGG16 (full width, random weights) on CPU on 500×500 images, several times;
  includes the GUI-thread work of showing each result. ``ui_stall_p99_ms`` and the forward times too.
* ``save_updates_set_metrics_ms``: median time from Ctrl+S on a corrected label (the PNG written atomically
  in the background) to the dataset's metrics table, heatmap and IU bars repainted, with 1,000 evaluated
  images; ``set_metrics_update_ms`` is the GUI part alone (old matrix out, new in, repaint), and
  ``set_metrics_resum_baseline_ms`` the same update done by re-summing all 1,000 images' matrices.
* keys from ``bench/gui_edit.py``'s ``run()`` (editing) are merged in when that file exists.

Usage: ``python3 bench/gui.py [--quick] [--runs N]`` (``--quick``: small model, for CI; numbers mean little).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class MemoryDataset:
    """In-memory stand-in for fcn_core Dataset: fixed random images and labels of one size."""

    def __init__(self, count: int, h: int, w: int, num_classes: int = 21):
        rng = np.random.default_rng(0)
        self.stems = [f"img{i:03d}" for i in range(count)]
        self._images = {s: rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for s in self.stems}
        self._labels = {s: rng.integers(0, num_classes, (h, w), dtype=np.uint8) for s in self.stems}
        self.class_names = [f"class{i}" for i in range(num_classes)]
        from fcn_core.data.palette import voc_palette

        self.palette = voc_palette()
        self.kind, self.has_labels, self.num_classes = "memory", True, num_classes
        self.samples = []
        self.splits: dict[str, list[str]] = {}  # no splits: the browser shows every image
        self.labels_dir: Path | None = None  # corrections folder (set by the save benchmark)

    def image(self, stem: str) -> np.ndarray:
        return self._images[stem]

    def sample(self, stem: str):
        from types import SimpleNamespace

        return SimpleNamespace(stem=stem, corrected=False, label_path=None)

    @property
    def root(self) -> Path:
        return Path("memory-dataset")

    def label(self, stem: str) -> np.ndarray:
        return self._labels[stem]


def _model_set(arch: str, width: float, num_classes: int = 21):
    """A ModelSet around a randomly initialised model (no file round trip needed for timing)."""
    import torch

    from app.model_set import ModelSet
    from fcn_core.data.palette import voc_palette
    from fcn_core.models import build_model
    from fcn_core.predictor import Predictor
    from fcn_core.weights import CAFFE_PREPROCESSING, LoadedModel

    torch.manual_seed(0)
    model = build_model(arch, num_classes, width=width).eval()
    loaded = LoadedModel(model=model, arch=arch, num_classes=num_classes,
                         class_names=[f"class{i}" for i in range(num_classes)], palette=voc_palette(),
                         void_index=255, preprocessing=CAFFE_PREPROCESSING)
    pred = Predictor(loaded, device="cpu")
    return ModelSet(paths=[Path(f"{arch}-random")], predictors=[pred], model_id=f"{arch}-{width}",
                    strides=tuple(sorted(loaded.strides, reverse=True)), num_classes=num_classes,
                    class_names=loaded.class_names, palette=loaded.palette, device=pred.device,
                    precision=pred.precision, arch=arch)


def _window(app, ds, models):
    from app.main_window import MainWindow

    w = MainWindow(device="cpu")
    w.resize(1600, 1000)
    w.show()
    w.client.worker.models = models  # set before any request: the worker thread is idle
    w._on_models_loaded(models)
    w._on_dataset(ds, Path("memory"))
    return w


def _wait(app, predicate, timeout_s: float) -> None:
    end = time.perf_counter() + timeout_s
    while not predicate():
        if time.perf_counter() > end:
            raise TimeoutError("benchmark step timed out")
        app.processEvents()
        time.sleep(0.0005)


def measure_toggle(app, window, repeats: int) -> float:
    """Median ms from set_stride to the changed panels painted (the pending paint events processed),
    cycling 32 → 16 → 8 on cached results."""
    times = []
    strides = [32, 16, 8]
    app.processEvents()
    for i in range(repeats):
        t0 = time.perf_counter()
        window.set_stride(strides[i % 3])
        app.processEvents()  # runs the update requests: Qt paints the panels whose items changed
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure_stall(app, window, stems: list[str]) -> dict:
    """Gaps between 1 ms timer ticks in the application's own event loop (``app.exec()``, as in the
    real app) while the worker predicts each stem in turn (each shown as soon as it arrives)."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    state = {"i": 0, "t0": 0.0}
    request_ms: list[float] = []

    def ask() -> None:
        state["t0"] = time.perf_counter()
        window.show_stem(stems[state["i"]])

    def shown() -> None:
        if state["i"] >= len(stems) or window.current_stem != stems[state["i"]]:
            return
        request_ms.append((time.perf_counter() - state["t0"]) * 1000)
        state["i"] += 1
        QTimer.singleShot(0, ask if state["i"] < len(stems) else app.quit)

    window.predictions_changed.connect(shown)
    timer.start()
    t_start = time.perf_counter()
    QTimer.singleShot(0, ask)
    QTimer.singleShot(900_000, app.quit)  # guard
    app.exec()
    timer.stop()
    window.predictions_changed.disconnect(shown)
    if len(request_ms) < len(stems):
        raise TimeoutError("benchmark step timed out")
    gaps = np.diff([t_start, *ticks]) * 1000
    return {"max_ui_stall_ms": round(float(gaps.max()), 2),
            "ui_stall_p99_ms": round(float(np.percentile(gaps, 99)), 2),
            "ui_stall_top5_ms": [round(float(g), 1) for g in np.sort(gaps)[-5:][::-1]],
            "ui_ticks": len(ticks), "request_to_screen_ms": [round(x) for x in request_ms]}


def measure_save_metrics(app, count: int, repeats: int) -> dict:
    """A window whose dataset of ``count`` images was evaluated; each repeat corrects the shown image and
    saves it."""
    import tempfile

    from app.evaluation_run import EvaluationResult
    from fcn_core.metrics import scores_from_confusion

    ds = MemoryDataset(count, 48, 64)
    ds.labels_dir = Path(tempfile.mkdtemp(prefix="fcn-bench-corrections-"))
    window = _window(app, ds, _model_set("fcn-multi", 0.0625))
    _wait(app, lambda: window.current_results is not None and window.editing.document is not None, 600)
    book = window.workspace.book
    rng = np.random.default_rng(1)
    n = ds.num_classes
    book.start_set()
    for stem in ds.stems:  # an evaluation's result, without running 1,000 forwards
        cms = {s: rng.integers(0, 50, (n, n)) for s in book.strides}
        window.workspace.record_scored(stem, cms, {s: 0.5 for s in book.strides}, member=True)
    window.evaluation._finished(EvaluationResult(book, split_size=count))
    window.docks["evaluation"].show()
    app.processEvents()
    doc, stem = window.editing.document, window.current_stem
    full, update, resum = [], [], []
    for i in range(repeats):
        doc.replace_all(np.full(doc.shape, i % n, np.uint8))
        window.editing.after_edit()
        app.processEvents()
        before = window.evaluation.table.item(2, 2).text(), book.totals[8].copy()
        t0 = time.perf_counter()
        window.editing.saver.save()
        _wait(app, lambda: not doc.is_modified, 60)
        app.processEvents()  # the repaint of the table and plots
        full.append((time.perf_counter() - t0) * 1000)
        assert not np.array_equal(book.totals[8], before[1]) or i == 0
        labels = doc.labels.copy()
        t0 = time.perf_counter()
        window.labels_committed(stem, labels)
        app.processEvents()
        update.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()  # baseline: the same totals by summing every image's matrices again
        totals = {s: sum(book.confusions(x)[s] for x in book.members) for s in book.strides}
        for s in totals:
            scores_from_confusion(totals[s], book.class_names)
        resum.append((time.perf_counter() - t0) * 1000)
        assert all(np.array_equal(totals[s], book.totals[s]) for s in totals)  # live totals are exact
    window.close()
    return {"save_updates_set_metrics_ms": round(statistics.median(full), 2),
            "set_metrics_update_ms": round(statistics.median(update), 2),
            "set_metrics_resum_baseline_ms": round(statistics.median(resum), 2),
            "save_metrics_images": count}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small model and few repetitions (CI)")
    ap.add_argument("--runs", type=int, default=3, help="FCN-8s forwards while measuring stalls")
    ap.add_argument("--no-edit", action="store_true", help="skip bench/gui_edit.py")
    args = ap.parse_args(argv)
    import torch
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    out: dict = {"meta": {"torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
                          "quick": args.quick, "platform": app.platformName(),
                          "load_average_1min_at_start": round(os.getloadavg()[0], 2)}}
    width = 0.125 if args.quick else 1.0
    runs = 1 if args.quick else args.runs
    # stride toggle: fcn-multi gives all three strides from one forward (cached afterwards)
    ds = MemoryDataset(2, 375, 500)
    window = _window(app, ds, _model_set("fcn-multi", 0.125))
    _wait(app, lambda: window.current_results is not None, 600)
    out["stride_toggle_ms"] = round(measure_toggle(app, window, 30 if args.quick else 120), 3)
    window.actions.show_error.setChecked(True)
    window.actions.show_confidence.setChecked(True)
    out["stride_toggle_all_panels_ms"] = round(measure_toggle(app, window, 30 if args.quick else 120), 3)
    window.close()
    # UI stall while FCN-8s VGG16 runs on the worker thread
    ds = MemoryDataset(runs + 1, 500, 500)
    window = _window(app, ds, _model_set("fcn8s", width))
    _wait(app, lambda: window.current_results is not None, 600)  # first forward (warm-up) not measured
    out.update(measure_stall(app, window, ds.stems[1:runs + 1]))
    out["stall_model"] = f"fcn8s VGG16 width {width} cpu, 500x500, {runs} forwards"
    window.close()
    out.update(measure_save_metrics(app, 1000, 5 if args.quick else 20))
    out["meta"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    edit = REPO / "bench" / "gui_edit.py"
    if edit.is_file() and not args.no_edit:
        spec = importlib.util.spec_from_file_location("bench_gui_edit", edit)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out.update(mod.run(quick=args.quick))
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
