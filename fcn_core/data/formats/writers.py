"""Export writers: one per output format, each writing one sample at a time and re-reading what it wrote.

``fcn_core.export.export_dataset`` drives them: ``prepare`` (folders, checks that need the whole class
list), ``write`` per labelled sample that reads well (returns the manifest entry's paths and counts a
mismatch when the file read back differs from the label map meant), ``finish`` once the exported images and
their splits are known (split lists, class lists; layouts with one folder per split move the files there and
return the entries' new paths). Formats:

- ``voc``: ``JPEGImages/``, ``SegmentationClass/`` (palette PNGs, void 255),
  ``SegmentationClassVisualization/``, ``ImageSets/Segmentation/*.txt``, ``class_names.txt``.
- ``index-png``: ``images/``, ``labels/`` (mode-L PNGs, void = ``void_value``), ``splits/*.txt``,
  ``class_names.txt`` and a ``dataset.json`` saying the void value and colours.
- ``cityscapes``: ``leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png`` and
  ``gtFine/<split>/<city>/<stem>_gtFine_labelTrainIds.png`` (class index, void 255) + ``_gtFine_color.png``
  (void black), one split per image; written to ``.unsplit/`` first and moved into their split in ``finish``.
- ``cvat-mask``: CVAT "Segmentation mask 1.1": ``labelmap.txt``, ``SegmentationClass/`` (RGB colour masks),
  ``JPEGImages/``, ``ImageSets/Segmentation/<split>.txt`` (one split per image); void, if any, becomes the
  label ``ignored``.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fcn_core import VOID
from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.images import open_checked
from fcn_core.data.labels import labels_from_colours, read_label, write_index_png, write_palette_png
from fcn_core.data.palette import colorize, voc_palette

FORMATS = ("voc", "index-png", "cityscapes", "cvat-mask")
VIS_ALPHA = 0.5  # label colour weight in the VOC visualisation
SPLIT_PRIORITY = ("train", "val", "test")


def one_split_each(splits: dict[str, list[str]], stems: list[str], rest: str) -> dict[str, str]:
    """``{stem: split}`` for layouts that hold each image once: train, val, test first, then the other splits
    in order (VOC's ``trainval`` overlaps them); an image in no split goes to ``rest``."""
    order = [n for n in SPLIT_PRIORITY if n in splits] + [n for n in splits if n not in SPLIT_PRIORITY]
    out: dict[str, str] = {}
    for name in order:
        for stem in splits[name]:
            out.setdefault(stem, name)
    return {stem: out.get(stem, rest) for stem in stems}


class Writer:
    """Base: copies photos, counts verification, writes split and class lists (VOC style)."""

    name = ""

    def __init__(self, dataset: Dataset, out: Path) -> None:
        self.dataset = dataset
        self.out = out
        self.checked = 0
        self.mismatches: list[str] = []

    # -- overridden per format -------------------------------------------------------------------------------
    def prepare(self, stems: list[str]) -> None:
        """Make folders; refuse what the format cannot hold before anything is written."""

    def write(self, sample: Sample, image: np.ndarray, labels: np.ndarray) -> dict[str, str]:
        """Write one sample; return ``{"image": rel, "label": rel, ...}``."""
        raise NotImplementedError

    def finish(self, splits: dict[str, list[str]]) -> dict[str, dict[str, str]]:
        """Split lists, class lists, descriptors, once the exported images (``splits``) are known; returns
        ``{stem: {manifest field: new value}}`` for entries whose files moved (or that gained a split)."""
        return {}

    def extra_manifest(self) -> dict[str, Any]:
        """Format-specific manifest fields."""
        return {}

    # -- shared ----------------------------------------------------------------------------------------------
    def verified(self) -> dict[str, Any]:
        """What the re-reading found: ``{"labels": files checked, "mismatches": count}``."""
        return {"labels": self.checked, "mismatches": len(self.mismatches)}

    def check(self, path: Path, meant: np.ndarray, read_back: np.ndarray | None) -> None:
        """Compare a re-read file with what was meant, pixel for pixel (None: it did not read back)."""
        self.checked += 1
        if read_back is None or read_back.shape != meant.shape or not np.array_equal(read_back, meant):
            self.mismatches.append(self.rel(path))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()

    def copy_image(self, sample: Sample, image: np.ndarray, folder: Path) -> Path:
        """The photo byte for byte (no re-encoding loss); labelme's embedded photos as PNG."""
        folder.mkdir(parents=True, exist_ok=True)
        src = sample.image_path
        if src is None or src.suffix.lower() == ".json":
            dst = folder / f"{sample.stem}.png"
            Image.fromarray(image).save(dst)
        else:
            suffix = ".jpg" if src.suffix.lower() in (".jpg", ".jpeg") else src.suffix.lower()
            dst = folder / f"{sample.stem}{suffix}"
            shutil.copyfile(src, dst)
        return dst

    def write_split_lists(self, folder: Path, splits: dict[str, list[str]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, stems in splits.items():
            (folder / f"{name}.txt").write_text("".join(f"{s}\n" for s in stems), encoding="utf-8")

    def write_class_names(self) -> None:
        names = "".join(f"{n}\n" for n in self.dataset.class_names)
        (self.out / "class_names.txt").write_text(names, encoding="utf-8")


class VocWriter(Writer):
    name = "voc"
    folders = ("JPEGImages", "SegmentationClass", "SegmentationClassVisualization", "ImageSets/Segmentation")

    def prepare(self, stems):
        for sub in self.folders:
            (self.out / sub).mkdir(parents=True, exist_ok=True)

    def write(self, sample, image, labels):
        img = self.copy_image(sample, image, self.out / "JPEGImages")
        lbl = self.out / "SegmentationClass" / f"{sample.stem}.png"
        write_palette_png(lbl, labels, self.dataset.palette)
        self.check(lbl, labels, read_label(lbl))
        vis = self.out / "SegmentationClassVisualization" / f"{sample.stem}.jpg"
        vis.write_bytes(visualization(image, labels, self.dataset.palette))
        return {"image": self.rel(img), "label": self.rel(lbl), "visualization": self.rel(vis)}

    def finish(self, splits):
        self.write_split_lists(self.out / "ImageSets" / "Segmentation", splits)
        self.write_class_names()
        return {}


class IndexPngWriter(Writer):
    name = "index-png"

    def __init__(self, dataset: Dataset, out: Path, void_value: int = VOID) -> None:
        super().__init__(dataset, out)
        self.void_value = int(void_value)

    def prepare(self, stems):
        n = self.dataset.num_classes
        if not n <= self.void_value <= 255:
            raise ValueError(f"void value {self.void_value} must be in {n}..255: values 0..{n - 1} are the "
                             f"classes ({', '.join(self.dataset.class_names[:3])}, ...)")
        for sub in ("images", "labels"):
            (self.out / sub).mkdir(parents=True, exist_ok=True)

    def write(self, sample, image, labels):
        img = self.copy_image(sample, image, self.out / "images")
        lbl = self.out / "labels" / f"{sample.stem}.png"
        write_index_png(lbl, labels, self.void_value)
        self.check(lbl, labels, read_label(lbl, void_value=self.void_value))
        return {"image": self.rel(img), "label": self.rel(lbl)}

    def finish(self, splits):
        self.write_split_lists(self.out / "splits", splits)
        self.write_class_names()
        ds = self.dataset
        desc = {"class_names": list(ds.class_names), "palette": ds.palette[: ds.num_classes].tolist(),
                "void_value": self.void_value, "label_format": "index", "images": "images",
                "labels": "labels", "splits": {name: f"splits/{name}.txt" for name in splits}}
        (self.out / "dataset.json").write_text(json.dumps(desc, indent=1) + "\n", encoding="utf-8")
        return {}

    def extra_manifest(self):
        return {"label_void_value": self.void_value}


class CityscapesWriter(Writer):
    name = "cityscapes"
    void_colour = (0, 0, 0)  # Cityscapes' "unlabeled"
    staging = ".unsplit"  # files wait here until the exported images' splits are known

    def __init__(self, dataset: Dataset, out: Path, city: str = "fcn") -> None:
        super().__init__(dataset, out)
        if not city or "/" in city or "\\" in city or city.startswith("."):
            raise ValueError(f"city {city!r} must be a plain folder name")
        self.city = city
        self.written: dict[str, dict[str, str]] = {}

    def _path(self, top: str, split: str, name: str) -> Path:
        return self.out / top / split / self.city / name

    def write(self, sample, image, labels):
        stem = sample.stem
        img = self._path(self.staging, "leftImg8bit", f"{stem}_leftImg8bit.png")  # the suffix tools want
        img.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(img, compress_level=1)  # photos barely compress further; 2x faster
        self.check(img, image, np.asarray(open_checked(img).convert("RGB")))
        lbl = self._path(self.staging, "gtFine", f"{stem}_gtFine_labelTrainIds.png")
        lbl.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(labels, mode="L").save(lbl)  # class index = train id, void 255 as in Cityscapes
        self.check(lbl, labels, read_label(lbl))
        pal = self.dataset.palette.copy()
        pal[VOID] = self.void_colour
        colour = colorize(labels, pal)
        col = self._path(self.staging, "gtFine", f"{stem}_gtFine_color.png")
        Image.fromarray(colour).save(col)
        self.check(col, colour, np.asarray(open_checked(col).convert("RGB")))
        self.written[stem] = {"image": self.rel(img), "label": self.rel(lbl), "label_color": self.rel(col)}
        return dict(self.written[stem])

    def finish(self, splits):
        moved: dict[str, dict[str, str]] = {}
        split_of = one_split_each(splits, list(self.written), rest="unsplit")
        for stem, files in self.written.items():
            split = split_of[stem]
            entry: dict[str, str] = {"split": split}
            for field, rel in files.items():
                src = self.out / rel
                top = "leftImg8bit" if field == "image" else "gtFine"
                dst = self._path(top, split, src.name)
                dst.parent.mkdir(parents=True, exist_ok=True)
                src.replace(dst)  # a rename inside the export folder: the verified bytes stay as they are
                entry[field] = self.rel(dst)
            moved[stem] = entry
        shutil.rmtree(self.out / self.staging, ignore_errors=True)
        self.write_class_names()
        ds = self.dataset
        desc = {"class_names": list(ds.class_names), "palette": ds.palette[: ds.num_classes].tolist(),
                "void_value": VOID, "label_format": "index"}
        (self.out / "dataset.json").write_text(json.dumps(desc, indent=1) + "\n", encoding="utf-8")
        return moved

    def extra_manifest(self):
        return {"city": self.city}


class CvatMaskWriter(Writer):
    name = "cvat-mask"

    def __init__(self, dataset: Dataset, out: Path) -> None:
        super().__init__(dataset, out)
        self.stems: list[str] = []  # written, in order
        self.void_pixels = 0
        self.colours = np.asarray(dataset.palette[: dataset.num_classes], dtype=np.uint8)
        used = {tuple(c) for c in self.colours.tolist()}
        # VOC's void colour unless a class has it; else the first free VOC palette colour from the end.
        candidates = [(224, 224, 192)] + [tuple(c) for c in voc_palette()[::-1].tolist()]
        free = (c for c in candidates if c not in used)
        self.void_colour = next(free)

    def prepare(self, stems):
        from fcn_core.data.formats.cvat import labelmap_text

        owner: dict[tuple, str] = {}
        for name, c in zip(self.dataset.class_names, self.colours.tolist()):
            if tuple(c) in owner:
                raise DataError(self.dataset.root, f"classes {owner[tuple(c)]!r} and {name!r} share the "
                                                   f"colour {tuple(c)}: a CVAT colour mask cannot tell them "
                                                   "apart")
            owner[tuple(c)] = name
        labelmap_text(list(self.dataset.class_names), self.colours, None)  # refuses unwritable names now
        for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
            (self.out / sub).mkdir(parents=True, exist_ok=True)

    def palette(self) -> np.ndarray:
        pal = self.dataset.palette.copy()
        pal[VOID] = self.void_colour
        return pal

    def write(self, sample, image, labels):
        img = self.copy_image(sample, image, self.out / "JPEGImages")
        lbl = self.out / "SegmentationClass" / f"{sample.stem}.png"
        Image.fromarray(colorize(labels, self.palette())).save(lbl)  # RGB, as CVAT exports
        self.void_pixels += int((labels == VOID).sum())
        try:
            back = labels_from_colours(np.asarray(open_checked(lbl).convert("RGB")), self.palette(), lbl,
                                       self.dataset.num_classes)
        except DataError:  # a colour that is no class's: the file did not come back as meant
            back = None
        self.check(lbl, labels, back)
        self.stems.append(sample.stem)
        return {"image": self.rel(img), "label": self.rel(lbl)}

    def finish(self, splits):
        from fcn_core.data.formats.cvat import LABELMAP, labelmap_text

        void = self.void_colour if self.void_pixels else None
        text = labelmap_text(list(self.dataset.class_names), self.colours, void)
        (self.out / LABELMAP).write_text(text, encoding="utf-8")
        split_of = one_split_each(splits, self.stems, rest="default")
        own: dict[str, list[str]] = {}
        for stem, split in split_of.items():
            own.setdefault(split, []).append(stem)
        self.write_split_lists(self.out / "ImageSets" / "Segmentation", own)
        return {stem: {"split": split} for stem, split in split_of.items()}

    def extra_manifest(self):
        void = {"name": "ignored", "colour": list(self.void_colour), "pixels": self.void_pixels}
        return {"void_label": void if self.void_pixels else None}


def make_writer(fmt: str, dataset: Dataset, out: Path, *, void_value: int = VOID,
                city: str = "fcn") -> Writer:
    """The writer of ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "voc":
        return VocWriter(dataset, out)
    if fmt == "index-png":
        return IndexPngWriter(dataset, out, void_value)
    if fmt == "cityscapes":
        return CityscapesWriter(dataset, out, city)
    if fmt == "cvat-mask":
        return CvatMaskWriter(dataset, out)
    raise ValueError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")


def visualization(image: np.ndarray, labels: np.ndarray, palette: np.ndarray) -> bytes:
    """JPEG bytes of the photo blended with the label colours (void: the photo alone)."""
    colour = colorize(labels, palette).astype(np.float32)
    blend = image.astype(np.float32) * (1 - VIS_ALPHA) + colour * VIS_ALPHA
    blend[labels == VOID] = image[labels == VOID]
    buf = io.BytesIO()
    Image.fromarray(np.clip(blend + 0.5, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=90)
    return buf.getvalue()
