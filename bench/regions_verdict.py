"""How well does the error-region verdict find corrupted labels? Prints JSON.

On the demo dataset's val split (``fcn demo-data``; the cached copy the app uses unless ``--data``), with the
bundled model ``resources/demo/model.safetensors``:

1. predict every image once (all strides, confidence maps);
2. corrupt a known 10 % of the ground-truth objects (an object = an 8-connected component of one class,
   100 px up to 20 % of the image; the set-wide sample is drawn with ``--seed``): *swap* (another class),
   *erase* (painted with the class that surrounds it) or *shift* (its border moved 4–8 px out or in);
3. extract the regions (``fcn_core.regions.extract_regions``) against the corrupted and the clean labels.

A region is *corrupted* when at least half of its pixels are pixels the corruption changed. Reported:
``precision`` = corrupted regions among those flagged ``label_suspect``; ``recall`` = flagged among the
corrupted regions (also per corruption kind); ``corruptions_found`` = corruptions with at least one flagged
corrupted region inside them, over all corruptions (``corruptions_visible``: those with any region at all);
``false_alarms_per_image`` = ``label_suspect`` regions per image against the clean labels (all are false).

``without_edge_test`` is the rule with its third test (outline contrast) switched off, for comparison.
``--tune-seed S`` also searches the thresholds on corruption seed S (best F1 there) and reports what they
give on ``--seed``, next to the module's defaults: tune on one seed, report on another.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fcn_core.regions import LABEL_SUSPECT, Verdict, extract_regions  # noqa: E402

FRACTION = 0.10
OBJECTIVE = "f0.5"  # a flagged region costs a reviewer's look: precision counts twice as much as recall
MIN_OBJECT_PX = 100
MAX_OBJECT_FRACTION = 0.20
KINDS = ("swap", "erase", "shift")
GRID = {
    "confidence_min": (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9),  # 0.5: the class beats all others together
    "agreement_min": (0.25, 0.5, 0.75),  # the rule asks for consistency: at least a quarter
    "edge_ratio_min": (1.0, 1.25, 1.5, 2.0, 3.0),
    "swap_confidence_min": (0.8, 0.9, 0.95, 0.99, 1.01),  # 1.01: never flag a swap
    "object_fraction_min": (0.5, 0.8, 0.95, 1.01),  # 1.01: no whole-object branch
    "whole_object_min_area": (0.002, 0.005, 0.01),
}


def _objects(gt: np.ndarray, void: int = 255) -> list[tuple[int, np.ndarray]]:
    """``(class, bool mask)`` of every object of ``gt``."""
    out = []
    limit = MAX_OBJECT_FRACTION * gt.size
    for c in np.unique(gt):
        if c == void:
            continue
        n, comp, stats, _ = cv2.connectedComponentsWithStats((gt == c).view(np.uint8), connectivity=8)
        h, w = gt.shape
        for k in range(1, n):
            x, y, bw, bh, area = stats[k]
            if x == 0 or y == 0 or x + bw == w or y + bh == h:  # a piece of sky or road cut off by a wire
                continue
            if MIN_OBJECT_PX <= area <= limit:
                out.append((int(c), comp == k))
    return out


def _surrounding_class(gt: np.ndarray, mask: np.ndarray, void: int = 255) -> int | None:
    ring = cv2.dilate(mask.view(np.uint8), np.ones((7, 7), np.uint8)).view(bool) & ~mask
    values = gt[ring]
    values = values[values != void]
    return int(np.bincount(values).argmax()) if values.size else None


def corrupt(gts: dict[str, np.ndarray], num_classes: int, seed: int) -> tuple[dict, list[dict]]:
    """Corrupt ``FRACTION`` of all objects of ``gts``; returns the new labels and the record of what was
    done."""
    rng = np.random.default_rng(seed)
    pool = [(stem, c, m) for stem in sorted(gts) for c, m in _objects(gts[stem])]
    picked = rng.choice(len(pool), size=max(1, round(FRACTION * len(pool))), replace=False)
    out = {stem: gt.copy() for stem, gt in gts.items()}
    record = []
    for i in sorted(picked):
        stem, c, mask = pool[i]
        lab = out[stem]
        kind = KINDS[int(rng.integers(len(KINDS)))]
        around = _surrounding_class(lab, mask)
        if kind == "swap":
            new = int(rng.choice([k for k in range(num_classes) if k != c]))
            lab[mask] = new
        elif kind == "erase":
            if around is None or around == c:
                continue
            lab[mask] = around
        else:
            d = int(rng.integers(4, 9))
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * d + 1, 2 * d + 1))
            grown = bool(rng.integers(2))
            shrunk = cv2.erode(mask.view(np.uint8), kernel).view(bool)
            if not grown and shrunk.sum() < 0.2 * mask.sum():  # too thin to move its border inwards
                grown = True
            if grown:
                lab[cv2.dilate(mask.view(np.uint8), kernel).view(bool) & (lab != 255)] = c
            else:
                if around is None or around == c:
                    continue
                lab[mask & ~shrunk] = around
            kind = "shift_out" if grown else "shift_in"
        record.append({"image": stem, "class": c, "kind": kind, "mask": mask})
    for r in record:  # the pixels each corruption changed, in the final labels
        r["mask"] = (out[r["image"]] != gts[r["image"]]) & _near(r["mask"], 9)
        r["pixels"] = int(r["mask"].sum())
    return out, record


def _near(mask: np.ndarray, radius: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.view(np.uint8), kernel).view(bool)


def _score(regions_by_image, record, verdict: Verdict) -> dict:
    flagged = tp = corrupted = found_tp = 0
    by_kind: dict[str, list[int]] = {}
    hits: set[int] = set()
    for regions in regions_by_image.values():
        for reg in regions:
            is_bad = reg.is_bad
            suspect = verdict(reg) == LABEL_SUSPECT
            flagged += int(suspect)
            corrupted += int(is_bad)
            tp += int(suspect and is_bad)
            if is_bad:
                kind = reg.kind
                by_kind.setdefault(kind, [0, 0])
                by_kind[kind][0] += suspect
                by_kind[kind][1] += 1
                if suspect:
                    hits.update(reg.corruptions)
    found_tp = len(hits)
    visible = len({i for regions in regions_by_image.values() for reg in regions for i in reg.corruptions})
    precision = tp / flagged if flagged else None
    recall = tp / corrupted if corrupted else None
    f1 = (2 * precision * recall / (precision + recall)) if precision and recall else 0.0
    f05 = (1.25 * precision * recall / (0.25 * precision + recall)) if precision and recall else 0.0
    return {
        "flagged": flagged, "corrupted_regions": corrupted, "true_positives": tp,
        "precision": None if precision is None else round(precision, 3),
        "recall": None if recall is None else round(recall, 3), "f1": round(f1, 3), "f0.5": round(f05, 3),
        "recall_by_kind": {k: {"flagged": v[0], "regions": v[1], "recall": round(v[0] / v[1], 3)}
                           for k, v in sorted(by_kind.items())},
        "corruptions": len(record), "corruptions_visible": visible, "corruptions_found": found_tp,
    }


def _annotate(regions_by_image, changed_by_image, record):
    """Attach to every region whether it is corrupted, the corruptions it lies in (by index) and the kind of
    the biggest overlap."""
    for stem, regions in regions_by_image.items():
        mine = [(i, r) for i, r in enumerate(record) if r["image"] == stem]
        for reg in regions:
            x0, y0, x1, y1 = reg.box
            reg.is_bad = bool(changed_by_image[stem][y0:y1, x0:x1][reg.mask].mean() >= 0.5)
            overlaps = [(int(r["mask"][y0:y1, x0:x1][reg.mask].sum()), i, r["kind"]) for i, r in mine]
            overlaps = [o for o in overlaps if o[0] > 0]
            reg.corruptions = [i for n, i, _ in overlaps if n >= 0.5 * reg.area]
            reg.kind = max(overlaps)[2] if overlaps else "none"


def _false_alarms(clean_regions, verdict: Verdict) -> dict:
    n = len(clean_regions)
    flagged = sum(int(verdict(r) == LABEL_SUSPECT) for regions in clean_regions.values() for r in regions)
    total = sum(len(regions) for regions in clean_regions.values())
    return {"images": n, "regions_per_image": round(total / n, 2), "false_alarms": flagged,
            "false_alarms_per_image": round(flagged / n, 3)}


def _evaluate(images, gts, results, num_classes, seed, stride, verdicts: dict[str, Verdict]):
    corrupted, record = corrupt(gts, num_classes, seed)
    regions = {s: extract_regions(images[s], corrupted[s], results[s], stride) for s in images}
    changed = {s: corrupted[s] != gts[s] for s in images}
    _annotate(regions, changed, record)
    kinds: dict[str, int] = {}
    for r in record:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    return regions, changed, record, {name: _score(regions, record, v) for name, v in verdicts.items()}, kinds


def _tune(regions, changed, record) -> tuple[Verdict, dict]:
    """The grid point with the best objective (then precision); the module's defaults win ties."""
    best, best_key = None, None
    for values in [tuple(getattr(Verdict(), k) for k in GRID), *itertools.product(*GRID.values())]:
        v = Verdict(**dict(zip(GRID, values)))
        s = _score(regions, record, v)
        key = (s[OBJECTIVE], s["precision"] or 0.0)
        if best_key is None or key > best_key:
            best, best_key = (v, s), key
    return best


def _verdict_dict(v: Verdict) -> dict:
    return {k: getattr(v, k) for k in GRID}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None, help="dataset folder (default: the demo dataset in the cache)")
    ap.add_argument("--weights", default=None, help="default: resources/demo/model.safetensors")
    ap.add_argument("--split", default="val")
    ap.add_argument("--stride", type=int, default=8)
    ap.add_argument("--limit", type=int, default=None, help="first N images of the split only")
    ap.add_argument("--seed", type=int, default=2, help="corruption seed reported (default 2)")
    ap.add_argument("--tune-seed", type=int, default=None, help="search the thresholds on this seed first")
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args(argv)

    import torch

    from fcn_core.data.datasets import open_dataset
    from fcn_core.predictor import Predictor
    from fcn_core.resources import DEMO_MODEL, ensure_demo_dataset
    from fcn_core.weights import load_model

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
    data = Path(args.data) if args.data else ensure_demo_dataset()
    dataset = open_dataset(data)
    samples = dataset.split(args.split) if args.split else [dataset.sample(s) for s in dataset.stems]
    samples = samples[: args.limit] if args.limit else samples
    predictor = Predictor(load_model(args.weights or DEMO_MODEL), device="cpu")
    t0 = time.perf_counter()
    images = {s.stem: dataset.image(s.stem) for s in samples}
    gts = {s.stem: dataset.label(s.stem) for s in samples}
    results = {stem: predictor.predict(img) for stem, img in images.items()}
    predict_s = time.perf_counter() - t0

    defaults = Verdict()
    # the same rule without its edge test: confident and consistent is enough
    no_edges = Verdict(edge_ratio_min=0.0, swap_confidence_min=defaults.confidence_min)
    verdicts = {"defaults": defaults, "without_edge_test": no_edges}
    out: dict = {"dataset": str(data), "split": args.split, "images": len(images), "stride": args.stride,
                 "fraction_corrupted": FRACTION, "predict_s": round(predict_s, 2)}
    if args.tune_seed is not None:
        regions, changed, record, _, kinds = _evaluate(images, gts, results, dataset.num_classes,
                                                       args.tune_seed, args.stride, verdicts)
        tuned, tuned_score = _tune(regions, changed, record)
        verdicts["tuned"] = tuned
        out["tune"] = {"seed": args.tune_seed, "corruptions_by_kind": kinds,
                       "thresholds": _verdict_dict(tuned), "score": tuned_score}
    t1 = time.perf_counter()
    regions, changed, record, scores, kinds = _evaluate(images, gts, results, dataset.num_classes, args.seed,
                                                        args.stride, verdicts)
    clean = {s: extract_regions(images[s], gts[s], results[s], args.stride) for s in images}
    out["report"] = {
        "seed": args.seed, "corruptions_by_kind": kinds, "extract_s": round(time.perf_counter() - t1, 2),
        **{name: {"thresholds": _verdict_dict(v), **scores[name], "clean": _false_alarms(clean, v)}
           for name, v in verdicts.items()},
    }
    text = json.dumps(out, indent=1)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    return out


if __name__ == "__main__":
    main()
