"""Opening datasets and models from dialogs, drag-and-drop and the recent list (paths only; the window
does the loading in the background)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QWidget

from app import settings

MODEL_SUFFIXES = (".pth", ".pt", ".safetensors", ".ckpt")


def split_dropped(paths: list[str]) -> tuple[str | None, list[str]]:
    """From dropped paths: the first folder (a dataset) and every model file."""
    folder = next((p for p in paths if Path(p).is_dir()), None)
    models = [p for p in paths if Path(p).is_file() and Path(p).suffix.lower() in MODEL_SUFFIXES]
    return folder, models


def _existing_folder(*candidates) -> str:
    """The first candidate that is an existing folder ("" = the dialog's own default)."""
    for c in candidates:
        if c and Path(c).is_dir():
            return str(c)
    return ""


def _bundled(path: str) -> bool:
    """A path inside the application's bundled resources (the demo model), not a folder the user chose."""
    from fcn_core import resources

    try:
        return Path(path).resolve().is_relative_to(resources.RESOURCES)
    except (OSError, ValueError):
        return False


def dataset_start_folder(window) -> str:
    """Where "Open dataset" starts: beside the dataset open now, else beside the one opened last."""
    ds = getattr(window, "dataset", None)
    last = settings.recent("datasets")
    return _existing_folder(Path(ds.root).parent if ds is not None else None,
                            *(Path(e[0]).parent for e in last[:1]))


def models_start_folder(window) -> str:
    """Where "Open model" starts: the folder of the model opened last (the bundled demo does not count),
    else beside the dataset open now."""
    chosen = [e[0] for e in settings.recent("models") if not _bundled(e[0])]
    ds = getattr(window, "dataset", None)
    return _existing_folder(*(Path(p).parent for p in chosen[:1]),
                            Path(ds.root).parent if ds is not None else None)


def ask_dataset(parent: QWidget) -> str | None:
    """Folder dialog for a dataset, starting in the last used folder (not the process's working folder)."""
    path = QFileDialog.getExistingDirectory(parent, "Open dataset folder", dataset_start_folder(parent))
    return path or None


def ask_models(parent: QWidget) -> list[str]:
    """File dialog for one multi-stride checkpoint or several single-stride ones (starts in the last used
    model folder)."""
    files, _ = QFileDialog.getOpenFileNames(
        parent, "Open model: one multi-stride checkpoint, or 32s/16s/8s checkpoints as a set",
        models_start_folder(parent), "Checkpoints (*.safetensors *.pth *.pt *.ckpt);;All files (*)")
    return list(files)


def ask_predictions(parent: QWidget) -> str | None:
    """Folder dialog for stored predictions (label images matched by name, or 32s/16s/8s folders)."""
    ds = getattr(parent, "dataset", None)
    start = _existing_folder(*(Path(e[0]).parent for e in settings.recent("predictions")[:1]),
                             Path(ds.root).parent if ds is not None else None)
    path = QFileDialog.getExistingDirectory(parent, "Open predictions folder", start)
    return path or None


def format_candidates(path: str) -> tuple[list[str], str | None]:
    """(names of the dataset formats that recognise the folder, the one detection would pick)."""
    from fcn_core.data.formats import detect_format, detect_formats

    try:
        return [f.name for f in detect_formats(path)], detect_format(path).name
    except (OSError, ValueError):
        return [], None


def ask_format(parent: QWidget, path: str) -> tuple[bool, str | None]:
    """Which format to open ``path`` as: ``(True, None)`` = detect (exactly one format recognises it);
    otherwise the user picks from every format (``(False, None)`` when cancelled)."""
    from fcn_core.data.formats import format_names

    found, detected = format_candidates(path)
    if len(found) == 1:
        return True, None
    names = format_names()
    first = found[0] if found else (detected or names[-1])
    why = (f"{Path(path).name} looks like {' and '.join(found)}." if found
           else f"No dataset layout was recognised in {Path(path).name} (only image files).")
    name, ok = QInputDialog.getItem(parent, "Dataset format", f"{why}\nOpen it as:", names,
                                    names.index(first), False)
    return (bool(ok), str(name) if ok else None)


def fill_recent_menu(menu: QMenu, window) -> None:
    """Rebuild the File ▸ Recent submenu from the saved lists."""
    menu.clear()
    datasets, models = settings.recent("datasets"), settings.recent("models")
    for entry in datasets:
        act = menu.addAction(f"Dataset: {entry[0]}")
        act.triggered.connect(lambda _=False, p=entry[0]: window.open_dataset(p))
    if datasets and models:
        menu.addSeparator()
    for entry in models:
        act = menu.addAction("Model: " + ", ".join(Path(p).name for p in entry))
        act.setToolTip("\n".join(entry))
        act.triggered.connect(lambda _=False, ps=entry: window.open_models(ps))
    stored = settings.recent("predictions")
    if stored and (datasets or models):
        menu.addSeparator()
    for entry in stored:
        act = menu.addAction(f"Predictions: {entry[0]}")
        act.triggered.connect(lambda _=False, p=entry[0]: window.open_predictions(p))
    if not datasets and not models and not stored:
        menu.addAction("(none yet)").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear recent", lambda: (settings.clear_recent(), fill_recent_menu(menu, window)))


def open_dropped(window, paths: list[str]) -> None:
    """Dropped folders open as a dataset, dropped weight files as one model set."""
    folder, models = split_dropped(paths)
    if models:
        window.open_models(models)
    if folder:
        window.open_dataset(folder)


def screenshot_default_path(window) -> str:
    """The suggested screenshot file: in the Pictures folder (else home), named after the image and stride
    shown, e.g. ``fcn-studio-0016E5_07959-8s.png`` (not the process's working folder)."""
    from PySide6.QtCore import QStandardPaths

    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    folder = _existing_folder(pictures, Path.home()) or "."
    stem = getattr(window, "current_stem", None)
    name = f"fcn-studio-{stem}-{getattr(window, 'current_stride', 8)}s.png" if stem else "fcn-studio.png"
    return str(Path(folder) / name)


def save_screenshot(window: QWidget) -> None:
    """Ask for a file name and save the window as PNG; a failed write is reported, not silent."""
    path, _ = QFileDialog.getSaveFileName(window, "Save screenshot", screenshot_default_path(window),
                                          "PNG (*.png)")
    if not path:
        return
    if window.grab().save(path):
        window.statusBar().showMessage(f"Screenshot saved: {path}", 8000)
    elif hasattr(window, "report_error"):
        window.report_error(f"Cannot save the screenshot to {path} (is the folder writable?)")
