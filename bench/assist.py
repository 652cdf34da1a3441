"""Assisted-correction and error-region costs. Prints ONE JSON object (milliseconds unless named otherwise).

- ``grabcut_2mp``: ``app.tools.grabcut.grabcut_refine`` in a box around one object of a 2 MP scene (the box
  plus a 16 px margin is all GrabCut sees) vs the naive call: ``cv2.grabCut`` on the whole image initialised
  from the same box (``GC_INIT_WITH_RECT``), same iterations.
- ``superpixels_2mp``: SLIC (scikit-image, ~400 px superpixels) once per image; then one brush stroke's
  selection + paint edit. No baseline (``cv2.ximgproc`` is not in opencv-python-headless).
- ``scissors_2mp``: one intelligent-scissors click 200 px from the previous anchor (``ScissorsTrace``: edge
  features and path map of a window around the two points) vs the naive use of
  ``cv2.segmentation.IntelligentScissorsMB``: features of the whole image, then the map from the anchor.
- ``regions_2mp``: ``fcn_core.regions.extract_regions`` on a 2 MP scene whose prediction is the label with
  moved borders, dropped and invented objects; ``components_ms`` is the connected-component part alone vs
  the naive loop: one ``scipy.ndimage.label`` per (true, predicted) class pair over the whole image.
- ``dataset_regions_1000``: ``fcn_core.regions.dataset_regions`` over 1,000 small (160×120) synthetic scenes
  with synthetic three-stride predictions (labels resized down and up per stride, borders moved) and
  confidence maps, images and labels in memory: the cost of the list itself, not of decoding or the model.

Scenes are ``fcn_core.demo_data.make_demo_sample`` drawings. ``--quick`` uses tiny sizes (for the test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.tools.grabcut import ITERATIONS, grabcut_refine  # noqa: E402
from app.tools.scissors import ScissorsTrace  # noqa: E402
from app.tools.superpixels import Superpixels  # noqa: E402
from fcn_core.demo_data import DEMO_CLASSES, make_demo_sample  # noqa: E402
from fcn_core.predictor import StrideResult  # noqa: E402
from fcn_core.regions import _pair_components, dataset_regions, extract_regions  # noqa: E402


def _ms(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2), "runs": repeat}


def _interleaved(fns: dict, repeat: int) -> dict:
    """Round-robin timing so a busy shared machine slows every variant alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1000)
    return {k: {"median_ms": round(statistics.median(v), 2), "min_ms": round(min(v), 2), "runs": repeat}
            for k, v in times.items()}


def _fake_prediction(gt: np.ndarray, rng: np.random.Generator, stride: int = 8) -> np.ndarray:
    """The label seen at ``stride`` (down and up again), borders moved, some objects dropped or invented."""
    h, w = gt.shape
    small = cv2.resize(gt, (max(1, w // stride), max(1, h // stride)), interpolation=cv2.INTER_NEAREST)
    pred = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    pred[pred == 255] = 0
    for _ in range(max(2, (h * w) // 40000)):
        r = int(rng.integers(3, max(4, min(h, w) // 12)))
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        cv2.circle(pred, (cx, cy), r, int(rng.integers(0, len(DEMO_CLASSES))), -1)
    return pred


def _results(gt: np.ndarray, rng: np.random.Generator) -> dict[int, StrideResult]:
    out = {}
    for s in (32, 16, 8):
        labels = _fake_prediction(gt, rng, s)
        conf = cv2.GaussianBlur(rng.random(gt.shape, dtype=np.float32), (0, 0), 5) * 0.6 + 0.4
        out[s] = StrideResult(labels, conf, conf * 0.5)
    return out


def bench_grabcut(image: np.ndarray, gt: np.ndarray, repeat: int) -> dict:
    # the biggest object that is not sky or road: a building, tree or car
    n, comp, stats, _ = cv2.connectedComponentsWithStats((gt >= 2).view(np.uint8) & (gt < 255).view(np.uint8))
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[k, :4])
    pad = 20
    box = (max(x - pad, 0), max(y - pad, 0), min(x + w + pad, gt.shape[1]), min(y + h + pad, gt.shape[0]))
    cls = int(np.bincount(gt[comp == k]).argmax())
    labels = gt.copy()
    labels[cv2.dilate((comp == k).view(np.uint8), np.ones((9, 9), np.uint8)).view(bool)] = cls  # too big
    rgb = image

    def naive():
        mask = np.zeros(gt.shape, np.uint8)
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        rect = (box[0], box[1], box[2] - box[0], box[3] - box[1])
        cv2.grabCut(rgb, mask, rect, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_RECT)

    times = _interleaved({"grabcut_refine": lambda: grabcut_refine(rgb, labels, cls, box=box),
                          "naive_full_image_rect": naive}, repeat)
    bw, bh = box[2] - box[0], box[3] - box[1]
    return {"image": list(gt.shape[::-1]), "box": [bw, bh], "box_fraction": round(bw * bh / gt.size, 3),
            **times}


def bench_superpixels(image: np.ndarray, repeat: int) -> dict:
    import skimage.segmentation  # noqa: F401 - the import (about a second) is not part of the cost

    holder = {}
    t = _ms(lambda: holder.__setitem__("sp", Superpixels(image)), repeat)
    sp = holder["sp"]
    h, w = image.shape[:2]
    stroke = [(w * 0.3 + 10 * i, h * 0.5 + 3 * i) for i in range(20)]
    labels = np.zeros((h, w), np.uint8)
    stroke_t = _ms(lambda: sp.paint(labels, sp.select(stroke, 20), 3), max(repeat, 5))
    return {"image": [w, h], "superpixels": sp.count, "slic": t, "stroke_select_and_paint": stroke_t}


def bench_scissors(image: np.ndarray, repeat: int) -> dict:
    h, w = image.shape[:2]
    a, b = (w // 3, h // 3), (w // 3 + min(200, w // 3), h // 3 + min(20, h // 3))

    def windowed():
        trace = ScissorsTrace(image)
        trace.click(*a)
        trace.click(*b)

    def naive():
        tool = cv2.segmentation.IntelligentScissorsMB()
        tool.setEdgeFeatureCannyParameters(16, 100)
        tool.setGradientMagnitudeMaxLimit(200)
        tool.applyImage(image)
        tool.buildMap(a)
        tool.getContour(b)

    return {"image": [w, h], **_interleaved({"scissors_click": windowed, "naive_full_image": naive}, repeat)}


def _naive_components(gt: np.ndarray, pred: np.ndarray, n: int, min_area: int) -> int:
    from scipy import ndimage

    found = 0
    eight = np.ones((3, 3), bool)
    for t in range(n):
        for p in range(n):
            if t == p:
                continue
            comp, k = ndimage.label((gt == t) & (pred == p), structure=eight)
            if k:
                found += int((np.bincount(comp.ravel())[1:] >= min_area).sum())
    return found


def bench_regions(image: np.ndarray, gt: np.ndarray, rng: np.random.Generator, repeat: int) -> dict:
    results = _results(gt, rng)
    pred = results[8].labels
    n = len(DEMO_CLASSES)
    fast_count = sum(1 for _ in _pair_components(gt, pred, 50, 255))
    naive_count = _naive_components(gt, pred, n, 50)
    assert fast_count == naive_count, (fast_count, naive_count)
    comps = _interleaved({
        "pair_components": lambda: sum(1 for _ in _pair_components(gt, pred, 50, 255)),
        "naive_scipy_per_pair": lambda: _naive_components(gt, pred, n, 50),
    }, repeat)
    regions = extract_regions(image, gt, results, 8)
    return {"image": list(gt.shape[::-1]), "regions": len(regions),
            "error_fraction": round(float(((gt != pred) & (gt != 255)).mean()), 3),
            "extract_regions": _ms(lambda: extract_regions(image, gt, results, 8), repeat),
            "components_ms": comps}


def bench_dataset(count: int, size: tuple[int, int]) -> dict:
    rng = np.random.default_rng(7)
    images, labels, preds = {}, {}, {}
    for i in range(count):
        stem = f"s{i:05d}"
        images[stem], labels[stem] = make_demo_sample(i, 3, size)
        preds[stem] = _results(labels[stem], rng)
    samples = [SimpleNamespace(stem=s, label_path=s) for s in images]
    dataset = SimpleNamespace(split=lambda name: samples, image=images.__getitem__, label=labels.__getitem__,
                              class_names=list(DEMO_CLASSES))
    source = SimpleNamespace(strides=(32, 16, 8), stride_known=True, results=lambda stem, img: preds[stem])
    t = time.perf_counter()
    records, info = dataset_regions(dataset, source, stride=8)
    total = time.perf_counter() - t
    text = json.dumps({"regions": records})
    return {"images": count, "image": list(size), "regions": len(records),
            "label_suspect": sum(r["verdict"] == "label_suspect" for r in records),
            "total_s": round(total, 2), "per_image_ms": round(total / count * 1000, 2),
            "json_mb": round(len(text) / 1e6, 2)}


def run(quick: bool = False) -> dict:
    size = (160, 120) if quick else (1632, 1224)  # 1632 x 1224 = 2.0 MP
    repeat = 1 if quick else 3
    image, gt = make_demo_sample(1, 5, size)
    rng = np.random.default_rng(0)
    return {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "opencv": cv2.__version__},
        "grabcut_2mp": bench_grabcut(image, gt, repeat),
        "superpixels_2mp": bench_superpixels(image, repeat),
        "scissors_2mp": bench_scissors(image, repeat),
        "regions_2mp": bench_regions(image, gt, rng, repeat),
        "dataset_regions_1000": bench_dataset(10 if quick else 1000, (64, 48) if quick else (160, 120)),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repetition (for the tests)")
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args()
    out = json.dumps(run(args.quick), indent=1)
    print(out)
    if args.json_out:
        Path(args.json_out).write_text(out + "\n")
