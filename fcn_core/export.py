"""Export a dataset (with its corrections) as a clean folder in a chosen format plus a manifest.

The default (``format="voc"``): ``JPEGImages/`` (photos copied byte for byte), ``SegmentationClass/``
(palette PNGs, void 255, the corrected label where one exists), ``SegmentationClassVisualization/`` (photo
blended with label colours), ``ImageSets/Segmentation/*.txt``, ``class_names.txt`` and ``manifest.json`` (per
image: sources, corrected?, changed pixels, SHA-256 of the written files). Other formats (``index-png``,
``cityscapes``, ``cvat-mask``) are written by ``fcn_core.data.formats.writers``. Every label file written is
read back and compared with the label map meant (``manifest["verified"]``); any difference stops the export.
An image whose own files are bad (unreadable, wrong size, values that are no class) is read and checked
before anything of it is written, then left out and listed under ``manifest["failed"]``; the rest go on.
Everything is built in a hidden folder next to the destination and moved into place at the end, so an
interrupted export leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from fcn_core import VOID
from fcn_core.data.atomic import default_mode
from fcn_core.data.datasets import Dataset, Sample, open_dataset
from fcn_core.data.errors import DataError, describe_failures, failure
from fcn_core.data.formats.writers import FORMATS, Writer, make_writer


def parse_split(spec: str) -> dict[str, float]:
    """``"train=0.8,val=0.2"`` → ``{"train": 0.8, "val": 0.2}``; fractions must be positive and sum to 1."""
    out: dict[str, float] = {}
    for part in spec.split(","):
        name, sep, frac = part.strip().partition("=")
        if not sep or not name:
            raise ValueError(f"split {spec!r}: expected NAME=FRACTION pairs like train=0.8,val=0.2")
        try:
            out[name.strip()] = float(frac)
        except ValueError:
            raise ValueError(f"split {spec!r}: {frac!r} is not a number") from None
    if any(v <= 0 for v in out.values()) or abs(sum(out.values()) - 1.0) > 1e-6:
        raise ValueError(f"split {spec!r}: fractions must be positive and add up to 1")
    return out


def assign_split(stems: list[str], fractions: dict[str, float], seed: int) -> dict[str, list[str]]:
    """Shuffle ``stems`` with ``seed``, cut them by ``fractions`` (cumulative rounding); lists sorted."""
    order = list(np.random.default_rng(seed).permutation(len(stems)))
    bounds = np.round(np.cumsum(list(fractions.values())) * len(stems)).astype(int)
    bounds[-1] = len(stems)
    out, start = {}, 0
    for name, end in zip(fractions, bounds):
        out[name] = sorted(stems[i] for i in order[start:end])
        start = end
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_within(inner: Path, outer: Path) -> bool:
    try:
        inner.resolve().relative_to(outer.resolve())
        return True
    except ValueError:
        return False


def _source_folders(dataset: Dataset, labels_dir: Path | None) -> list[tuple[str, Path]]:
    """The folders an export must never write into nor replace: the dataset, its image and label folders
    (wherever they are: a descriptor may point outside the root) and the corrections folder."""
    folders: dict[Path, str] = {dataset.root.resolve(): "the source dataset"}
    for s in dataset.samples:
        if s.image_path is not None:
            folders.setdefault(s.image_path.parent.resolve(), "the source image folder")
        if s.original_label_path is not None:
            folders.setdefault(s.original_label_path.parent.resolve(), "the source label folder")
    if labels_dir is not None:
        folders.setdefault(labels_dir.resolve(), "the corrections folder")
    return [(what, folder) for folder, what in folders.items()]


def _check_destination(out: Path, dataset: Dataset, labels_dir: Path | None, force: bool) -> None:
    # Symlinks resolved: a link to the dataset is the dataset. Inside or around a source folder, replacing
    # the destination (--force) or moving the export into place could delete photos or ground truth.
    folders = sorted(_source_folders(dataset, labels_dir), key=lambda wf: len(wf[1].parts))
    for what, folder in reversed(folders):  # the innermost folder says best where the destination is
        if _is_within(out, folder):
            raise DataError(out, f"destination is inside {what} {folder}; exporting there could overwrite or "
                                 "delete source files, choose a folder outside the dataset")
    for what, folder in folders:
        if _is_within(folder, out):
            raise DataError(out, f"destination holds {what} {folder}; exporting there would delete it, "
                                 "choose another folder")
    if out.exists() and not out.is_dir():
        raise DataError(out, "destination exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DataError(out, "destination folder is not empty (use --force to replace it)")


class _Read(NamedTuple):
    """One sample, read and checked, ready for the writer."""

    sample: Sample
    image: np.ndarray
    labels: np.ndarray
    changed: int | None  # pixels the correction changed; None when the original could not be read
    original_error: str | None


def _read_one(dataset: Dataset, stem: str) -> _Read:
    """Read and check everything of ``stem`` before anything is written, so a bad file leaves no files
    behind; DataError naming the bad file."""
    s = dataset.sample(stem)
    labels = dataset.label(stem)
    image = dataset.image(stem)
    if image.shape[:2] != labels.shape:
        raise DataError(s.label_path, f"label is {labels.shape[1]}x{labels.shape[0]} but the image is "
                                      f"{image.shape[1]}x{image.shape[0]}")
    changed: int | None = 0
    original_error = None
    if s.corrected and s.original_label_path is not None:
        try:
            original = dataset.original_label(stem)
        except DataError as exc:  # a broken original is a reason to correct it, not to refuse the correction
            changed, original_error = None, str(exc)
        else:
            changed = int((original != labels).sum()) if original.shape == labels.shape else int(labels.size)
    return _Read(s, image, labels, changed, original_error)


def _write_one(item: _Read, tmp: Path, writer: Writer) -> dict[str, Any]:
    s, labels = item.sample, item.labels
    written = writer.write(s, item.image, labels)  # the format's files, each read back and compared
    entry = {
        "image_source": str(s.image_path),
        "label_source": str(s.label_path),
        "original_label": None if s.original_label_path is None else str(s.original_label_path),
        "corrected": bool(s.corrected),
        "changed_pixels": item.changed,
        **written,
        "image_sha256": _sha256(tmp / written["image"]),
        "label_sha256": _sha256(tmp / written["label"]),
        "size": [int(labels.shape[1]), int(labels.shape[0])],
    }
    if item.original_error is not None:
        entry["original_error"] = item.original_error
    return entry


def _unmatched_corrections(dataset: Dataset) -> list[str]:
    """Names of correction PNGs whose stem is no image of the dataset (so they were not exported)."""
    folder = dataset.labels_dir
    if folder is None or not folder.is_dir():
        return []
    stems = set(dataset.stems)
    return sorted(p.name for p in folder.glob("*.png") if not p.name.startswith(".") and p.stem not in stems)


def _move_into_place(tmp: Path, out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / "x")
        try:
            os.replace(tmp, out)
        except OSError:
            os.replace(old / "x", out)  # put the previous export back
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)


def export_dataset(dataset: Dataset | str | os.PathLike[str], out: str | os.PathLike[str], *,
                   labels_dir: str | os.PathLike[str] | None = None,
                   split: str | dict[str, float] | None = None,
                   seed: int = 0, force: bool = False, progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, format: str = "voc",
                   void_value: int = VOID, city: str = "fcn") -> dict[str, Any]:
    """Write ``dataset`` (with corrections from ``labels_dir``) to ``out`` in ``format`` (one of
    ``writers.FORMATS``: voc, index-png with label void ``void_value``, cityscapes with city ``city``,
    cvat-mask); return the manifest.

    ``split`` ("train=0.8,val=0.2") makes a new random split with ``seed``; otherwise the dataset's own
    split files are kept (``trainval`` = everything when it has none). Samples without a label are left out
    (listed under ``"skipped"``). ``force`` replaces a non-empty ``out``. If ``should_stop()`` turns True or
    anything fails, ``out`` is left as it was and the manifest says ``"stopped": True`` (or the error raises).

    An image whose label or photo is bad (unreadable, wrong size, values that are no class) is left out and
    listed under ``"failed"`` (``[{"stem", "file", "error"}]``, in dataset order); the others are exported.
    Raises DataError when no image could be exported, and when ``out`` is inside or around the dataset,
    its image or label folders or the corrections folder (symlinks resolved): nothing is written then.
    """
    if not isinstance(dataset, Dataset):
        dataset = open_dataset(dataset, labels_dir=labels_dir)
    elif labels_dir is not None and Path(labels_dir) != dataset.labels_dir:
        dataset = open_dataset(dataset.root, void_value=dataset.void_value, labels_dir=labels_dir,
                               format=dataset.kind)
    out = Path(out)
    fractions = parse_split(split) if isinstance(split, str) else split
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; one of {', '.join(FORMATS)}")
    _check_destination(out, dataset, dataset.labels_dir, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        os.chmod(tmp, default_mode(folder=True))  # mkdtemp's 0700 would make the export private
        labelled = [s.stem for s in dataset.samples if s.label_path is not None]
        skipped = [s.stem for s in dataset.samples if s.label_path is None]
        if not labelled:
            raise DataError(dataset.root, "no labelled images to export")
        writer = make_writer(format, dataset, tmp, void_value=void_value, city=city)
        writer.prepare(labelled)
        images: dict[str, Any] = {}
        failed: list[dict[str, Any]] = []
        for i, stem in enumerate(labelled):
            if should_stop is not None and should_stop():
                shutil.rmtree(tmp, ignore_errors=True)
                return {"stopped": True, "exported": 0, "failed": [], "destination": str(out)}
            try:
                item = _read_one(dataset, stem)
            except DataError as exc:  # one bad file: skip it, list it, go on with the rest
                failed.append(failure(stem, exc, dataset.sample(stem).label_path))
            else:  # the writer's own errors (and files read back different) stop the whole export
                images[stem] = _write_one(item, tmp, writer)
            if progress is not None:
                progress(i + 1, len(labelled))
        if not images:
            raise DataError(dataset.root, f"none of the {len(labelled)} labelled images could be exported: "
                                          + "; ".join(describe_failures(failed, 5)))
        exported = [stem for stem in labelled if stem in images]
        if fractions:
            splits = assign_split(exported, fractions, seed)
        else:
            keep = set(exported)
            splits = {n: [s for s in stems if s in keep] for n, stems in dataset.splits.items()}
            splits = splits or {"trainval": list(exported)}
        if writer.mismatches:
            raise DataError(out, f"{len(writer.mismatches)} written file(s) read back different from the "
                                 f"labels meant ({', '.join(writer.mismatches[:5])}); nothing was exported")
        for stem, moved in writer.finish(splits).items():  # split folders, known only now
            images[stem].update(moved)
        manifest = {
            "format": writer.name,
            "source": str(dataset.root),
            "labels_dir": None if dataset.labels_dir is None else str(dataset.labels_dir),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "class_names": list(dataset.class_names),
            "void_value": VOID,
            "source_void_value": dataset.void_value,
            "palette": [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in dataset.palette[: dataset.num_classes]],
            "split": {"fractions": fractions, "seed": seed if fractions else None,
                      "counts": {n: len(v) for n, v in splits.items()}},
            "exported": len(images),
            "corrected": sum(1 for v in images.values() if v["corrected"]),
            "skipped": skipped,
            "failed": failed,
            "unmatched_corrections": _unmatched_corrections(dataset),
            "verified": writer.verified(),
            **writer.extra_manifest(),
            "images": images,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        _move_into_place(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
    manifest["stopped"] = False
    manifest["destination"] = str(out)
    return manifest
