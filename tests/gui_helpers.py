"""Helpers for GUI tests: map image coordinates to widget coordinates and drive real mouse events.

``panel`` is an ``app.views.panel.Panel`` (``window.panels["gt"]``): it has ``view_box`` (pg.ViewBox) and
``graphics_view`` (the QGraphicsView whose viewport receives the events). Image coordinates are
``(x, y)`` = (column, row) of the array shown, pixel centres at ``+0.5``.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def image_to_widget(panel, x: float, y: float) -> QPoint:
    """Viewport coordinates of image pixel (x, y) (its centre) in ``panel``'s view."""
    scene_pt = panel.view_box.mapViewToScene(QPointF(x + 0.5, y + 0.5))
    return panel.graphics_view.mapFromScene(scene_pt)


def widget_to_image(panel, pos: QPoint) -> tuple[float, float]:
    """Inverse of :func:`image_to_widget` (continuous image coordinates)."""
    pt = panel.view_box.mapSceneToView(panel.graphics_view.mapToScene(pos))
    return pt.x(), pt.y()


def _send(widget, kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton, buttons: Qt.MouseButton,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    local = QPointF(pos)
    glob = QPointF(widget.mapToGlobal(pos))
    event = QMouseEvent(kind, local, local, glob, button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def mouse_move(panel, x: float, y: float, buttons: Qt.MouseButton = Qt.MouseButton.NoButton) -> None:
    """Hover (or drag with ``buttons`` held) over image pixel (x, y)."""
    _send(panel.graphics_view.viewport(), QEvent.Type.MouseMove, image_to_widget(panel, x, y),
          Qt.MouseButton.NoButton, buttons)


def click(panel, x: float, y: float, button: Qt.MouseButton = Qt.MouseButton.LeftButton,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press and release at image pixel (x, y)."""
    vp = panel.graphics_view.viewport()
    pos = image_to_widget(panel, x, y)
    _send(vp, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, modifiers)
    _send(vp, QEvent.Type.MouseButtonPress, pos, button, button, modifiers)
    _send(vp, QEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton, modifiers)


def drag(panel, points: Iterable[tuple[float, float]], button: Qt.MouseButton = Qt.MouseButton.LeftButton,
         modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier, steps: int = 4) -> None:
    """Press at the first image point, move through the others (interpolated), release at the last."""
    pts = list(points)
    if not pts:
        return
    vp = panel.graphics_view.viewport()
    start = image_to_widget(panel, *pts[0])
    _send(vp, QEvent.Type.MouseMove, start, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, modifiers)
    _send(vp, QEvent.Type.MouseButtonPress, start, button, button, modifiers)
    prev = pts[0]
    for pt in pts[1:]:
        for i in range(1, steps + 1):
            t = i / steps
            x = prev[0] + (pt[0] - prev[0]) * t
            y = prev[1] + (pt[1] - prev[1]) * t
            _send(vp, QEvent.Type.MouseMove, image_to_widget(panel, x, y), Qt.MouseButton.NoButton, button,
                  modifiers)
        prev = pt
    _send(vp, QEvent.Type.MouseButtonRelease, image_to_widget(panel, *pts[-1]), button,
          Qt.MouseButton.NoButton, modifiers)


def make_tiny_dataset(root, count: int = 6, size: tuple[int, int] = (64, 48)):
    """A small generated VOC-layout dataset (fcn_core.demo_data) under ``root``; returns its Path."""
    from fcn_core.demo_data import make_demo_dataset

    return make_demo_dataset(root, count=count, seed=1, size=size)


def make_tiny_model(path, class_names: list[str], *, arch: str = "fcn-multi", seed: int = 0):
    """A tiny random FCN (width 1/16, BatchNorm) saved as our safetensors checkpoint at ``path``."""
    import torch

    from fcn_core.models import build_model
    from fcn_core.weights import IMAGENET_PREPROCESSING, save_checkpoint

    torch.manual_seed(seed)
    model = build_model(arch, len(class_names), batch_norm=True, width=0.0625)
    model.eval()
    save_checkpoint(path, model, arch=arch, class_names=list(class_names),
                    preprocessing=IMAGENET_PREPROCESSING)
    return path


def open_test_window(qtbot, tmp_path, *, size: tuple[int, int] = (1280, 800), split: str | None = None,
                     auto: bool = False):
    """A shown MainWindow on CPU with its own settings file, evaluating on open only with ``auto`` (else the
    test scores rows itself); ``split`` pins the browser's split (e.g. "all"). Call
    ``settings.use_ini_file(None)`` after."""
    from app import settings
    from app.main_window import MainWindow

    settings.use_ini_file(str(tmp_path / "settings.ini"))
    settings.set_auto_evaluate(auto)
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    if split is not None:
        w.split_choice = split
    w.resize(*size)
    w.show()
    return w


def isolate_user_state(monkeypatch, tmp_path) -> None:
    """The test's own recovery and user-data folders (corrections without a dataset, the log), and
    non-blocking answers to the editor's modal questions: a failed save discards, found recovery files wait
    ("later"). Single tests override them."""
    from app.editing.saving import Saver

    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setenv("FCN_STUDIO_DATA_DIR", str(tmp_path / "user"))
    monkeypatch.setattr(Saver, "ask_failed_save", lambda self: "discard")
    monkeypatch.setattr(Saver, "ask_restore", lambda self, found: "later")


def open_editing_window(qtbot, tmp_path, monkeypatch, dataset_root, *, size: tuple[int, int] = (1000, 760),
                        device: str | None = None):
    """A shown MainWindow on ``dataset_root`` with its first image open for editing: its own settings file,
    :func:`isolate_user_state`, no evaluation on open. Call ``settings.use_ini_file(None)`` after."""
    from app import settings
    from app.main_window import MainWindow

    isolate_user_state(monkeypatch, tmp_path)
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    settings.set_auto_evaluate(False)  # no background evaluation competing with the edits under test
    w = MainWindow(device=device)
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    w.open_dataset(dataset_root)
    qtbot.waitUntil(lambda: w.editing.document is not None and w.current_stem is not None, timeout=30000)
    return w
