"""Per-image confusion matrices and the dataset totals made from them (Qt-free).

Every image's scores come from its own confusion matrix per stride (``fcn_core.metrics.stride_confusions``:
its ground truth against its own prediction). The dataset's matrix per stride is the sum over the images of
the evaluation set; when one image's labels change, its old matrix is subtracted and the new one added, so the
four metrics, per-class IU and the confusion heatmap are live without re-evaluating (as FiftyOne keeps
per-sample results beside the aggregate).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.events import Event
from fcn_core.metrics import image_scores_from_confusion, scores_from_confusion


def row_from_confusion(cm: np.ndarray, mean_conf: float | None = None) -> dict:
    """The browser's numbers for one image at one stride: mean IU, pixel accuracy, error fraction,
    per-class IU (NaN for classes absent from both GT and prediction), and the mean confidence when known."""
    row: dict = dict(image_scores_from_confusion(cm))
    row["per_class_iu"] = [v["iu"] for v in scores_from_confusion(cm)["per_class"].values()]
    if mean_conf is not None:
        row["mean_conf"] = float(mean_conf)
    return row


class ScoreBook:
    """Scores of one (dataset, model) pair: each image's matrices, and totals over the evaluation set.

    ``members`` are the images counted in the totals (the last evaluation's set, in scoring order); other
    images can have scores (seen while browsing) without being counted. Events: ``image_changed(stem)``
    after an image's scores or failure changed, ``totals_changed()`` after the totals changed.
    """

    def __init__(self, class_names: Sequence[str] = (), strides: Sequence[int] = ()) -> None:
        self.class_names = list(class_names)
        self.strides = tuple(int(s) for s in strides)
        n = len(self.class_names)
        self.totals: dict[int, np.ndarray] = {s: np.zeros((n, n), np.int64) for s in self.strides}
        self.members: dict[str, None] = {}  # ordered set
        self.rows: dict[str, dict[int, dict]] = {}
        self.failed: dict[str, str] = {}
        self._cms: dict[str, dict[int, np.ndarray]] = {}
        self.image_changed = Event("image_changed")
        self.totals_changed = Event("totals_changed")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    # -- changes ---------------------------------------------------------------------------------------------
    def start_set(self) -> None:
        """A new evaluation begins: no image is counted until it is scored again (rows are kept)."""
        self.members.clear()
        for m in self.totals.values():
            m[:] = 0
        self.totals_changed.emit()

    def set_image(self, stem: str, cms: dict[int, np.ndarray], mean_conf: dict[int, float] | None = None, *,
                  member: bool | None = None) -> dict[int, dict]:
        """Record ``stem``'s matrices (one per stride). ``member=True`` adds it to the evaluation set;
        None keeps its membership. A member's old matrices leave the totals and the new ones enter them."""
        mean_conf = mean_conf or {}
        counted = stem in self.members or bool(member)
        old = self._cms.get(stem)
        if stem in self.members and old is not None:
            for s, m in old.items():
                if s in self.totals:
                    self.totals[s] -= m
        cms = {int(s): np.asarray(m, np.int64) for s, m in cms.items()}
        self._cms[stem] = cms
        self.rows[stem] = {s: row_from_confusion(m, mean_conf.get(s)) for s, m in cms.items()}
        self.failed.pop(stem, None)
        if counted:
            self.members[stem] = None
            for s, m in cms.items():
                if s in self.totals:
                    self.totals[s] += m
        self.image_changed.emit(stem)
        if counted:
            self.totals_changed.emit()
        return self.rows[stem]

    def set_failed(self, stem: str, message: str) -> None:
        """``stem`` could not be scored (bad label, unreadable image): it leaves the totals and says why."""
        old = self._cms.pop(stem, None)
        was_member = stem in self.members
        if was_member:
            del self.members[stem]
            for s, m in (old or {}).items():
                if s in self.totals:
                    self.totals[s] -= m
        self.rows.pop(stem, None)
        self.failed[stem] = message
        self.image_changed.emit(stem)
        if was_member:
            self.totals_changed.emit()

    # -- reading ---------------------------------------------------------------------------------------------
    def confusions(self, stem: str) -> dict[int, np.ndarray] | None:
        return self._cms.get(stem)

    @property
    def counted(self) -> int:
        """Images in the totals."""
        return len(self.members)

    def scores(self, stride: int) -> dict:
        """The paper's four metrics and per-class IU/accuracy of the evaluation set at ``stride``."""
        return scores_from_confusion(self.totals[stride], self.class_names)

    def images_with(self, stride: int, gt: int, pred: int) -> list[tuple[str, int]]:
        """Counted images with pixels of class ``gt`` predicted as ``pred``, most pixels first."""
        found = []
        for stem in self.members:
            m = self._cms.get(stem, {}).get(stride)
            if m is not None and m[gt, pred]:
                found.append((stem, int(m[gt, pred])))
        return sorted(found, key=lambda kv: -kv[1])
