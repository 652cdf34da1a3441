"""View → Fast preview (int8) and its toggle beside the stride control (the window's side of
app/fast_preview.py).

Turning it on builds the int8 sessions of the open model(s), calibrated on the open dataset, on a loader
thread (the inference worker keeps answering with exact predictions meanwhile) and hands them to the worker;
the status bar says what is happening and, once ready, the agreement measured on held-out images (also in the
toggle's tooltip). While on, the worker sends an image's int8 result first: it is shown with a highlighted
"int8 preview" title until the exact result replaces it. It never reaches the cache or the scores (it travels
on its own signal, ``preview_ready``). A failure (no onnxruntime, a GPU, a net it cannot run, an image it
cannot read) unchecks the action and the status bar says why. Turning it off drops the sessions.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QToolButton

from app.error_log import log_exception
from app.fast_preview import PreviewState, build_preview, percent
from fcn_core.runtime_int8 import CalibrationCancelled

TITLE = "Fast preview (int8)"
LABEL_NOTE = " · int8 preview"  # after the device and precision in the status bar while the preview is on


class FastPreviewSwitch(QObject):
    """Created by the window (one line): ``window.fast_preview``; ``state`` is the Qt-free PreviewState."""

    preview_shown = Signal(str)  # the int8 preview of this stem is on screen
    ready = Signal(object)  # PreviewModels adopted by the worker
    failed = Signal(str)  # why the preview was turned off
    _built = Signal(int, object)  # loader thread -> GUI thread (queued)
    _build_failed = Signal(int, str)
    _step = Signal(int, str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.state = PreviewState()
        self.action = window.actions.fast_preview
        self.action.setIconText("int8")  # the tool button's text (wider, and Evaluate overflows at 1280 px)
        self.base_tip = self.action.toolTip()
        self._set_tip(self.base_tip)
        self.button = QToolButton(window.controls)
        self.button.setObjectName("fastPreviewButton")
        self.button.setDefaultAction(self.action)
        window.controls.layout().insertWidget(2, self.button)  # right of the stride toggle
        self._serial = 0
        self._thread: threading.Thread | None = None
        self._built.connect(self._on_built)
        self._build_failed.connect(lambda serial, msg: serial == self._serial and self._fail(msg))
        self._step.connect(lambda serial, text: serial == self._serial and self._say(f"Fast preview: {text}"))
        self.action.toggled.connect(self._toggled)
        window.models_opened.connect(lambda _m: self._inputs_changed())
        window.dataset_opened.connect(lambda _d: self._inputs_changed())
        window.client.preview_ready.connect(self._on_preview)
        window.client.preview_failed.connect(lambda msg: self._fail(f"int8 failed on an image: {msg}"))
        window.client.result_ready.connect(self._on_exact)
        window.workspace.image_shown.connect(self._image_shown)

    # -- turning it on and off ---------------------------------------------------------------------------
    def _toggled(self, on: bool) -> None:
        if on:
            self._start()
        else:
            self._drop()
            self._say(f"{TITLE} off: exact predictions only", 5000)

    def _inputs_changed(self) -> None:
        """Another model or dataset: the preview belongs to the old pair; calibrate for the new one."""
        if self.action.isChecked():
            self._drop()
            self._start()

    def _start(self) -> None:
        w = self.w
        models, dataset = w.model_set, w.dataset
        if models is None or dataset is None:
            self.state.status = "waiting"
            self._say(f"{TITLE} starts once a dataset and a model are open")
            return
        self._serial += 1
        serial = self._serial
        self.state.status = "calibrating"
        self._say("Fast preview: preparing int8 …")

        def emit(signal, *args) -> None:
            try:
                signal.emit(serial, *args)
            except RuntimeError:  # the window is gone: nobody waits for the answer
                pass

        def build() -> None:
            try:
                # Turned off, another model or dataset, the window closing: each moves the serial on, and
                # the calibration stops at its next image instead of running to the end for nobody.
                preview = build_preview(models, dataset, progress=lambda text: emit(self._step, text),
                                        should_stop=lambda: serial != self._serial)
            except CalibrationCancelled:
                return
            except Exception as exc:  # noqa: BLE001 - every failure is shown, and the preview turned off
                if not isinstance(exc, ValueError | OSError | RuntimeError):
                    log_exception("building the int8 preview", exc)
                emit(self._build_failed, str(exc) or type(exc).__name__)
                return
            emit(self._built, preview)

        # a loader thread like the model's (app/workers.py): no forward pass of the exact models runs here
        self._thread = threading.Thread(target=build, name="int8 preview loader", daemon=True)
        self._thread.start()

    def _on_built(self, serial: int, preview) -> None:
        w = self.w
        if serial != self._serial or not self.action.isChecked():
            return  # turned off or superseded meanwhile
        current = w.model_set.model_id if w.model_set is not None else None
        if preview.model_id != current or preview.dataset is not w.dataset:
            return  # built for a pair that is no longer open (its successor is being built)
        self.state.preview, self.state.status = preview, "on"
        w.client.adopt_preview(preview)
        self._set_tip(f"{self.base_tip}. On: {preview.describe()}")
        self._mark_device_label(True)
        self._say(f"int8 preview: {preview.describe()}", 15000)
        self.ready.emit(preview)

    def _drop(self) -> None:
        """Forget the sessions (the worker's too) and any preview on screen."""
        self._serial += 1
        self.state.preview, self.state.status = None, "off"
        self.w.client.drop_preview()
        self._set_tip(self.base_tip)
        self._mark_device_label(False)
        if self.state.shown_stem is not None:
            self.state.clear_shown()
            self.w._show_stride()

    def _fail(self, message: str) -> None:
        self._drop()
        if self.action.isChecked():
            self.action.blockSignals(True)  # already dropped; the message below is the one to see
            self.action.setChecked(False)
            self.action.blockSignals(False)
        self.w.report_error(f"{TITLE} is off: {message}", modal_box=False)
        self.failed.emit(message)

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """The window closes: nothing is handed over any more; a calibration in flight stops at its next
        image, and this waits for it a while."""
        self._serial += 1
        if self._thread is not None:
            self._thread.join(timeout_s)

    # -- showing previews ----------------------------------------------------------------------------------
    def _on_preview(self, r) -> None:
        """The worker's int8 answer: shown only when it is the image asked for last and its exact result has
        not arrived; never stored or scored."""
        w = self.w
        if not self.state.on or r.req_id != w.client.latest_id or r.stem != w.current_stem:
            return
        if w.current_results is not None or not r.results:
            return
        self.state.show(r.stem, r.results)
        w._show_stride()
        agreement = percent(self.state.preview.agreement)
        self._say(f"{r.stem}: int8 preview ({agreement} agreement) in {1000 * r.seconds:.0f} ms; "
                  "exact follows")
        self.preview_shown.emit(r.stem)

    def _on_exact(self, r) -> None:
        if r.results and r.stem == self.state.shown_stem:
            self.state.clear_shown(r.stem)
            self.w._show_stride()  # the exact result (now the image's own) without the marker

    def _image_shown(self, stem: str) -> None:
        if stem != self.state.shown_stem:
            self.state.clear_shown()

    # -- helpers ---------------------------------------------------------------------------------------------
    def _say(self, text: str, ms: int = 0) -> None:
        self.w.status_bar.showMessage(text, ms)

    def _mark_device_label(self, on: bool) -> None:
        text = self.w.device_label.text().removesuffix(LABEL_NOTE)
        self.w.device_label.setText(text + LABEL_NOTE if on else text)

    def _set_tip(self, tip: str) -> None:
        keys = ", ".join(k.toString() for k in self.action.shortcuts())
        self.action.setToolTip(f"{tip} ({keys})" if keys else tip)
        self.action.setStatusTip(tip)
