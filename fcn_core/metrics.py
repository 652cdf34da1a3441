"""The paper's metrics (Long, Shelhamer, Darrell §5) from a confusion matrix summed over a whole set.

``n[i, j]`` = pixels of ground-truth class i predicted as j (rows = GT, columns = prediction), void pixels
ignored; ``t_i = Σ_j n_ij``. Pixel accuracy Σ n_ii / Σ t_i; mean accuracy (1/n_cl) Σ n_ii / t_i; mean IU
(1/n_cl) Σ n_ii / (t_i + Σ_j n_ji − n_ii); frequency-weighted IU
(Σ t_k)⁻¹ Σ t_i n_ii / (t_i + Σ_j n_ji − n_ii).
Classes absent from both GT and prediction are NaN and left out of the means.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fcn_core import VOID


def confusion_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int,
                     ignore_index: int = VOID) -> np.ndarray:
    """``int64 (n, n)`` confusion matrix, rows = GT, columns = prediction; GT ``ignore_index`` skipped.

    GT values outside ``0..n-1`` (other than ``ignore_index``) are a ValueError; predicted values outside
    that range are counted nowhere but are still errors for pixel accuracy, so they raise too.
    """
    gt = np.asarray(gt)
    pred = np.asarray(pred)
    if gt.shape != pred.shape:
        raise ValueError(f"ground truth {gt.shape} and prediction {pred.shape} differ in size")
    if gt.dtype == np.uint8 and pred.dtype == np.uint8 and 0 <= ignore_index <= 255:
        return _confusion_uint8(gt, pred, num_classes, ignore_index)
    g = gt.ravel()
    p = pred.ravel()
    keep = g != ignore_index
    if not keep.all():
        g = g[keep]
        p = p[keep]
    g = g.astype(np.int64, copy=False)
    p = p.astype(np.int64, copy=False)
    if g.size and (g.min() < 0 or g.max() >= num_classes):
        raise ValueError(f"ground truth has values outside 0..{num_classes - 1}: "
                         f"{np.unique(g[(g < 0) | (g >= num_classes)])[:10].tolist()}")
    if p.size and (p.min() < 0 or p.max() >= num_classes):
        raise ValueError(f"prediction has values outside 0..{num_classes - 1} on non-void pixels: "
                         f"{np.unique(p[(p < 0) | (p >= num_classes)])[:10].tolist()}")
    # One bincount over combined indices: the fast path for thousands of images.
    counts = np.bincount(g * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def _confusion_uint8(gt: np.ndarray, pred: np.ndarray, n: int, ignore_index: int) -> np.ndarray:
    # Fast path for uint8 maps (5x quicker): one bincount over all 256x256 (gt, pred) pairs, no masking;
    # the void row is dropped afterwards and anything outside 0..n-1 is reported from the counts.
    key = (gt.astype(np.uint16) << 8) | pred
    full = np.bincount(key.ravel(), minlength=65536).reshape(256, 256)
    full[ignore_index, :] = 0
    bad_gt = np.flatnonzero(full[n:].sum(axis=1))
    if bad_gt.size:
        raise ValueError(f"ground truth has values outside 0..{n - 1}: {(bad_gt + n)[:10].tolist()}")
    bad_pred = np.flatnonzero(full[:n, n:].sum(axis=0))
    if bad_pred.size:
        raise ValueError(f"prediction has values outside 0..{n - 1} on non-void pixels: "
                         f"{(bad_pred + n)[:10].tolist()}")
    return np.ascontiguousarray(full[:n, :n]).astype(np.int64, copy=False)


def _per_class(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    t = cm.sum(axis=1)  # GT pixels per class
    predicted = cm.sum(axis=0)
    union = t + predicted - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        iu = np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)
        # Accuracy of a class missing from GT is undefined (no t_i); NaN keeps it out of the mean.
        acc = np.where(t > 0, tp / np.where(t > 0, t, 1), np.nan)
    return iu, acc, t


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else float("nan")


def scores_from_confusion(cm: np.ndarray, class_names: Sequence[str] | None = None) -> dict:
    """The four numbers (fractions 0..1) and ``per_class = {name: {"iu", "acc"}}`` from a confusion matrix.

    A class absent from both GT and prediction has NaN IU and accuracy and is skipped in the means; a class
    predicted but absent from GT has IU 0 (counted) and accuracy NaN.
    """
    cm = np.asarray(cm)
    n = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    if len(names) < n:
        names += [str(i) for i in range(len(names), n)]
    iu, acc, t = _per_class(cm)
    total = float(t.sum())
    tp_total = float(np.trace(cm))
    valid = ~np.isnan(iu)
    return {
        "pixel_acc": tp_total / total if total > 0 else float("nan"),
        "mean_acc": _nanmean(acc),
        "mean_iu": _nanmean(iu),
        "fw_iu": float((t[valid] * iu[valid]).sum() / total) if total > 0 else float("nan"),
        "per_class": {names[i]: {"iu": float(iu[i]), "acc": float(acc[i])} for i in range(n)},
    }


def image_scores_from_confusion(cm: np.ndarray) -> dict[str, float]:
    """One image's ``mean_iu``, ``pixel_acc`` and ``error_frac`` (wrong / non-void pixels) from its matrix."""
    s = scores_from_confusion(cm)
    return {"mean_iu": s["mean_iu"], "pixel_acc": s["pixel_acc"],
            "error_frac": (1.0 - s["pixel_acc"]) if np.asarray(cm).sum() else float("nan")}


def image_scores(gt: np.ndarray, pred: np.ndarray, num_classes: int, ignore_index: int = VOID) -> dict:
    """One image's ``mean_iu``, ``pixel_acc`` and ``error_frac`` (wrong / non-void pixels)."""
    return image_scores_from_confusion(confusion_matrix(gt, pred, num_classes, ignore_index))


def stride_confusions(gt: np.ndarray, labels_by_stride: dict, num_classes: int,
                      ignore_index: int = VOID) -> dict[int, np.ndarray]:
    """``{stride: confusion matrix}`` of one image's ground truth against each stride's predicted labels.

    ``labels_by_stride`` maps a stride to a label array or to anything with ``.labels`` (a StrideResult).
    The one per-image function behind ``fcn evaluate`` (through :class:`ConfusionAccumulator`) and the app.
    """
    out: dict[int, np.ndarray] = {}
    for stride, value in labels_by_stride.items():
        labels = getattr(value, "labels", value)
        out[int(stride)] = confusion_matrix(gt, labels, num_classes, ignore_index)
    return out


def error_map(gt: np.ndarray, pred: np.ndarray, ignore_index: int = VOID) -> np.ndarray:
    """Boolean ``(H, W)``: True where the prediction differs from non-void ground truth."""
    gt = np.asarray(gt)
    return (gt != np.asarray(pred)) & (gt != ignore_index)


class ConfusionAccumulator:
    """Sums confusion matrices image by image; ``scores()`` gives the set's numbers."""

    def __init__(self, num_classes: int, ignore_index: int = VOID) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
        self.images = 0

    def update(self, gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Add one image; returns that image's own confusion matrix."""
        cm = confusion_matrix(gt, pred, self.num_classes, self.ignore_index)
        self.matrix += cm
        self.images += 1
        return cm

    def reset(self) -> None:
        """Forget everything accumulated."""
        self.matrix[:] = 0
        self.images = 0

    def scores(self, class_names: Sequence[str] | None = None) -> dict:
        """:func:`scores_from_confusion` of the accumulated matrix."""
        return scores_from_confusion(self.matrix, class_names)
