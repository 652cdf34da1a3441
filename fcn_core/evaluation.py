"""Scoring predictions over a set: a model on a dataset (every stride at once), or two folders of label PNGs.

Shared by ``fcn evaluate`` and the GUI. A report is a plain dict: ``pixel_acc, mean_acc, mean_iu, fw_iu``
(fractions), ``per_class`` (name → {iu, acc}), ``per_image`` (stem → {mean_iu, pixel_acc, error_frac}),
``confusion`` (list of rows, GT × prediction), plus ``images`` (count of images scored), ``stopped`` and
``failed`` (images that could not be scored: ``[{"stem", "file", "error"}]``; a bad file does not stop a run).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fcn_core import VOID
from fcn_core.data.atomic import atomic_write_text
from fcn_core.data.errors import DataError, failure
from fcn_core.data.names import name_key
from fcn_core.metrics import (
    confusion_matrix,
    image_scores_from_confusion,
    scores_from_confusion,
)

if TYPE_CHECKING:
    from fcn_core.data.formats.guards import NearbyColourTable

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]
#: ``on_image(stem, matrices, error)`` once per image: ``matrices`` is ``{stride: confusion matrix}`` (int64,
#: rows GT, columns prediction; folders: the key is 0) and ``error`` None, or ``matrices`` None and ``error``
#: the exception that kept the image from being scored (a DataError names the file).
OnImage = Callable[[str, "dict[int, np.ndarray] | None", "BaseException | None"], None]


def make_report(cm: np.ndarray, class_names: Sequence[str], per_image: dict[str, dict[str, float]],
                stopped: bool = False, failed: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """Assemble a report dict from a set's confusion matrix and per-image scores."""
    report = scores_from_confusion(cm, class_names)
    report["per_image"] = per_image
    report["confusion"] = np.asarray(cm).astype(int).tolist()
    report["images"] = len(per_image)
    report["stopped"] = stopped
    report["failed"] = [dict(f) for f in failed]
    return report


def _names_preview(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(str(n) for n in list(names)[:limit])
    return shown + (", ..." if len(names) > limit else "")


def _generic_names(names: Sequence[str]) -> bool:
    # "0", "1", ... or "class 0", ...: placeholders that say nothing about what a class is.
    return all(re.fullmatch(r"(class)?\d+", name_key(n)) for n in names)


def same_class_names(model_names: Sequence[str], dataset_names: Sequence[str]) -> bool:
    """True when both list the same classes in the same order (case, spaces and punctuation ignored).

    Placeholder names ("0", "class 1", ...) match any names of the same count: they say nothing.
    """
    if len(model_names) != len(dataset_names):
        return False
    if _generic_names(model_names) or _generic_names(dataset_names):
        return True
    return all(name_key(m) == name_key(d) for m, d in zip(model_names, dataset_names))


def class_names_mismatch(model_names: Sequence[str], dataset_names: Sequence[str]) -> str | None:
    """What differs when a model and a dataset with as many classes name them differently, else None.

    Equal counts let evaluation run, but if class i means something else to the model, the scores are
    meaningless; comparison ignores case, spaces and punctuation, and placeholder names are not compared.
    """
    if len(model_names) != len(dataset_names) or _generic_names(model_names) or _generic_names(dataset_names):
        return None
    pairs = enumerate(zip(model_names, dataset_names))
    diffs = [(i, m, d) for i, (m, d) in pairs if name_key(m) != name_key(d)]
    if not diffs:
        return None
    shown = ", ".join(f"{i} is {m!r} vs {d!r}" for i, m, d in diffs[:4])
    return (f"the model's class names differ from the dataset's for {len(diffs)} of {len(model_names)} "
            f"classes ({shown}{', ...' if len(diffs) > 4 else ''})")


def evaluate_dataset(predictor: Any, dataset: Any, split: str | None = None, progress: Progress | None = None,
                     should_stop: ShouldStop | None = None, *, stems: Sequence[str] | None = None,
                     on_image: OnImage | None = None) -> dict[int, dict[str, Any]]:
    """Run ``predictor`` over the labelled samples of ``dataset`` (one split or all); ``{stride: report}``.

    Each image is predicted once for all the model's strides (``predictor.predict(image,
    with_confidence=False)``, or ``predictor.predict_stem(stem, image, with_confidence=False)`` when it has
    that: stored predictions, ``fcn_core.data.predictions.PredictionFolder``; ``predictor`` also needs
    ``num_classes``, ``class_names`` and ``strides``).
    Samples without a label are skipped; ``stems`` evaluates exactly these images instead (in this order;
    one without a label counts as failed). Labels are read with the dataset's void mapping (void 255) and
    corrections applied. An image that cannot be scored (unreadable photo or label, sizes that differ,
    values that are no class, a prediction error) does not stop the run: it is listed in every stride's
    ``failed`` and left out of the scores. ``on_image`` (see :data:`OnImage`) is called once per image,
    ``progress(done, total)`` after it. ``should_stop()`` returning True ends early with the images done so
    far (``stopped`` True). Every stride of the model has a report, also when no image was scored.
    Raises ValueError when the class counts differ and DataError when there is no labelled image at all.
    """
    n = dataset.num_classes
    if predictor.num_classes != n:
        raise ValueError(f"the model predicts {predictor.num_classes} classes "
                         f"({_names_preview(predictor.class_names)}) but dataset {dataset.root} has {n} "
                         f"({_names_preview(dataset.class_names)}); "
                         "use a model trained on this dataset's classes")
    if stems is not None:
        samples = [dataset.sample(stem) for stem in stems]
    else:
        samples = [s for s in dataset.split(split) if s.label_path is not None]
        if not samples:
            raise DataError(dataset.root,
                            f"no labelled images{'' if split is None else f' in split {split!r}'}")
    strides = sorted((int(s) for s in predictor.strides), reverse=True)
    totals = {stride: np.zeros((n, n), dtype=np.int64) for stride in strides}
    per_image: dict[int, dict[str, dict[str, float]]] = {stride: {} for stride in strides}
    failed: list[dict[str, Any]] = []
    stopped = False
    for i, s in enumerate(samples):
        if should_stop is not None and should_stop():
            stopped = True
            break
        try:
            matrices = _score_sample(predictor, dataset, s, n)
        except Exception as exc:  # noqa: BLE001 - one bad image must not stop the run: it is reported
            failed.append(failure(s.stem, exc, s.label_path or s.image_path))
            if on_image is not None:
                on_image(s.stem, None, exc)
        else:
            for stride, cm in matrices.items():
                totals.setdefault(stride, np.zeros((n, n), dtype=np.int64))
                totals[stride] += cm
                per_image.setdefault(stride, {})[s.stem] = image_scores_from_confusion(cm)
            if on_image is not None:
                on_image(s.stem, matrices, None)
        if progress is not None:
            progress(i + 1, len(samples))
    return {stride: make_report(totals[stride], dataset.class_names, per_image[stride], stopped, failed)
            for stride in sorted(totals, reverse=True)}


def _score_sample(predictor: Any, dataset: Any, s: Any, n: int) -> dict[int, np.ndarray]:
    """One image's confusion matrix per stride; raises (a DataError names the file) when it cannot be."""
    gt = dataset.label(s.stem)
    if gt is None:
        raise DataError(s.image_path, "no label to evaluate against")
    image = dataset.image(s.stem)
    if image.shape[:2] != gt.shape:
        raise DataError(s.label_path, f"label is {gt.shape[1]}x{gt.shape[0]} but the image is "
                                      f"{image.shape[1]}x{image.shape[0]}")
    # Labels only (arg-max on the device): scoring needs no softmax/confidence maps. A source of stored
    # predictions (fcn_core.data.predictions.PredictionFolder) looks them up by stem instead; a predictor
    # that reads extra inputs (depth, HHA) or scores another head takes the whole sample.
    by_stem = getattr(predictor, "predict_stem", None)
    predict_sample = getattr(predictor, "predict_sample", None)
    if by_stem is not None:
        results = by_stem(s.stem, image, with_confidence=False)
    elif predict_sample is not None:
        results = predict_sample(dataset, s.stem, image)
    else:
        results = predictor.predict(image, with_confidence=False)
    return {int(stride): confusion_matrix(gt, result.labels, n) for stride, result in results.items()}


def _label_files(folder: Path, side: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise DataError(folder, f"{side} folder not found")
    files: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() != ".png" or p.name.startswith("."):
            continue
        if p.stem in files:
            raise DataError(p, f"duplicate stem {p.stem!r} in the {side} folder")
        files[p.stem] = p
    if not files:
        raise DataError(folder, f"no label PNGs in the {side} folder")
    return files


def _names_near(folder: Path) -> list[str] | None:
    for cand in (folder / "class_names.txt", folder.parent / "class_names.txt"):
        if cand.is_file():
            return [ln.strip() for ln in cand.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return None


def stride_folders(pred_dir: str | os.PathLike[str]) -> dict[int, Path]:
    """``{stride: folder}`` for a prediction store laid out as ``fcn predict --stride all`` writes it
    (``32s/``, ``16s/``, ``8s/`` and no PNGs at the top), coarsest first; ``{}`` for a plain folder."""
    root = Path(pred_dir)
    if not root.is_dir() or any(p.suffix.lower() == ".png" for p in root.iterdir()):
        return {}
    found = {int(p.name[:-1]): p for p in root.iterdir()
             if p.is_dir() and re.fullmatch(r"\d+s", p.name) and int(p.name[:-1]) > 0}
    return dict(sorted(found.items(), reverse=True))


def evaluate_folders(pred_dir: str | os.PathLike[str], gt_dir: str | os.PathLike[str], *,
                     num_classes: int | None = None, ignore_index: int = VOID,
                     class_names: Sequence[str] | None = None, progress: Progress | None = None,
                     should_stop: ShouldStop | None = None,
                     on_image: OnImage | None = None) -> dict[str, Any]:
    """Compare prediction label PNGs with ground-truth label PNGs matched by file stem; one report.

    Ground-truth pixels equal to ``ignore_index`` are void. ``num_classes`` defaults to the length of a
    ``class_names.txt`` beside the GT folder, else to the largest label value seen + 1. Files present on only
    one side are a DataError naming them (nothing is scored). A pair that cannot be scored (unreadable file,
    sizes that differ, values out of range) is listed in ``failed`` and the others are scored; ``on_image``
    (see :data:`OnImage`, stride key 0) is called once per pair. Streams: one image pair is in memory at a
    time (plus the per-image scores), whatever the number of files.
    """
    from fcn_core.data.formats.guards import NearbyColourTable, refuse_instance_maps

    refuse_instance_maps(Path(pred_dir), "--pred (predicted class labels)")
    refuse_instance_maps(Path(gt_dir), "--gt (ground-truth class labels)")
    pred_files = _label_files(Path(pred_dir), "prediction")
    gt_files = _label_files(Path(gt_dir), "ground-truth")
    only_pred = sorted(set(pred_files) - set(gt_files))
    only_gt = sorted(set(gt_files) - set(pred_files))
    if only_pred or only_gt:
        parts = []
        if only_gt:
            parts.append(f"no prediction for {len(only_gt)} GT file(s): {', '.join(only_gt[:5])}"
                         f"{' ...' if len(only_gt) > 5 else ''} (looked in {pred_dir})")
        if only_pred:
            parts.append(f"no ground truth for {len(only_pred)} prediction(s): {', '.join(only_pred[:5])}"
                         f"{' ...' if len(only_pred) > 5 else ''} (looked in {gt_dir})")
        raise DataError(gt_dir if only_gt else pred_dir, "; ".join(parts))
    # Colour (RGB) labels are decoded through the colour table beside them, never through guessed colours.
    gt_table = NearbyColourTable(Path(gt_dir))
    pred_table = NearbyColourTable(Path(pred_dir), fallback=gt_table)
    if class_names is None:
        class_names = _names_near(Path(gt_dir)) or gt_table.names()
    if num_classes is None and class_names is not None:
        num_classes = len(class_names)
    # Without a class count, accumulate over all 256 values and trim to the largest one used.
    width = num_classes if num_classes is not None else 256
    total = np.zeros((width, width), dtype=np.int64)
    per_image: dict[str, dict[str, float]] = {}
    failed: list[dict[str, Any]] = []
    stems = sorted(gt_files)
    stopped = False
    for i, stem in enumerate(stems):
        if should_stop is not None and should_stop():
            stopped = True
            break
        try:
            cm = _score_pair(pred_files[stem], gt_files[stem], width, num_classes, ignore_index,
                             pred_table, gt_table, class_names)
        except DataError as exc:  # one bad file must not stop the run: it is reported
            failed.append(failure(stem, exc))
            if on_image is not None:
                on_image(stem, None, exc)
        else:
            total += cm
            per_image[stem] = image_scores_from_confusion(cm)
            if on_image is not None:
                on_image(stem, {0: cm}, None)
        if progress is not None:
            progress(i + 1, len(stems))
    if num_classes is None:
        used = np.flatnonzero(total.sum(axis=0) + total.sum(axis=1))
        n = int(used.max()) + 1 if used.size else 1
        total = total[:n, :n]
    names = list(class_names) if class_names is not None else [str(i) for i in range(total.shape[0])]
    return make_report(total, names, per_image, stopped, failed)


def _score_pair(pred_path: Path, gt_path: Path, width: int, num_classes: int | None, ignore_index: int,
                pred_table: NearbyColourTable, gt_table: NearbyColourTable,
                class_names: Sequence[str] | None) -> np.ndarray:
    """The confusion matrix of one prediction file against its GT file; DataError naming the bad file.
    Colour (RGB) labels are decoded through the colour table beside them, never through guessed colours."""
    from fcn_core.data.formats.guards import read_folder_label

    try:
        gt = read_folder_label(gt_path, table=gt_table, class_names=class_names, void_value=ignore_index,
                               num_classes=num_classes)
    except DataError as exc:
        if "neither classes" not in exc.problem:
            raise
        # Typically a dataset whose void is not 255 (CamVid: 11): say how to tell us.
        raise DataError(exc.path, f"{exc.problem} (ignore index {ignore_index}); if one of these values "
                                  "marks void, pass it as the ignore index (--ignore-index)") from exc
    pred = read_folder_label(pred_path, table=pred_table, class_names=class_names)
    if gt.shape != pred.shape:
        raise DataError(pred_path, f"prediction is {pred.shape[1]}x{pred.shape[0]} but ground "
                                   f"truth {gt_path} is {gt.shape[1]}x{gt.shape[0]}")
    try:
        return confusion_matrix(gt, pred, width, VOID)
    except ValueError as exc:
        raise DataError(pred_path, str(exc)) from exc


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float):
        return None if math.isnan(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def reports_to_json(reports: dict[int, dict[str, Any]] | dict[str, Any]) -> dict[str, Any]:
    """JSON-ready form (NaN → null): one stride → the report itself; several → ``{"32s": ..., "8s": ...}``."""
    if "pixel_acc" in reports:
        return _jsonable(reports)
    if len(reports) == 1:
        return _jsonable(next(iter(reports.values())))
    return {f"{stride}s": _jsonable(r) for stride, r in reports.items()}


def write_csv(path: str | os.PathLike[str], reports: dict[int, dict[str, Any]]) -> None:
    """Per-image scores as CSV (stem, stride, mean_iu, pixel_acc, error_frac), written atomically."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["stem", "stride", "mean_iu", "pixel_acc", "error_frac"])
    for stride, rep in reports.items():
        for stem, sc in rep["per_image"].items():
            w.writerow([stem, stride, *(f"{sc[k]:.6f}" for k in ("mean_iu", "pixel_acc", "error_frac"))])
    atomic_write_text(path, buf.getvalue())


def format_reports(reports: dict[int, dict[str, Any]]) -> str:
    """A readable table: the four numbers per stride (percent), then per-class IU."""
    strides = list(reports)
    head = f"{'':22}" + "".join(f"{(str(s) + 's') if isinstance(s, int) else s:>10}" for s in strides)
    lines = [head]
    for key, title in (("pixel_acc", "pixel acc."), ("mean_acc", "mean acc."), ("mean_iu", "mean IU"),
                       ("fw_iu", "f.w. IU")):
        lines.append(f"{title:22}" + "".join(f"{100 * reports[s][key]:10.2f}" for s in strides))
    lines.append("")
    lines.append(f"{'class IU':22}" + "".join(f"{'':10}" for _ in strides))
    for name in reports[strides[0]]["per_class"]:
        vals = [reports[s]["per_class"][name]["iu"] for s in strides]
        cells = "".join(f"{'-':>10}" if math.isnan(v) else f"{100 * v:10.2f}" for v in vals)
        lines.append(f"  {name[:20]:20}" + cells)
    first = reports[strides[0]]
    lines.append("")
    lines.append(f"{first['images']} images" + ("  (stopped early)" if first.get("stopped") else ""))
    return "\n".join(lines)
