"""Click-to-segment with Segment Anything (optional): only when the ``segment-anything`` package is installed
and a checkpoint file is configured (Edit → Segment Anything checkpoint…, QSettings
``assist/sam_checkpoint``). Nothing is downloaded. Qt-free; the editing controller runs ``segment_at`` off
the GUI thread."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from app.tools.assist_edit import AssistEdit, edit_from

PACKAGE = "segment_anything"
_state: dict = {"checkpoint": None, "predictor": None, "image_id": None}


def missing(checkpoint: str | None) -> str | None:
    """Why Segment Anything cannot be used (None: it can)."""
    need = []
    if importlib.util.find_spec(PACKAGE) is None:
        need.append("the optional 'segment-anything' package (pip install segment-anything)")
    if not checkpoint:
        need.append("a SAM checkpoint file (Edit → Segment Anything checkpoint…)")
    elif not Path(checkpoint).is_file():
        need.append(f"the SAM checkpoint {checkpoint} (not found)")
    return None if not need else "Segment Anything needs " + " and ".join(need)


def configure(checkpoint: str | None) -> None:
    """Use ``checkpoint`` from now on (the model loads on the first click)."""
    if checkpoint != _state["checkpoint"]:
        _state.update(checkpoint=checkpoint, predictor=None, image_id=None)


def _model_type(path: str) -> str:
    name = Path(path).name.lower()
    return next((t for t in ("vit_h", "vit_l", "vit_b") if t in name), "vit_b")


def segment_at(image: np.ndarray, labels: np.ndarray, px: tuple[int, int], cls: int) -> AssistEdit | None:
    """The edit giving ``cls`` to SAM's best mask for a positive click at ``px`` = (x, y)."""
    reason = missing(_state["checkpoint"])
    if reason:
        raise ValueError(reason)
    if _state["predictor"] is None:
        import torch
        from segment_anything import SamPredictor, sam_model_registry

        sam = sam_model_registry[_model_type(_state["checkpoint"])]()
        sam.load_state_dict(torch.load(_state["checkpoint"], map_location="cpu", weights_only=True))
        _state["predictor"] = SamPredictor(sam.eval())
    predictor = _state["predictor"]
    if _state["image_id"] != id(image):
        predictor.set_image(np.ascontiguousarray(image[:, :, :3]))
        _state["image_id"] = id(image)
    masks, scores, _ = predictor.predict(point_coords=np.array([px], dtype=np.float32),
                                         point_labels=np.array([1]), multimask_output=True)
    mask = np.asarray(masks[int(np.argmax(scores))], dtype=bool)
    return edit_from(labels, np.full(labels.shape, cls, np.uint8), mask)
