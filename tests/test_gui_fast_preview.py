"""View → Fast preview (int8): the int8 result shows first and the exact one replaces it; scores only ever see
the exact one; calibration runs off the GUI thread (the worker keeps serving exact predictions) and is cached;
failures turn the switch off with the reason; a preview of an image the user has left never shows."""

from __future__ import annotations

import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PySide6.QtCore import QThread

from app import settings
from app.editing.saving import Saver
from app.fast_preview import calibration_for, percent, unsuitable
from fcn_core import runtime_int8
from fcn_core.metrics import confusion_matrix
from fcn_core.models import forward_strides
from fcn_core.predictor import Predictor
from fcn_core.weights import load_model
from tests.gui_helpers import isolate_user_state, make_tiny_dataset, open_test_window

pytest.importorskip("onnxruntime")
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("preview")
    data = make_tiny_dataset(root / "ds", count=6, size=(64, 48))
    from fcn_core.data.datasets import open_dataset

    return data, _random_model(root / "m.safetensors", open_dataset(data).class_names)


def _random_model(path, class_names):
    """A tiny FCN with random (Kaiming) weights everywhere: labels vary over the image, unlike a new model's
    zero score layers (all class 0), so a preview that differs can be told from the exact result."""
    from fcn_core.models import build_model
    from fcn_core.weights import IMAGENET_PREPROCESSING, save_checkpoint

    torch.manual_seed(0)
    model = build_model("fcn-multi", len(class_names), width=0.0625).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                torch.nn.init.normal_(m.bias, std=0.01)
    save_checkpoint(path, model, arch="fcn-multi", class_names=list(class_names),
                    preprocessing=IMAGENET_PREPROCESSING)
    return path


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, files):
    monkeypatch.setenv("FCN_STUDIO_CACHE", str(tmp_path / "cache"))  # the ONNX cache is this test's own
    isolate_user_state(monkeypatch, tmp_path)
    w = open_test_window(qtbot, tmp_path, split="all")
    data, model = files
    w.open_models([model])
    with qtbot.waitSignal(w.first_view_ready, timeout=TIMEOUT):
        w.open_dataset(data)
    qtbot.waitUntil(lambda: w.current_results is not None, timeout=TIMEOUT)
    w.test_model = model
    yield w
    w.close()
    settings.use_ini_file(None)


class ShiftedInt8:
    """A stand-in int8 forward whose labels differ from fp32 everywhere (class c -> c+1), so a preview label
    that reached a score would show; records the thread it runs on and can hold one stem's pass."""

    def __init__(self, loaded):
        self.loaded = loaded
        self.threads: list[QThread] = []
        self.hold: threading.Event | None = None

    def __call__(self, x):
        self.threads.append(QThread.currentThread())
        if self.hold is not None:
            assert self.hold.wait(20), "the test never released the preview"
            self.hold = None
        with torch.no_grad():
            out = forward_strides(self.loaded.model, x.float())
        return {s: torch.roll(v, 1, dims=1) for s, v in out.items()}


@pytest.fixture
def shifted(monkeypatch):
    made: list[ShiftedInt8] = []

    def load_int8(loaded, calibration, **_kw):
        made.append(ShiftedInt8(loaded))
        return made[-1], {"agreement": 0.25, "held_out": 3, "calibration_images": 3}

    monkeypatch.setattr(runtime_int8, "load_int8", load_int8)
    return made


def _turn_on(qtbot, w):
    with qtbot.waitSignal(w.fast_preview.ready, timeout=TIMEOUT):
        w.actions.fast_preview.setChecked(True)
    qtbot.waitUntil(lambda: w.client.worker.preview is not None, timeout=TIMEOUT)


def _exact(w, stem):
    """fp32 torch labels of ``stem`` from a Predictor of its own (what the window must end up showing)."""
    return {s: r.labels for s, r in Predictor(load_model(w.test_model), device="cpu")
            .predict(w.dataset.image(stem)).items()}


def _uncached(w, stem=None):
    """A stem other than the one on screen whose exact prediction is not at hand: not in the window's cache,
    and the worker's prefetched copy forgotten (queued before the request that follows)."""
    ms = w.model_set
    stem = stem or next(s for s in reversed(w.dataset.stems)
                        if s != w.current_stem and w.cache.get_all(s, ms.model_id, ms.strides) is None)
    w.client.forget(stem)
    return stem


def test_preview_shows_first_with_a_marker_then_the_exact_result_replaces_it(qtbot, window, shifted):
    w = window
    _turn_on(qtbot, w)
    stem = _uncached(w)
    seen = []

    def at_preview(s):  # runs while the preview is on screen, before the exact result can arrive
        seen.append(("preview", s, w.grid._pred.labels.copy(), w.panels["pred"].title.text()))
        w.set_stride(32)  # a stride toggle shows the preview's own 32s output, marked
        seen.append(("preview32", s, w.grid._pred.labels.copy(), w.panels["pred"].title.text()))
        w.set_stride(8)

    w.fast_preview.preview_shown.connect(at_preview)
    w.client.result_ready.connect(lambda r: seen.append(("exact", r.stem, None, "")))
    w.show_stem(stem)
    qtbot.waitUntil(lambda: w.current_stem == stem and w.current_results is not None, timeout=TIMEOUT)
    exact = _exact(w, stem)
    kinds = [k for k, s, _l, _t in seen if s == stem]
    assert kinds[:3] == ["preview", "preview32", "exact"], kinds
    n = w.model_set.num_classes
    assert np.array_equal(seen[0][2], (exact[8] + 1) % n) and "int8 preview (25.0 %)" in seen[0][3]
    assert np.array_equal(seen[1][2], (exact[32] + 1) % n) and "FCN-32s · int8 preview" in seen[1][3]
    for s in (32, 16, 8):  # the final shown result is the exact one, at every stride, with no marker
        w.set_stride(s)
        assert np.array_equal(w.grid._pred.labels, exact[s])
        assert "int8" not in w.panels["pred"].title.text() and "int8" not in w.panels["overlay"].title.text()
    # the preview ran on the inference worker's thread, the one thread that runs models
    assert shifted[0].threads and all(t is w.client.thread for t in shifted[0].threads)
    assert "25.0 % of labels equal to fp32 on 3 held-out images" in w.actions.fast_preview.toolTip()


def test_scores_cache_and_evaluation_never_see_preview_labels(qtbot, window, shifted):
    w = window
    _turn_on(qtbot, w)
    stem = _uncached(w)
    book = w.workspace.book
    during = []

    def at_preview(s):
        during.append((s in book.rows, w.cache.get_all(s, w.model_set.model_id, w.model_set.strides),
                       w.workspace.results_of(s), w.current_results))

    w.fast_preview.preview_shown.connect(at_preview)
    w.show_stem(stem)
    qtbot.waitUntil(lambda: w.current_stem == stem and w.current_results is not None, timeout=TIMEOUT)
    assert during == [(False, None, None, None)]  # on screen, but nowhere a score could come from
    gt, exact = w.dataset.label(stem), _exact(w, stem)
    qtbot.waitUntil(lambda: stem in book.rows, timeout=TIMEOUT)
    n = w.model_set.num_classes
    for s in (32, 16, 8):
        assert np.array_equal(book.confusions(stem)[s], confusion_matrix(gt, exact[s], n))
        assert np.array_equal(w.cache.get(stem, w.model_set.model_id, s).labels, exact[s])
    # an evaluation with the preview on scores the exact predictions, image by image
    with qtbot.waitSignal(w.evaluation.evaluation_finished, timeout=TIMEOUT) as done:
        w.evaluate_dataset(show_panel=False)
    result = done.args[0]
    want = {s: sum(confusion_matrix(w.dataset.label(t), _exact(w, t)[s], n) for t in w.dataset.stems)
            for s in (32, 16, 8)}
    for s in (32, 16, 8):
        assert np.array_equal(result.matrices[s], want[s])


def test_calibration_runs_off_the_gui_thread_while_exact_results_keep_coming_and_is_cached(qtbot, window,
                                                                                           monkeypatch):
    w = window
    real = runtime_int8._quantize
    calls, release = [], threading.Event()

    def spy(*args, **kwargs):
        calls.append(threading.current_thread() is threading.main_thread())
        assert release.wait(30), "the test never released the calibration"
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime_int8, "_quantize", spy)
    messages = []
    w.status_bar.messageChanged.connect(messages.append)
    w.actions.fast_preview.setChecked(True)
    qtbot.waitUntil(lambda: bool(calls), timeout=TIMEOUT)
    # calibrating: the worker still answers a new image with its exact prediction, no preview
    stem = _uncached(w)
    w.show_stem(stem)
    qtbot.waitUntil(lambda: w.current_stem == stem and w.current_results is not None, timeout=TIMEOUT)
    assert w.fast_preview.state.status == "calibrating" and w.fast_preview.state.shown_stem is None
    with qtbot.waitSignal(w.fast_preview.ready, timeout=TIMEOUT) as ready:
        release.set()
    assert calls == [False]  # quantized once, not on the GUI thread
    assert any("calibrating int8 on 3 images" in m for m in messages), messages
    preview = ready.args[0]
    assert 0 <= preview.agreement <= 1 and preview.held_out == 3
    text = f"int8 preview: {percent(preview.agreement)} of labels equal to fp32 on 3 held-out images"
    assert any(m.startswith(text) for m in messages), messages
    assert text.removeprefix("int8 preview: ") in w.actions.fast_preview.toolTip()
    assert w.device_label.text() == "cpu · fp32 · int8 preview"
    # off: the worker drops the sessions; on again for the same model and dataset: from the cache
    w.actions.fast_preview.setChecked(False)
    qtbot.waitUntil(lambda: w.client.worker.preview is None, timeout=TIMEOUT)
    assert w.fast_preview.state.preview is None and w.device_label.text() == "cpu · fp32"
    _turn_on(qtbot, w)
    assert calls == [False] and w.fast_preview.state.preview.agreement == preview.agreement
    # a real int8 preview of a new image, replaced by the exact labels
    shown = []
    w.fast_preview.preview_shown.connect(shown.append)
    other = _uncached(w)
    w.show_stem(other)
    qtbot.waitUntil(lambda: w.current_stem == other and w.current_results is not None, timeout=TIMEOUT)
    assert shown == [other]
    assert np.array_equal(w.grid._pred.labels, _exact(w, other)[w.current_stride])
    w.close()  # with the preview on: the worker thread ends
    assert not w.client.thread.isRunning() and w.client.worker.preview is None


def test_without_onnxruntime_the_switch_turns_itself_off_and_says_why(qtbot, window, monkeypatch):
    w = window
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with qtbot.waitSignal(w.fast_preview.failed, timeout=TIMEOUT):
        w.actions.fast_preview.setChecked(True)
    assert not w.actions.fast_preview.isChecked() and not w.fast_preview.button.isChecked()
    message = w.status_bar.currentMessage()
    assert message.startswith("Fast preview (int8) is off: onnxruntime is not installed"), message
    assert w.client.worker.preview is None and w.fast_preview.state.status == "off"


def test_reasons_for_nets_and_devices_the_preview_cannot_run():
    gpu = SimpleNamespace(predictors=[SimpleNamespace(device="cuda", precision="fp16")])
    assert "CPU only, not cuda" in unsuitable(gpu)
    assert "stored predictions" in unsuitable(SimpleNamespace(predictors=[]))
    assert unsuitable(None) == "no model is open"


def test_calibration_images_are_spread_over_the_dataset_and_read_by_its_reader(tmp_path):
    read = []
    samples = [SimpleNamespace(stem=f"s{i:03d}", image_path=tmp_path / f"s{i:03d}.json") for i in range(100)]
    dataset = SimpleNamespace(samples=samples, image=lambda stem: read.append(stem) or np.zeros((4, 4, 3)))
    calibration = calibration_for(dataset)
    calib, held = calibration.split()
    assert len(calib) == 32 and len(held) == 8
    assert calib[0].name == "s000.json" and held[-1].name == "s097.json"  # first to last, not the first 40
    calibration.read(held[-1])
    assert read == ["s097"]  # the dataset's own reader (labelme JSON here), by stem


def test_a_preview_of_an_image_the_user_has_left_never_shows(qtbot, window, shifted):
    w = window
    _turn_on(qtbot, w)
    second = _uncached(w)
    first = _uncached(w, next(s for s in w.dataset.stems[1:] if s not in (w.current_stem, second)))
    shown = []  # (stem asked for last, what the prediction panel shows)
    origin = {}  # id of each StrideResult the worker sent -> (stem, "preview" / "exact")
    w.client.preview_ready.connect(lambda r: origin.update({id(v): (r.stem, "preview")
                                                           for v in r.results.values()}))
    w.client.result_ready.connect(lambda r: origin.update({id(v): (r.stem, "exact")
                                                          for v in (r.results or {}).values()}))
    real_set = w.grid.set_prediction

    def watch(result, **kw):
        shown.append((w._requested_stem, result))
        real_set(result, **kw)

    monkeypatch_grid = pytest.MonkeyPatch()
    monkeypatch_grid.setattr(w.grid, "set_prediction", watch)
    moved = threading.Event()
    shifted[0].hold = moved  # the preview of `first` is computed only after the user moved on

    def leave(stem):
        if stem == first:
            w.show_stem(second)
            moved.set()

    w.current_image_changed.connect(leave)
    try:
        w.show_stem(first)
        qtbot.waitUntil(lambda: w.current_stem == second and w.current_results is not None, timeout=TIMEOUT)
        qtbot.wait(50)  # anything of `first` still queued is delivered now
    finally:
        monkeypatch_grid.undo()
    assert moved.is_set()
    # from the moment the user asked for `second`, nothing of `first` (its late preview, its exact result)
    kinds = [origin.get(id(r)) for stem, r in shown if r is not None and stem == second]
    assert kinds and all(k is not None and k[0] == second for k in kinds), kinds
    assert kinds[-1] == (second, "exact")
    assert np.array_equal(w.grid._pred.labels, _exact(w, second)[w.current_stride])


def test_a_net_that_also_needs_depth_is_refused_with_the_runtimes_reason(tmp_path, monkeypatch):
    from app.fast_preview import PreviewUnavailable, build_preview
    from app.model_set import load_model_set
    from fcn_core.data.datasets import open_dataset
    from tests.paper_app_fixtures import make_nyud, save_tiny_model

    monkeypatch.setenv("FCN_STUDIO_CACHE", str(tmp_path / "cache"))
    dataset = open_dataset(make_nyud(tmp_path / "nyud", h=36, w=48))
    models = load_model_set([save_tiny_model(tmp_path / "rgbd.safetensors", "nyud-fcn32s-color-d", dataset)],
                            device="cpu")
    with pytest.raises(PreviewUnavailable, match="takes the photo only, and this net also needs depth"):
        build_preview(models, dataset)
    assert models.predictors[0].backend == "torch" and models.predictors[0].precision == "fp32"


def test_fast_preview_flag_turns_it_on_at_start(qtbot, tmp_path, monkeypatch, files):
    from app.launch import start

    monkeypatch.setenv("FCN_STUDIO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FCN_STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    monkeypatch.setattr(Saver, "ask_restore", lambda self, found: "later")
    settings.use_ini_file(str(tmp_path / "settings.ini"))
    settings.set_auto_evaluate(False)
    data, model = files
    try:
        _app, w, _status = start(["--data", str(data), "--weights", str(model), "--fast-preview",
                                  "--size", "1024x640"])
        qtbot.addWidget(w)
        assert w.actions.fast_preview.isChecked()  # waits for the dataset and the model, then calibrates
        qtbot.waitUntil(lambda: w.fast_preview.state.on, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: w.client.worker.preview is not None, timeout=TIMEOUT)
        w.close()
    finally:
        settings.use_ini_file(None)


def test_turning_the_preview_off_stops_a_calibration_in_flight(qtbot, window, monkeypatch, tmp_path):
    """The calibration stops at its next image once the preview is turned off, instead of running to the end
    for nobody; nothing half-made reaches the cache."""
    w = window
    real_inputs = runtime_int8._inputs
    first_read, release = threading.Event(), threading.Event()
    reads = []

    def inputs(loaded, paths, read=None):
        for x in real_inputs(loaded, paths, read):
            reads.append(1)
            if len(reads) == 2:  # the second image waits until the test has turned the preview off
                first_read.set()
                assert release.wait(30), "the test never released the calibration"
            yield x

    monkeypatch.setattr(runtime_int8, "_inputs", inputs)
    w.actions.fast_preview.setChecked(True)
    assert first_read.wait(TIMEOUT / 1000)
    loader = w.fast_preview._thread
    w.actions.fast_preview.setChecked(False)
    release.set()
    qtbot.waitUntil(lambda: not loader.is_alive(), timeout=TIMEOUT)
    assert len(reads) == 2  # stopped before the third image
    cache = tmp_path / "cache" / "onnx"
    assert not list(cache.glob("*int8*")), list(cache.iterdir())  # no int8 graph, report or temporary folder
    assert w.fast_preview.state.status == "off" and w.client.worker.preview is None
