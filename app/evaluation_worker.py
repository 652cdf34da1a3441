"""The whole-dataset evaluation's worker (runs in its own QThread: scores each image at every stride,
sums the confusion matrices, pauses while the user's own request is in flight) and its result."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from app.workers import describe_error


@dataclass
class EvaluationResult:
    """Totals per stride plus, per image, its non-zero (gt, pred) pixel counts."""

    strides: tuple[int, ...]
    class_names: list[str]
    matrices: dict[int, np.ndarray]
    scores: dict[int, dict]
    pairs: dict[int, dict[tuple[int, int], dict[str, int]]] = field(default_factory=dict)
    images: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0
    split: str = "all"  # the dataset split scored (app.split_filter.ALL = every image)
    split_size: int = 0  # labelled images of that split asked for

    def images_with(self, stride: int, gt: int, pred: int) -> list[tuple[str, int]]:
        """Images with pixels of class ``gt`` predicted as ``pred``, most pixels first."""
        found = self.pairs.get(stride, {}).get((gt, pred), {})
        return sorted(found.items(), key=lambda kv: -kv[1])


class EvaluationWorker(QObject):
    """Runs on its own QThread; scores every image at every stride with the shared model set."""

    progress = Signal(int, int)  # done, total
    image_scored = Signal(str, object, object)  # stem, {stride: scores}, classes present
    image_failed = Signal(str, str)
    finished = Signal(object)  # EvaluationResult

    #: Longest wait for an interactive request before evaluating anyway (a lost answer cannot stall it).
    HOLD_LIMIT_S = 10.0

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self._hold = threading.Event()
        self.image_seconds: list[float] = []  # compute time per image of the current run (waits excluded)

    def cancel(self) -> None:
        """Thread-safe: stop after the image in flight."""
        self._stop.set()

    def hold(self) -> None:
        """Thread-safe: the user asked for an image; start no new image until ``release()``."""
        self._hold.set()

    def release(self) -> None:
        """Thread-safe: the interactive answer is on screen; go on evaluating."""
        self._hold.clear()

    def _wait_while_held(self) -> None:
        """Between images: let the interactive prediction have the CPU/GPU first."""
        deadline = time.perf_counter() + self.HOLD_LIMIT_S
        while self._hold.is_set() and not self._stop.is_set() and time.perf_counter() < deadline:
            time.sleep(0.005)
        if self._hold.is_set() and time.perf_counter() >= deadline:
            self._hold.clear()  # the answer was lost (e.g. dropped request): do not wait at every image

    @Slot(object, object, object)
    def run(self, dataset, models, stems: list[str]) -> None:
        """Evaluate ``stems`` of ``dataset`` with ``models`` (an app.model_set.ModelSet)."""
        from fcn_core.metrics import confusion_matrix, scores_from_confusion

        self._stop.clear()
        self.image_seconds = []
        t0 = time.perf_counter()
        n = models.num_classes
        names = list(models.class_names)
        result = EvaluationResult(tuple(models.strides), names, {s: np.zeros((n, n), np.int64)
                                                                  for s in models.strides}, {})
        result.pairs = {s: {} for s in models.strides}
        for i, stem in enumerate(stems):
            self._wait_while_held()
            if self._stop.is_set():
                result.cancelled = True
                break
            t_image = time.perf_counter()
            try:
                image, gt = dataset.image(stem), dataset.label(stem)
                if gt is None:
                    raise ValueError(f"{stem}: no ground-truth label to evaluate against")
                preds = models.predict(image)
            except Exception as exc:  # noqa: BLE001 - one bad image must not stop the run
                result.failed.append((stem, describe_error(exc)))
                self.image_failed.emit(stem, describe_error(exc))
                self.progress.emit(i + 1, len(stems))
                continue
            per_image = {}
            for s, res in preds.items():
                cm = confusion_matrix(gt, res.labels, n)
                result.matrices[s] += cm
                g_idx, p_idx = np.nonzero(cm)
                for g, p in zip(g_idx.tolist(), p_idx.tolist()):
                    result.pairs[s].setdefault((g, p), {})[stem] = int(cm[g, p])
                total = int(cm.sum())
                iu = _image_mean_iu(cm)
                acc = float(np.trace(cm) / total) if total else float("nan")
                per_image[s] = {"mean_iu": iu, "pixel_acc": acc, "error_frac": 1.0 - acc,
                                "mean_conf": float(np.mean(res.confidence))}
            present = np.flatnonzero(np.bincount(gt.ravel(), minlength=256)[:255]).tolist()
            result.images += 1
            self.image_seconds.append(time.perf_counter() - t_image)
            self.image_scored.emit(stem, per_image, present)
            self.progress.emit(i + 1, len(stems))
        result.scores = {s: scores_from_confusion(m, names) for s, m in result.matrices.items()}
        result.seconds = time.perf_counter() - t0
        self.finished.emit(result)


def _image_mean_iu(cm: np.ndarray) -> float:
    """Mean IU of one image's confusion matrix over classes present in its GT or prediction."""
    tp = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - tp
    valid = union > 0
    return float(np.mean(tp[valid] / union[valid])) if valid.any() else float("nan")
