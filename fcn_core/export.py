"""Export a dataset (with its corrections) as a clean folder in a chosen format plus a manifest.

The default (``format="voc"``): ``JPEGImages/`` (photos copied byte for byte), ``SegmentationClass/``
(palette PNGs, void 255, the corrected label where one exists), ``SegmentationClassVisualization/`` (photo
blended with label colours), ``ImageSets/Segmentation/*.txt``, ``class_names.txt`` and ``manifest.json`` (per
image: sources, corrected?, changed pixels, SHA-256 of the written files). Other formats (``index-png``,
``cityscapes``, ``cvat-mask``) are written by ``fcn_core.data.formats.writers``. Every label file written is
read back and compared with the label map meant (``manifest["verified"]``); any difference stops the export.
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
from typing import Any

import numpy as np

from fcn_core import VOID
from fcn_core.data.atomic import default_mode
from fcn_core.data.datasets import Dataset, open_dataset
from fcn_core.data.errors import DataError
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


def _check_destination(out: Path, dataset: Dataset, labels_dir: Path | None, force: bool) -> None:
    if _is_within(dataset.root, out) or (labels_dir is not None and _is_within(labels_dir, out)):
        raise DataError(out, "destination holds the source dataset or its corrections; choose another folder")
    if out.exists() and not out.is_dir():
        raise DataError(out, "destination exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DataError(out, "destination folder is not empty (use --force to replace it)")


def _export_one(dataset: Dataset, stem: str, tmp: Path, writer: Writer) -> dict[str, Any]:
    s = dataset.sample(stem)
    labels = dataset.label(stem)
    image = dataset.image(stem)
    if image.shape[:2] != labels.shape:
        raise DataError(s.label_path, f"label is {labels.shape[1]}x{labels.shape[0]} but the image is "
                                      f"{image.shape[1]}x{image.shape[0]}")
    written = writer.write(s, image, labels)  # the format's files, each read back and compared
    changed = 0
    if s.corrected and s.original_label_path is not None:
        original = dataset.original_label(stem)
        changed = int((original != labels).sum()) if original.shape == labels.shape else int(labels.size)
    return {
        "image_source": str(s.image_path),
        "label_source": str(s.label_path),
        "original_label": None if s.original_label_path is None else str(s.original_label_path),
        "corrected": bool(s.corrected),
        "changed_pixels": changed,
        **written,
        "image_sha256": _sha256(tmp / written["image"]),
        "label_sha256": _sha256(tmp / written["label"]),
        "size": [int(labels.shape[1]), int(labels.shape[0])],
    }


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
    """
    if not isinstance(dataset, Dataset):
        dataset = open_dataset(dataset, labels_dir=labels_dir)
    elif labels_dir is not None and Path(labels_dir) != dataset.labels_dir:
        dataset = open_dataset(dataset.root, void_value=dataset.void_value, labels_dir=labels_dir)
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
        if fractions:
            splits = assign_split(labelled, fractions, seed)
        else:
            keep = set(labelled)
            splits = {n: [s for s in stems if s in keep] for n, stems in dataset.splits.items()}
            splits = splits or {"trainval": list(labelled)}
        writer = make_writer(format, dataset, tmp, void_value=void_value, city=city)
        writer.prepare(splits, labelled)
        images: dict[str, Any] = {}
        for i, stem in enumerate(labelled):
            if should_stop is not None and should_stop():
                shutil.rmtree(tmp, ignore_errors=True)
                return {"stopped": True, "exported": 0, "destination": str(out)}
            images[stem] = _export_one(dataset, stem, tmp, writer)
            if progress is not None:
                progress(i + 1, len(labelled))
        if writer.mismatches:
            raise DataError(out, f"{len(writer.mismatches)} written file(s) read back different from the "
                                 f"labels meant ({', '.join(writer.mismatches[:5])}); nothing was exported")
        writer.finish(splits)
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
