"""Start FCN Studio: parse arguments, create the QApplication and the main window.

``python main.py`` opens the bundled demo; ``--data DIR --weights FILE [FILE ...]`` opens a dataset and a
model (one multi-stride checkpoint or one checkpoint per stride); ``--screenshot OUT.png`` renders
offscreen, saves the window once the first predictions are on screen and exits.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the GUI."""
    p = argparse.ArgumentParser(prog="fcn-studio",
                                description="Inspect and correct FCN-32s/16s/8s predictions.")
    p.add_argument("--data", metavar="DATASET",
                   help="dataset folder (VOC layout, index PNGs, labelme, images)")
    p.add_argument("--weights", metavar="FILE", nargs="+",
                   help="one multi-stride checkpoint, or separate 32s/16s/8s checkpoints (one stride each)")
    p.add_argument("--predictions", metavar="DIR",
                   help="stored predictions instead of a model: a folder of label images matched to the "
                        "dataset's images by name, or the 32s/ 16s/ 8s/ folders of `fcn predict --stride "
                        "all` (with confidence/ and margin/ from --save-confidence); needs --data")
    p.add_argument("--format", dest="data_format", metavar="NAME", default=None,
                   help="dataset format instead of detecting it (as `fcn --format`: cityscapes, kitti, "
                        "ade20k, mapillary, camvid, camvid32, voc, index, labelme, images, ...)")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: CUDA when available)")
    p.add_argument("--precision", default="fp32", choices=("fp32", "fp16", "bf16"))
    p.add_argument("--backend", default="torch", choices=("auto", "torch", "onnxruntime"),
                   help="torch (default: the scores equal fcn evaluate's exactly); auto: ONNX Runtime for "
                   "fp32 on the CPU when installed (faster; labels equal but for near-ties, margin < 2e-6), "
                   "else torch")
    p.add_argument("--fast-preview", action="store_true",
                   help="turn on View → Fast preview (int8): each image's int8 ONNX Runtime prediction "
                   "(calibrated on the dataset, CPU only) shows first, then the exact one replaces it; "
                   "scores always use the exact one")
    p.add_argument("--memory-mb", type=float, default=None, metavar="MB",
                   help="working memory of one forward pass; larger images are predicted in overlapping "
                   "tiles with the same labels (default 1024)")
    p.add_argument("--image", metavar="STEM", help="image to show first")
    p.add_argument("--stride", type=int, choices=(32, 16, 8), help="stride to show first")
    p.add_argument("--split", metavar="NAME",
                   help="dataset split to browse and evaluate (default: val when the dataset has one; "
                        "'all' for every image)")
    p.add_argument("--error-map", action="store_true", help="show the error-map panel")
    p.add_argument("--confidence-map", action="store_true", help="show the confidence-map panel")
    p.add_argument("--evaluate", action="store_true", help="evaluate the whole dataset after opening")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="render offscreen, save the window once predictions show, and exit")
    p.add_argument("--size", default=None,
                   help="window size WxH (default: 1600x1000, or maximised on a smaller screen)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="--screenshot: give up after this many seconds")
    return p


DEFAULT_SIZE = (1600, 1000)


def _place_window(window, size: str | None, *, offscreen: bool) -> bool:
    """Size the window: ``--size WxH`` as given; else 1600x1000 when the screen has room (always offscreen),
    centred. Returns True when the screen is smaller and the window should open maximised instead."""
    if size:
        w, _, h = size.lower().partition("x")
        window.resize(int(w or DEFAULT_SIZE[0]), int(h or DEFAULT_SIZE[1]))
        return False
    window.resize(*DEFAULT_SIZE)
    screen = window.screen()
    if offscreen or screen is None:
        return False
    avail = screen.availableGeometry()
    if avail.width() < DEFAULT_SIZE[0] or avail.height() < DEFAULT_SIZE[1]:
        window.setGeometry(avail)  # also right where no window manager honours "maximised"
        return True
    frame = window.frameGeometry()
    frame.moveCenter(avail.center())
    window.move(frame.topLeft())
    return False


def demo_paths() -> tuple[Path, list[Path]]:
    """(dataset folder, [model file]) of the bundled demo, generating the demo data on first use."""
    from fcn_core.resources import demo_paths as core_demo_paths

    found = core_demo_paths()
    if isinstance(found, tuple | list):
        data, model = found[0], found[1]
    elif isinstance(found, dict):
        data, model = found.get("data") or found.get("dataset"), found.get("model") or found.get("weights")
    else:
        data = getattr(found, "data", None) or getattr(found, "dataset", None)
        model = getattr(found, "model", None) or getattr(found, "weights", None)
    models = [Path(m) for m in model] if isinstance(model, list | tuple) else [Path(model)]
    return Path(data), models


def _arguments_problem(args) -> str | None:
    """What is wrong with ``--predictions`` / ``--format`` (None when nothing)."""
    if args.predictions is not None:
        if args.weights:
            return "give either --weights (a model) or --predictions (stored predictions), not both"
        if args.data is None:
            return "--predictions needs a dataset (--data DATASET): predictions hold class indices"
    if args.data_format is not None:
        from fcn_core.data.formats import format_names

        if args.data_format.lower() not in format_names():
            return (f"unknown dataset format {args.data_format!r}; known formats: "
                    f"{', '.join(format_names())}")
    return None


def _split_problem(split: str, data, data_format: str | None = None) -> str | None:
    """Why ``--split`` cannot be honoured for dataset folder ``data`` (None when it can, or when the dataset
    itself cannot be opened: the window then says why)."""
    from app.split_filter import unknown_split_message
    from fcn_core.data.datasets import open_dataset

    if data is None:
        return "--split needs a dataset (--data DATASET)"
    try:
        dataset = open_dataset(data, format=data_format)  # lists files only (cheap); the window reopens it
    except Exception:  # noqa: BLE001 - reported by the window like any unreadable dataset
        return None
    return unknown_split_message(split, data, dataset.splits)


def prepare_demo_in_background(window, on_ready):
    """First start: the window is already up; the demo data (about 10 s of drawing on 2 cores) is generated
    on a thread while a centred note and the status bar say so, then ``on_ready(data, weights)`` opens it
    (a failure is reported in the window)."""
    from PySide6.QtCore import QTimer

    from app.views.busy_note import BusyNote
    from fcn_core.resources import ensure_demo_dataset

    def prepare(_progress, _stop):
        data = ensure_demo_dataset()
        try:
            return demo_paths()
        except FileNotFoundError as exc:  # no bundled model: the demo images can still be browsed
            return data, [], f"cannot prepare the bundled demo: {exc}"

    note = BusyNote(window.centralWidget(), "Preparing the demo data …\n(first start only, about 10 s)")
    ticks = QTimer(window)
    ticks.setInterval(1000)
    elapsed = {"s": 0}

    def tick() -> None:
        elapsed["s"] += 1
        window.status_bar.showMessage(f"Preparing the demo data (first start only) … {elapsed['s']} s")

    def finished(found) -> None:
        ticks.stop()
        note.close()
        window.status_bar.showMessage("Demo data ready: opening it …", 4000)
        on_ready(found[0], found[1])
        if len(found) > 2:
            window.report_error(found[2], modal_box=False)

    def failed(message: str) -> None:
        ticks.stop()
        note.close()
        window.report_error(f"Cannot prepare the bundled demo: {message.splitlines()[0]}", modal_box=False)

    ticks.timeout.connect(tick)
    window.status_bar.showMessage("Preparing the demo data (first start only) …")
    ticks.start()
    # a job like every other: closing meanwhile joins it (the generation is atomic) rather than killing it
    task = window.jobs.start(prepare, name="demo data", on_done=finished, on_error=failed)
    window.demo_task = task  # kept alive (and reachable from tests) while it runs
    return task


def screenshot_with_preview(window, save) -> None:
    """``--screenshot --fast-preview``: once the first view is on screen and the int8 preview is ready, open
    an image whose exact prediction is not at hand and save the window while its preview shows (before the
    exact result replaces it). When the preview cannot run, the window is saved with the status bar saying
    why."""
    from PySide6.QtCore import QTimer

    switch = window.fast_preview
    flags = {"first": False, "saved": False}

    def save_once(settle: bool) -> None:
        if not flags["saved"]:
            flags["saved"] = True
            save(settle=settle)

    def next_image() -> None:
        if not (flags["first"] and switch.state.on):
            return
        ms, stems = window.model_set, window.browser.stems_in_order() or list(window.dataset.stems)
        far = [s for s in stems[len(stems) // 2:] + stems[: len(stems) // 2]  # not the prefetched neighbours
               if s != window.current_stem and window.cache.get_all(s, ms.model_id, ms.strides) is None]
        if far:
            window.show_stem(far[0])
        else:
            save_once(True)

    def first_view() -> None:
        flags["first"] = True
        next_image()

    switch.preview_shown.connect(lambda _stem: save_once(False))  # now: the exact result is on its way
    switch.ready.connect(lambda _p: QTimer.singleShot(0, next_image))
    switch.failed.connect(lambda _msg: QTimer.singleShot(400, lambda: save_once(True)))
    window.first_view_ready.connect(first_view)


def start(argv: list[str] | None = None):
    """Create the application and the shown main window for ``argv``: ``(app, window, status)``, or an
    exit status when the arguments are wrong. ``main`` runs the event loop on top."""
    args = build_parser().parse_args(argv)
    if args.screenshot and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("FCN Studio")
    app.setOrganizationName("FCN Studio")
    style = Path(__file__).with_name("style.qss")
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))

    data, weights = args.data, args.weights
    problem = _arguments_problem(args)
    if problem:
        print(f"fcn-studio: error: {problem}", file=sys.stderr)
        return 2
    demo_problem = None
    demo_later = (data is None and weights is None and args.predictions is None and not _demo_ready())
    if data is None and weights is None and args.predictions is None and not demo_later:
        try:
            data, weights = demo_paths()
        except Exception as exc:  # noqa: BLE001 - the window still opens, with the reason shown
            demo_problem = f"cannot prepare the bundled demo: {exc}"
            print(f"fcn-studio: {demo_problem}", file=sys.stderr)
            try:  # the generated demo images can still be browsed without the model
                from fcn_core.resources import ensure_demo_dataset

                data = ensure_demo_dataset()
            except Exception:  # noqa: BLE001
                data = None
    if args.split and not demo_later:
        problem = _split_problem(args.split, data, args.data_format)
        if problem:
            print(f"fcn-studio: error: {problem}", file=sys.stderr)
            return 2
    window = MainWindow(device=args.device, precision=args.precision, backend=args.backend)
    window.memory_mb = args.memory_mb
    window.split_choice = args.split
    if demo_problem:
        QTimer.singleShot(0, lambda: window.report_error(demo_problem, modal_box=False))
    maximise = _place_window(window, args.size, offscreen=bool(args.screenshot))
    if args.error_map:
        window.actions.show_error.setChecked(True)
    if args.confidence_map:
        window.actions.show_confidence.setChecked(True)
    if args.stride:
        window.current_stride = args.stride
    if args.fast_preview:  # calibrates once a dataset and a model are open
        window.actions.fast_preview.setChecked(True)
    status = {"code": 0}
    if args.screenshot:
        out = Path(args.screenshot)

        def save_and_quit(*, settle: bool = True) -> None:
            if settle:
                app.processEvents()
            ok = window.grab().save(str(out))
            print(f"fcn-studio: screenshot {'saved to' if ok else 'could not be written to'} {out}")
            status["code"] = 0 if ok else 1
            window.close()
            app.quit()

        def give_up() -> None:
            print(f"fcn-studio: no predictions on screen after {args.timeout:.0f} s; "
                  f"last status: {window.status_bar.currentMessage()}", file=sys.stderr)
            status["code"] = 2
            window.close()
            app.quit()

        def cannot_open(message: str) -> None:  # nothing to wait for: say why and stop now
            print(f"fcn-studio: error: {message}", file=sys.stderr)
            status["code"] = 2
            window.close()
            app.quit()

        if args.fast_preview:
            screenshot_with_preview(window, save_and_quit)
        else:
            window.first_view_ready.connect(lambda: QTimer.singleShot(400, save_and_quit))
        window.dataset_failed.connect(cannot_open)
        window.error_reported.connect(lambda msg: print(f"fcn-studio: {msg}", file=sys.stderr))
        QTimer.singleShot(int(args.timeout * 1000), give_up)
    window.initial_stem = args.image
    if args.evaluate:
        pending = {"data": data is not None or demo_later,
                   "model": bool(weights) or args.predictions is not None or demo_later}

        def maybe_evaluate(kind: str) -> None:
            pending[kind] = False
            if not any(pending.values()):
                window.evaluate_dataset()

        window.dataset_opened.connect(lambda _d: maybe_evaluate("data"))
        window.models_opened.connect(lambda _m: maybe_evaluate("model"))
    if weights:
        window.open_models(weights)
    if args.predictions:
        window.open_predictions(args.predictions)  # read once the dataset is open
    if data:
        window.open_dataset(data, format=args.data_format)
    if maximise:
        window.showMaximized()
    else:
        window.show()
    if demo_later:
        def open_demo(demo_data, demo_weights) -> None:
            if demo_weights:
                window.open_models(demo_weights)
            window.open_dataset(demo_data)

        prepare_demo_in_background(window, open_demo)
    return app, window, status


def _demo_ready() -> bool:
    from fcn_core.resources import demo_dataset_ready

    return demo_dataset_ready()


def main(argv: list[str] | None = None) -> int:
    """Run the GUI; returns the process exit status."""
    started = start(argv)
    if isinstance(started, int):
        return started
    app, _window, status = started
    code = app.exec()
    return status["code"] or code


if __name__ == "__main__":
    raise SystemExit(main())
