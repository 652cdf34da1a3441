"""The int8 "fast preview" (Qt-free): which images calibrate it, how its int8 sessions are built beside the
exact model set, and what the window shows while it is on.

While the preview is on, the inference worker answers a user's request twice: first with the int8 result
(``ImageResult.preview``, shown with a marker), then with the exact fp32 result, which replaces it. A
preview never feeds the prediction cache, the ScoreBook, the evaluation or the regions: those only ever see
the exact model set. The sessions are built off the GUI thread (``InferenceClient.load_preview``) from the
exact set's loaded networks (shared, never moved or cast) and handed to the worker, the only thread that runs
them. ``fcn_core.runtime_int8`` caches the quantized graphs per model + calibration images, so turning the
preview on again for the same model and dataset does not calibrate again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Calibration images (set the int8 ranges) and held-out images (measure the agreement), spread over the set.
CALIBRATE = 32
HELD_OUT = 8


class PreviewUnavailable(RuntimeError):
    """The preview cannot run for this model / dataset; ``str()`` says why in the user's words."""


def calibration_for(dataset, *, calibrate: int = CALIBRATE, held_out: int = HELD_OUT, should_stop=None):
    """A ``runtime_int8.Calibration`` on ``dataset``'s images: ``calibrate + held_out`` of them spread over
    the whole set (the Calibration picks them), decoded with the dataset's own reader (labelme JSON, 16-bit
    formats, … work like everywhere else); ``should_stop()`` cancels it between images."""
    from fcn_core.runtime_int8 import Calibration

    by_path: dict[Path, str] = {}
    for sample in getattr(dataset, "samples", ()):
        if sample.image_path is not None:
            by_path.setdefault(Path(sample.image_path), sample.stem)
    if len(by_path) < 2:
        raise PreviewUnavailable(f"int8 needs at least 2 images of the open dataset to calibrate on, "
                                 f"and it has {len(by_path)}")

    def read(path):
        return dataset.image(by_path[Path(path)])

    return Calibration(list(by_path), calibrate=calibrate, held_out=held_out, read=read,
                       should_stop=should_stop)


def unsuitable(models) -> str | None:
    """Why the exact model set cannot get an int8 preview (None when it can be tried). The int8 sessions share
    the exact set's networks, so they are only built where that changes nothing: the CPU in fp32."""
    from fcn_core import runtime_onnx

    predictors = list(getattr(models, "predictors", None) or [])
    if models is None:
        return "no model is open"
    if not predictors:
        return "stored predictions have no network to run in int8"
    try:
        runtime_onnx.import_onnxruntime()
    except runtime_onnx.RuntimeUnavailable as exc:
        return str(exc)
    for p in predictors:
        why = runtime_onnx.unsuitable(p.device, p.precision, bool(getattr(p, "_compiled", False)), True, True)
        if why:
            return why
    return None


@dataclass
class PreviewModels:
    """The int8 twin of an exact ModelSet: same strides and classes, int8 Predictors, and the agreement
    measured on ``held_out`` images of the dataset it was calibrated on."""

    models: Any  # app.model_set.ModelSet whose predictors run int8 (model_id: the exact set's)
    model_id: str  # the exact set's id: the preview answers only while that set is the worker's
    dataset: Any  # the dataset it was calibrated on
    agreement: float  # fraction of labels equal to fp32 on the held-out images, all strides (mean over files)
    held_out: int
    calibration_images: int

    def describe(self) -> str:
        """"98.6 % of labels equal to fp32 on 8 held-out images of this dataset"."""
        return (f"{percent(self.agreement)} of labels equal to fp32 on {self.held_out} held-out "
                f"image{'s' if self.held_out != 1 else ''} of this dataset")


def percent(fraction: float) -> str:
    """0.98634 -> "98.6 %" (never "100.0 %" unless every label agreed)."""
    value = 100 * fraction
    text = f"{value:.1f}"
    if text == "100.0" and fraction < 1:
        text = "99.9"
    return f"{text} %"


def build_preview(models, dataset, progress=None, should_stop=None) -> PreviewModels:
    """int8 Predictors for every network of ``models`` (an exact ModelSet on the CPU in fp32), calibrated on
    ``dataset``; ``progress(text)`` hears what is being done ("calibrating int8 on 32 images …"; nothing when
    the core's cache has it). ``should_stop()`` True ends the work between two images with
    ``runtime_int8.CalibrationCancelled``, leaving nothing half-written. Raises PreviewUnavailable with the
    reason (``RuntimeUnavailable``'s / the Predictor's ``backend_note``). Runs off the GUI thread and never
    runs a forward pass of the exact networks; it shares them read-only (no move, no cast)."""
    from fcn_core.predictor import Predictor

    why = unsuitable(models)
    if why:
        raise PreviewUnavailable(why)
    calibration = calibration_for(dataset, should_stop=should_stop)
    calib, held = calibration.split()
    previews, reports = [], []
    for exact in models.predictors:
        p = Predictor(exact.loaded, device="cpu", precision="int8", backend="onnxruntime",
                      calibration=calibration, max_tile_pixels=getattr(exact, "max_tile_pixels", None),
                      setup_progress=(lambda text: progress(f"{text} …")) if progress is not None else None)
        if p.backend != "onnxruntime" or p.precision != "int8":
            note = p.backend_note or "ONNX Runtime could not run this net"
            raise PreviewUnavailable(note.removeprefix("running torch fp32: "))
        previews.append(p)
        reports.append(p.int8_report or {"agreement": p.int8_agreement, "held_out": len(held),
                                         "calibration_images": len(calib)})
    agreement = sum(float(r["agreement"]) for r in reports) / len(reports)
    twin = dataclasses.replace(models, predictors=previews, precision="int8")
    first = reports[0]
    return PreviewModels(twin, models.model_id, dataset, agreement, int(first.get("held_out", len(held))),
                         int(first.get("calibration_images", len(calib))))


@dataclass
class PreviewState:
    """What the window knows about the preview: off / calibrating / on / failed, the measured agreement, and
    the preview result on screen (``stem`` and its ``{stride: StrideResult}``) until the exact one arrives."""

    status: str = "off"  # "off" | "waiting" (no model or dataset yet) | "calibrating" | "on"
    preview: PreviewModels | None = None
    shown_stem: str | None = None
    shown: dict[int, Any] = field(default_factory=dict)

    @property
    def on(self) -> bool:
        return self.status == "on" and self.preview is not None

    def show(self, stem: str, results: dict[int, Any]) -> None:
        """A preview result for ``stem`` is on screen (the exact one follows)."""
        self.shown_stem, self.shown = stem, dict(results)

    def clear_shown(self, stem: str | None = None) -> None:
        """The exact result of ``stem`` arrived, or another image is shown (None: whatever is shown)."""
        if stem is None or stem == self.shown_stem:
            self.shown_stem, self.shown = None, {}

    def result(self, stem: str | None, stride: int):
        """The preview's result at ``stride`` when ``stem``'s preview is what is on screen, else None."""
        if stem is None or stem != self.shown_stem:
            return None
        return self.shown.get(stride)

    def marker(self) -> str:
        """Panel-title note of a preview result, e.g. "int8 preview (98.6 %)" (the agreement; titles are
        narrow: the tooltip and the status bar say it in full)."""
        if self.preview is None:
            return "int8 preview"
        return f"int8 preview ({percent(self.preview.agreement)})"
