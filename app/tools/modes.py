"""The tool modes and the context every tool works on (plain data, no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from enum import Enum

import numpy as np

from app.document import VOID, LabelDocument, Point

# A drag handler is a generator: created on press with the press point, primed with next(), sent each move
# point, closed on release (its ``finally`` ends the stroke) — the napari ``_drag_modes`` shape.
Drag = Generator[None, Point, None]


class Mode(str, Enum):
    """What a left-button drag on the ground-truth / overlay panel does."""

    PAN = "pan"
    BRUSH = "brush"
    ERASER = "eraser"
    FILL = "fill"
    POLYGON = "polygon"
    PICKER = "picker"
    ACCEPT_BRUSH = "accept_brush"
    ACCEPT_REGION = "accept_region"
    REPLACE = "replace"
    GRABCUT = "grabcut"  # assisted tools (app/tools/assist_drags.py, app/editing/scissors_input.py)
    SCISSORS = "scissors"
    SUPERPIXEL = "superpixel"
    SUBTRACT = "subtract"
    FILL_HOLES = "fill_holes"
    SAM = "sam"


@dataclass
class ToolContext:
    """What a tool works on: the document, the selected class, the brush size, the current prediction."""

    document: LabelDocument
    label: int = 0
    brush_size: float = 10.0
    prediction: np.ndarray | None = None  # labels of the current stride, (H, W) uint8, or None
    on_pick: Callable[[int], None] | None = None  # the picker reports the class under the cursor
    void: int = VOID
    image: np.ndarray | None = None  # the photo (assisted tools)
    # run(compute, name): computes an AssistEdit (maybe in the background) and applies it as one undo step
    # if the labels are unchanged by then; None: compute and apply at once
    run: Callable[[Callable[[], object], str], None] | None = None
    superpixels: object | None = None  # app.tools.superpixels.Superpixels of this image, once computed
    message: Callable[[str], None] | None = None  # a status-bar line


def pixel_of(doc: LabelDocument, pos: Point) -> tuple[int, int] | None:
    """The (x, y) pixel whose centre is nearest to ``pos``, or None outside the image."""
    x, y = int(round(pos[0])), int(round(pos[1]))
    h, w = doc.shape
    return (x, y) if 0 <= x < w and 0 <= y < h else None


def wait_for_release() -> Drag:
    """A click tool ignores moves until the button is released."""
    while True:
        yield
