"""The linked panels: original, ground truth, prediction, overlay, optional error / confidence maps, and the
extra input channels a dataset has (depth in a colour scale, HHA as an image)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGridLayout, QWidget

from app.views import colorize
from app.views.input_colors import depth_rgba, hha_rgb
from app.views.linked_views import LinkedViews
from app.views.panel import Panel
from app.views.partial_repaint import repaint_rect

PANEL_TITLES = {
    "image": "Original", "gt": "Ground truth", "pred": "Prediction", "overlay": "Overlay",
    "error": "Errors", "confidence": "Confidence", "depth": "Depth", "hha": "HHA",
}
INPUT_PANELS = ("depth", "hha")
INPUT_TIPS = {
    "depth": "Depth input in metres (1st to 99th percentile): near red, far blue; black: no depth",
    "hha": "HHA encoding of depth as R, G, B: horizontal disparity, height above ground, angle with gravity",
}


class PanelGrid(QWidget):
    """Holds the panels in a grid, links their pan/zoom and paints label maps through lookup tables."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.panels: dict[str, Panel] = {
            key: Panel(key, title, layered=key in ("overlay", "error")) for key, title in PANEL_TITLES.items()
        }
        self.views = LinkedViews(self.panels.values(), self)  # one centre and zoom for all panels
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.palette = colorize.label_lut(np.zeros((256, 3), np.uint8))[:, :3]
        self.pred_palette: np.ndarray | None = None  # the model's colours when its classes differ
        self.only_class: int | None = None
        self.opacity = 0.55
        self.error_mode = colorize.ERROR_MODES[0]
        self.confidence_mode = colorize.CONFIDENCE_MODES[0]
        self.confidence_note = ""  # e.g. "no confidence stored": said instead of a map of placeholders
        self._image: np.ndarray | None = None
        self._gt: np.ndarray | None = None
        self._pred = None  # StrideResult or None
        self.preview_note = ""  # set_prediction: the result shown is a preview (its titles say so)
        self._gt_rgba: np.ndarray | None = None
        self._overlay_labels_rgba: np.ndarray | None = None
        self._overlay_rgba: np.ndarray | None = None
        self._extras = {"error": False, "confidence": False}
        self._inputs: dict[str, np.ndarray] = {}  # extra channels of the image shown (depth, HHA)
        self.input_titles: dict[str, str] = {}
        self._colour_cache: dict = {}
        self._gt_version = 0  # bumped on every GT change so cached error maps are not reused
        self.class_names: list[str] = []
        self.gt_title: str | None = None  # None: "Ground truth"; else a marked title (compare mode)
        # what the overlay panel lays over the photo: "prediction", or "labels" (the ground truth being
        # edited; the editing controller switches to it while a painting tool is active, as an annotator
        # paints on the overlay and must see the label, not the model's guess)
        self.overlay_source = "prediction"
        self.set_extra_panels(error=False, confidence=False)

    # -- layout ---------------------------------------------------------------------------------
    def set_extra_panels(self, *, error: bool, confidence: bool) -> None:
        """Show the error and/or confidence panels as a third column."""
        self._extras = {"error": error, "confidence": confidence}
        self._layout()

    def _layout(self) -> None:
        """2x2 main panels; the extra ones (errors, confidence, then depth, HHA) two per column after them (a
        column's single panel takes its whole height)."""
        order = [("image", 0, 0, 1), ("gt", 0, 1, 1), ("pred", 1, 0, 1), ("overlay", 1, 1, 1)]
        extras = [k for k in ("error", "confidence") if self._extras[k]]
        extras += [k for k in INPUT_PANELS if k in self._inputs or k in self.input_titles]
        for i, key in enumerate(extras):
            alone = i % 2 == 0 and i == len(extras) - 1
            order.append((key, i % 2, 2 + i // 2, 2 if alone else 1))
        shown = {key for key, *_ in order}
        for panel in self.panels.values():
            self._grid.removeWidget(panel)
        for key, row, col, rows in order:
            self._grid.addWidget(self.panels[key], row, col, rows, 1)
        for key, panel in self.panels.items():
            panel.setVisible(key in shown)
        columns = 2 + (len(extras) + 1) // 2
        for col in range(4):
            self._grid.setColumnStretch(col, 1 if col < columns else 0)
        self._paint_error()
        self._paint_confidence()
        self.views.schedule()  # panels shown again may keep their old size: no resize tells them the view

    def fit(self) -> None:
        """Zoom every panel to the whole image; it stays fitted through resizes until the user zooms."""
        self.views.fit()

    def set_inputs(self, inputs: dict[str, np.ndarray] | None, errors: dict[str, str] | None = None) -> None:
        """The extra input channels of the image shown (``{"depth": (H, W), "hha": (H, W, 3)}``): each gets
        its panel (depth coloured near red to far blue, its range in the title); ``errors`` names channels
        that could not be read (their panel says why). Panels of channels the image lacks are hidden."""
        inputs, errors = dict(inputs or {}), dict(errors or {})
        before = set(self._inputs) | set(self.input_titles)
        self._inputs, self.input_titles = inputs, {}
        for name in INPUT_PANELS:
            panel = self.panels[name]
            if name in inputs:
                rgb, title = depth_rgba(inputs[name]) if name == "depth" else hha_rgb(inputs[name])
                panel.show_rgb(rgb)
                self.input_titles[name] = title
                panel.set_subtitle(title)
                panel.title.setToolTip(INPUT_TIPS[name])
            elif name in errors:
                panel.show_rgb(None)
                self.input_titles[name] = f"{PANEL_TITLES[name]}: {errors[name]}"
                panel.set_subtitle(self.input_titles[name])
        if set(self._inputs) | set(self.input_titles) != before:
            self._layout()

    def visible_extras(self) -> tuple[bool, bool]:
        """(error shown, confidence shown)."""
        return self._extras["error"], self._extras["confidence"]

    # -- content --------------------------------------------------------------------------------
    def set_palette(self, palette: np.ndarray, class_names: list[str] | None = None) -> None:
        """Class colours (256×3 uint8) and, when given, the class names (for the error map's title);
        repaints the label panels."""
        self.palette = np.asarray(palette, dtype=np.uint8)
        if class_names is not None:
            self.class_names = list(class_names)
        self._paint_gt()
        self._paint_pred()

    def set_pred_palette(self, palette: np.ndarray | None) -> None:
        """Colours of the prediction and overlay when the model's classes differ from the dataset's (None:
        same classes, predictions use ``palette``). With different classes no error map is drawn."""
        self.pred_palette = None if palette is None else np.asarray(palette, dtype=np.uint8)
        self._colour_cache.clear()
        self._paint_pred()

    def set_overlay_source(self, source: str) -> None:
        """Lay the "prediction" or the "labels" (ground truth being edited) over the photo."""
        if source not in ("prediction", "labels"):
            raise ValueError(f"overlay source must be 'prediction' or 'labels', not {source!r}")
        if source != self.overlay_source:
            self.overlay_source = source
            self._paint_overlay()

    def set_only_class(self, class_index: int | None) -> None:
        """Show only one class on the label panels (None = all)."""
        self.only_class = class_index
        self._paint_gt()
        self._paint_pred()

    def set_opacity(self, opacity: float) -> None:
        """Overlay colour-layer opacity, 0–1; no recolouring needed."""
        self.opacity = opacity
        self.panels["overlay"].set_layer_opacity(opacity)

    def set_confidence_note(self, note: str) -> None:
        """Show ``note`` (e.g. "no confidence stored") instead of a confidence map ("" = show the map)."""
        self.confidence_note = note
        self._paint_confidence()

    def set_modes(self, *, error_mode: str | None = None, confidence_mode: str | None = None) -> None:
        """Error colouring ("true class" / "FP / FN") and confidence measure ("max softmax" / "margin")."""
        if error_mode is not None:
            self.error_mode = error_mode
            self._paint_error()
        if confidence_mode is not None:
            self.confidence_mode = confidence_mode
            self._paint_confidence()

    def set_image(self, image: np.ndarray | None, gt: np.ndarray | None, *, reset_view: bool = True) -> None:
        """A new picture and its ground truth (prediction cleared until it arrives)."""
        self._image, self._gt, self._pred = image, gt, None
        self._colour_cache.clear()
        for key in ("image", "overlay"):
            self.panels[key].show_rgb(image)
        # errors in colour over a dark grey photo: visible whatever the class colours are
        self.panels["error"].show_rgb(None if image is None else colorize.grey_dimmed(image))
        self._paint_gt()
        self._paint_pred()
        if image is not None:
            self.views.set_image_size(image.shape[1], image.shape[0], fit=reset_view)

    def set_gt_title(self, title: str | None) -> None:
        """Mark the ground-truth panel's title (e.g. the original shown read-only); None: the usual title."""
        self.gt_title = title
        if self._gt is not None:
            self.panels["gt"].set_subtitle(title or "Ground truth", highlight=title is not None)

    def set_gt(self, gt: np.ndarray | None) -> None:
        """Replace the ground-truth array shown (editing hands its document array here)."""
        self._gt = gt
        self._gt_version += 1
        self._paint_gt()
        self._paint_error()

    def set_prediction(self, result, *, preview_note: str = "") -> None:
        """Show one stride's ``StrideResult`` (or None) on prediction, overlay, error, confidence;
        ``preview_note`` (e.g. "int8 preview (98.6 %)") marks a result that is not the exact one in
        those panels' highlighted titles."""
        self._pred = result
        self.preview_note = preview_note if result is not None else ""
        self._paint_pred()

    def gt_changed(self, rect: tuple[int, int, int, int] | None) -> None:
        """The GT array was edited in place inside ``rect = (y0, y1, x0, x1)``: recolour only that box."""
        if self._gt is None:
            return
        self._gt_version += 1
        if rect is None or self._gt_rgba is None or self._gt_rgba.shape[:2] != self._gt.shape:
            self._paint_gt()
            self._paint_error()
            return
        y0, y1, x0, x1 = rect
        lut = colorize.label_lut(self.palette, self.only_class)
        self._gt_rgba[y0:y1, x0:x1] = lut[self._gt[y0:y1, x0:x1]]
        self.panels["gt"].update_rect(self._gt_rgba, rect)
        self.overlay_labels_changed(rect)
        self._paint_error()

    def overlay_labels_changed(self, rect: tuple[int, int, int, int]) -> bool:
        """Recolour ``rect`` of the overlay layer from the labels when it shows them (False otherwise)."""
        layer = self.panels["overlay"].layer_item
        rgba = self._overlay_labels_rgba
        if (self.overlay_source != "labels" or self._gt is None or rgba is None or layer is None
                or rgba.shape[:2] != self._gt.shape):
            return False
        y0, y1, x0, x1 = rect
        rgba[y0:y1, x0:x1] = colorize.overlay_lut(self.palette, self.only_class)[self._gt[y0:y1, x0:x1]]
        shown = layer.image
        if shown is not None and shown.shape == rgba.shape and shown.dtype == rgba.dtype \
                and shown.flags.writeable:
            if not np.shares_memory(shown, rgba):  # pyqtgraph may hold its own copy: recolour that too
                shown[y0:y1, x0:x1] = rgba[y0:y1, x0:x1]
            repaint_rect(layer, rect)  # only the stroke's rectangle (a full render of 2048² costs ~10 ms)
        else:
            self.panels["overlay"].show_rgb(rgba, layer)
        return True

    # -- painting -------------------------------------------------------------------------------
    def _paint_gt(self) -> None:
        gt_panel = self.panels["gt"]
        if self._gt is None:
            self._gt_rgba = None
            gt_panel.show_rgb(None)
            gt_panel.set_subtitle("Ground truth (none)")
            return
        self._gt_rgba = colorize.apply_lut(self._gt, colorize.label_lut(self.palette, self.only_class))
        gt_panel.show_rgb(self._gt_rgba)
        gt_panel.set_subtitle(self.gt_title or "Ground truth", highlight=self.gt_title is not None)
        if self.overlay_source == "labels":
            self._paint_overlay()
        self._paint_error()

    def _paint_pred(self) -> None:
        if self._pred is None:
            self.panels["pred"].show_rgb(None)
        else:
            pred_rgba, self._overlay_rgba = self._coloured(self._pred.labels)
            self.panels["pred"].show_rgb(pred_rgba)
        self._paint_overlay()
        self._paint_error()
        self._paint_confidence()

    def _paint_overlay(self) -> None:
        overlay = self.panels["overlay"]
        self._overlay_labels_rgba = None
        if self.overlay_source == "labels":
            if self._gt is not None:
                self._overlay_labels_rgba = colorize.apply_lut(
                    self._gt, colorize.overlay_lut(self.palette, self.only_class))
            rgba, what = self._overlay_labels_rgba, "labels being edited"
        else:
            rgba = None if self._pred is None else self._overlay_rgba
            what = "prediction"
        overlay.show_rgb(rgba, overlay.layer_item)
        overlay.set_layer_opacity(self.opacity)
        note = self.preview_note if what == "prediction" and self._pred is not None else ""
        overlay.set_subtitle(f"Overlay: {note or what}", highlight=bool(note))  # "Overlay: int8 preview (…)"

    def _coloured(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(prediction RGBA, overlay RGBA) of ``labels``, kept per label array for the current image so
        toggling back to a stride only re-uploads pixels."""
        palette, only = self.palette, self.only_class
        if self.pred_palette is not None:  # model classes: the dataset's class filter does not apply
            palette, only = self.pred_palette, None
        key = (id(labels), only, palette.tobytes())
        hit = self._colour_cache.get(key)
        if hit is None or hit[0] is not labels:
            pred = colorize.apply_lut(labels, colorize.label_lut(palette, only))
            over = colorize.apply_lut(labels, colorize.overlay_lut(palette, only))
            if len(self._colour_cache) >= 6:
                self._colour_cache.clear()
            hit = self._colour_cache[key] = (labels, pred, over)
        return hit[1], hit[2]

    def _paint_error(self) -> None:
        panel = self.panels["error"]
        if not self._extras["error"]:
            return
        if self.pred_palette is not None:
            panel.show_rgb(None, panel.layer_item)
            panel.set_subtitle("Errors (not shown: model and dataset classes differ)")
            return
        self._titled(panel, self._error_title())
        if self._pred is None or self._gt is None or self._gt.shape != self._pred.labels.shape:
            panel.show_rgb(None, panel.layer_item)
            return
        key = ("error", id(self._pred.labels), id(self._gt), self._gt_version, self.error_mode,
               self.only_class)
        rgba = self._colour_cache.get(key)
        if rgba is None:
            rgba = colorize.error_rgba(self._gt, self._pred.labels, self.palette, self.error_mode,
                                       self.only_class)
            self._colour_cache[key] = rgba
        panel.show_rgb(rgba, panel.layer_item)

    def _error_title(self) -> str:
        if self.error_mode != "true class":
            return "Errors (FP red, FN blue, swap yellow)"
        # classes too dark to see on the dimmed photo are drawn white: say which (none on most datasets)
        n = len(self.class_names)
        shown = colorize.visible_error_palette(self.palette[:n])
        dark = [name for name, a, b in zip(self.class_names, self.palette[:n], shown) if tuple(a) != tuple(b)]
        if not dark:
            return "Errors (true class)"
        return f"Errors (true class; {', '.join(dark[:2])}{' …' if len(dark) > 2 else ''} in white)"

    def _paint_confidence(self) -> None:
        panel = self.panels["confidence"]
        if not self._extras["confidence"]:
            return
        if self._pred is None or self.confidence_note:
            panel.show_rgb(None)
            if self.confidence_note:
                panel.set_subtitle(f"Confidence ({self.confidence_note})")
            return
        values = self._pred.confidence if self.confidence_mode == "max softmax" else self._pred.margin
        key = ("confidence", id(values))
        rgba = self._colour_cache.get(key)
        if rgba is None or len(self._colour_cache) > 24:
            rgba = self._colour_cache[key] = colorize.confidence_rgb(values)
        panel.show_rgb(rgba)
        self._titled(panel, f"Confidence ({self.confidence_mode})")

    def _titled(self, panel, title: str) -> None:
        """``title``, with the preview note (highlighted) while a preview result is shown."""
        note = self.preview_note if self._pred is not None else ""
        panel.set_subtitle(f"{title} · {note}" if note else title, highlight=bool(note))
