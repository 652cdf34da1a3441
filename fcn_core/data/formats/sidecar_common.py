"""What the sidecar formats share: a class table read from a sidecar file, and a Dataset that reads its label
files through that table.

A sidecar (Datumaro ``dataset_meta.json``, CVAT ``labelmap.txt``, Kaggle ``labelmap.csv``) lists the classes
in file order, usually with a colour each. Its names and colours win over any default. A class named
``ignored`` / ``void`` / ``__ignore__`` is void (255 in memory), not a class: the others keep their order.
Colour masks (RGB, and palette PNGs, which tools read as colours) are decoded through the sidecar's colours;
single-channel masks hold positions in the sidecar's list. Every disagreement is a DataError naming the label
file and the sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from fcn_core import VOID
from fcn_core.data.datasets import Dataset, Sample
from fcn_core.data.errors import DataError
from fcn_core.data.images import open_checked
from fcn_core.data.labels import WIDE_MODES, index_values, labels_from_colours
from fcn_core.data.layouts import _list_files
from fcn_core.data.names import name_key
from fcn_core.data.palette import full_palette

#: Class names that mean void (compared ignoring case and punctuation): Datumaro's VOC "ignored", labelme's
#: "__ignore__", "void".
VOID_NAMES = ("ignored", "ignore", "void")


def is_void_name(name: str) -> bool:
    """True for a class name that means void."""
    return name_key(name) in VOID_NAMES


@dataclass
class ClassTable:
    """Classes of a sidecar: names and colours in memory order, and how file values map to memory values."""

    source: Path  # the sidecar file
    names: list[str]
    colours: np.ndarray | None  # (len(names), 3) uint8, or None when the sidecar gives no colours
    void_colour: tuple[int, int, int] | None
    lut: np.ndarray  # file index (position in the sidecar) -> memory value (class index or 255)

    @property
    def palette(self) -> np.ndarray:
        """The 256-entry palette: class colours first, the void colour (if any) at 255."""
        pal = full_palette(self.colours)
        if self.void_colour is not None:
            pal[VOID] = self.void_colour
        return pal

    @property
    def identity(self) -> bool:
        """True when file values are memory values (no void entry among the classes)."""
        return bool(np.array_equal(self.lut, np.arange(len(self.lut))))


def build_table(source: Path, entries: list[tuple[int, str, tuple[int, int, int] | None]]) -> ClassTable:
    """A ClassTable from ``(file_index, name, colour)`` entries. File indices must be 0..n-1 (each once);
    names unique; colours either on every entry or on none, and distinct."""
    if not entries:
        raise DataError(source, "lists no classes")
    indices = sorted(i for i, _, _ in entries)
    if indices != list(range(len(entries))):
        missing = sorted(set(range(len(entries))) - set(indices))
        got = f"{indices[:8]}{' ...' if len(indices) > 8 else ''}"
        raise DataError(source, f"class indices must run 0..{len(entries) - 1} without gaps or repeats "
                                f"(got {got}; missing {missing[:5]})")
    entries = sorted(entries)
    seen: dict[str, int] = {}
    for i, name, _ in entries:
        if not name.strip():
            raise DataError(source, f"class {i} has an empty name")
        if name in seen:
            raise DataError(source, f"class name {name!r} appears twice (classes {seen[name]} and {i})")
        seen[name] = i
    coloured = [c is not None for _, _, c in entries]
    if any(coloured) and not all(coloured):
        bare = [name for (_, name, c) in entries if c is None]
        raise DataError(source, f"some classes have no colour ({', '.join(bare[:5])}); give every class a "
                                "colour or none")
    if all(coloured):
        owner: dict[tuple[int, int, int], str] = {}
        for _, name, c in entries:
            if any(not 0 <= v <= 255 for v in c):
                raise DataError(source, f"class {name!r} has colour {c}, not three values 0..255")
            if c in owner:
                raise DataError(source, f"classes {owner[c]!r} and {name!r} share the colour {c}: a colour "
                                        "mask cannot tell them apart")
            owner[c] = name
    names: list[str] = []
    colours: list[tuple[int, int, int]] = []
    void_colour = None
    lut = np.zeros(len(entries), dtype=np.int64)
    for i, name, c in entries:
        if is_void_name(name):
            lut[i] = VOID
            void_colour = c if c is not None else void_colour
            continue
        lut[i] = len(names)
        names.append(name)
        if c is not None:
            colours.append(c)
    if not names:
        raise DataError(source, "lists only void classes")
    if len(names) >= VOID:
        raise DataError(source, f"lists {len(names)} classes; at most 255 fit 8-bit labels with void 255")
    table_colours = np.asarray(colours, dtype=np.uint8).reshape(-1, 3) if all(coloured) else None
    return ClassTable(source, names, table_colours, void_colour, lut)


@dataclass
class SidecarDataset(Dataset):
    """A Dataset whose own label files are read through a :class:`ClassTable` (corrections as usual)."""

    table: ClassTable | None = field(default=None, repr=False)

    def _read_own_label(self, path: Path) -> np.ndarray:
        if self.table is None:
            return super()._read_own_label(path)
        if path.suffix.lower() == ".mat":
            from fcn_core.data.formats.sbd import read_sbd_mat

            return self._from_indices(read_sbd_mat(path), path)
        img = open_checked(path)
        if img.mode in ("RGB", "RGBA") or (img.mode == "P" and self.table.colours is not None):
            # Tools read palette PNGs as colours (cv2 does), so their colours, not their indices, count.
            return self._from_colours(np.asarray(img.convert("RGB")), path)
        if img.mode in ("P", "L", "1") or img.mode in WIDE_MODES:
            return self._from_indices(index_values(img, path), path)
        raise DataError(path, f"unsupported label image mode {img.mode!r}; expected RGB, P, L or 16-bit")

    def _from_colours(self, rgb: np.ndarray, path: Path) -> np.ndarray:
        table = self.table
        if table.colours is None:
            raise DataError(path, f"is a colour mask but {table.source.name} gives the classes no colours "
                                  "(expected single-channel class indices)")
        try:
            return labels_from_colours(rgb, table.palette, path, len(table.names),
                                       void_colour=table.void_colour is not None)
        except DataError as exc:
            raise DataError(path, f"{exc.problem} (colours from {table.source})") from exc

    def _from_indices(self, values: np.ndarray, path: Path) -> np.ndarray:
        lut = self.table.lut
        n = len(lut)
        void = (values == VOID) | (values == self.void_value)
        bad = ~void & ((values < 0) | (values >= n))
        if bad.any():
            y, x = np.argwhere(bad)[0]
            others = np.unique(values[bad])
            raise DataError(path, f"label has value {int(values[y, x])} at (x={x}, y={y}) but "
                                  f"{self.table.source} lists {n} classes (0..{n - 1}): the labels and the "
                                  f"class list disagree (bad values: {others[:8].tolist()})")
        out = np.full(values.shape, VOID, dtype=np.uint8)
        keep = ~void
        out[keep] = lut[values[keep]]
        return out


def mask_format(path: Path | None, table: ClassTable) -> str:
    """``Dataset.label_format`` for masks like ``path`` (header only): "rgb" for colour masks, "index" when
    file values are class indices (overwritable in place), "index-mapped" otherwise."""
    if path is None:
        return "none"
    if path.suffix.lower() == ".mat":
        return "mat"
    try:
        with Image.open(path) as img:
            mode = img.mode
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(path, "label is not a readable image file") from exc
    if mode in ("RGB", "RGBA") or (mode == "P" and table.colours is not None):
        return "rgb"
    return "index" if table.identity else "index-mapped"


def list_files(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """``{stem: path}`` of the visible files with these suffixes (none when the folder is missing)."""
    return _list_files(folder, suffixes) if folder.is_dir() else {}


def read_split_files(files: dict[str, Path], stems: set[str]) -> dict[str, list[str]]:
    """``{split: [stems]}`` from one-stem-per-line files; a listed stem that is not in the dataset is an
    error naming the split file."""
    splits: dict[str, list[str]] = {}
    for name, path in files.items():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(path, f"cannot read split file ({exc})") from exc
        listed = [ln.split()[0] for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
        missing = [s for s in listed if s not in stems]
        if missing:
            raise DataError(path, f"split lists {len(missing)} image(s) with neither image nor label: "
                                  f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        splits[name] = listed
    return splits


def apply_corrections(samples: list[Sample], labels_dir: Path | None) -> None:
    """Point samples at their correction (``labels_dir/<stem>.png``) where one exists."""
    if labels_dir is None or not labels_dir.is_dir():
        return
    fixes = _list_files(labels_dir, (".png",))
    for s in samples:
        if s.stem in fixes:
            s.label_path, s.corrected = fixes[s.stem], True


def make_dataset(root: Path, kind: str, table: ClassTable, samples: list[Sample], *,
                 splits: dict[str, list[str]], split_files: dict[str, Path], void_value: int | None,
                 labels_dir: Path | None) -> SidecarDataset:
    """The Dataset of a sidecar format (corrections applied; void 255 unless ``void_value`` says so)."""
    void = VOID if void_value is None else int(void_value)
    if not 0 <= void <= 255:
        raise DataError(root, f"void value {void} is not in 0..255")
    apply_corrections(samples, labels_dir)
    first = next((s.original_label_path for s in samples if s.original_label_path is not None), None)
    return SidecarDataset(root=root, kind=kind, class_names=list(table.names), palette=table.palette,
                          void_value=void, samples=samples, splits=splits,
                          label_format=mask_format(first, table), labels_dir=labels_dir,
                          split_files=split_files, table=table)
