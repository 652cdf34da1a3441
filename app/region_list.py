"""The error regions under review (issue 13, app side), Qt-free: the dataset-wide list (filled by the
evaluation, one image at a time), the shown image's own regions at the shown stride, sorting, the
class-pair filter, next/previous, and the "reviewed" marks kept per dataset in a sidecar JSON
(``<corrections folder>/regions-reviewed.json``, written atomically).

A region is identified by ``stem|stride|x0,y0,x1,y1|true>predicted``: editing the labels there changes the
region (it comes back as a new one, to be reviewed again)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fcn_core.data.atomic import atomic_write_text
from fcn_core.data.errors import DataError
from fcn_core.regions import LABEL_SUSPECT, ErrorRegion

SIDECAR = "regions-reviewed.json"
SORT_KEYS = ("image", "stride", "area", "pair", "confidence", "verdict", "reviewed")


def region_key(stem: str, r: ErrorRegion) -> str:
    x0, y0, x1, y1 = r.box
    return f"{stem}|{r.stride}|{x0},{y0},{x1},{y1}|{r.true_class}>{r.predicted_class}"


@dataclass
class RegionEntry:
    stem: str
    region: ErrorRegion
    key: str

    @property
    def pair(self) -> tuple[int, int]:
        return self.region.true_class, self.region.predicted_class


def _sort_value(key: str, e: RegionEntry, reviewed: set[str]):
    r = e.region
    if key == "image":
        return (e.stem, -r.area)
    if key == "stride":
        return (r.stride or 0, -r.area)
    if key == "area":
        return (r.area,)
    if key == "pair":
        return (r.true_class, r.predicted_class, -r.area)
    if key == "confidence":
        return (-1.0 if r.confidence is None else r.confidence, r.area)
    if key == "reviewed":
        return (e.key in reviewed, -r.area)
    return (r.verdict == LABEL_SUSPECT, r.area)  # verdict: label-suspect first, then the largest


# the natural direction of each key: large areas, high confidence, suspect labels first
DESCENDING = {"area": True, "confidence": True, "verdict": True}


class RegionList:
    """Regions per image; ``entries()`` is the filtered, sorted list the panel shows and N/Shift+N walk."""

    def __init__(self) -> None:
        self._by_stem: dict[str, list[RegionEntry]] = {}
        self.reviewed: set[str] = set()
        self.sort_key = "verdict"
        self.descending = True
        self.pair: tuple[int, int] | None = None  # class-pair filter (true, predicted)
        self.hide_reviewed = False
        self._cache: list[RegionEntry] | None = None

    def clear(self) -> None:
        self._by_stem.clear()
        self._cache = None

    def set_image(self, stem: str, regions: Iterable[ErrorRegion]) -> None:
        """Replace ``stem``'s regions."""
        self._by_stem[stem] = [RegionEntry(stem, r, region_key(stem, r)) for r in regions]
        self._cache = None

    def regions_of(self, stem: str) -> list[RegionEntry]:
        return list(self._by_stem.get(stem, []))

    @property
    def total(self) -> int:
        return sum(len(v) for v in self._by_stem.values())

    def pairs(self) -> list[tuple[int, int]]:
        """Class pairs present, most regions first."""
        count: dict[tuple[int, int], int] = {}
        for entries in self._by_stem.values():
            for e in entries:
                count[e.pair] = count.get(e.pair, 0) + 1
        return sorted(count, key=lambda p: (-count[p], p))

    def set_sort(self, key: str, descending: bool | None = None) -> None:
        """Sort by ``key`` (one of ``SORT_KEYS``); the same key again reverses the order."""
        if key not in SORT_KEYS:
            raise ValueError(f"unknown sort key {key!r} (one of {', '.join(SORT_KEYS)})")
        if descending is None:
            descending = (not self.descending) if key == self.sort_key else DESCENDING.get(key, False)
        self.sort_key, self.descending = key, bool(descending)
        self._cache = None

    def set_pair(self, pair: tuple[int, int] | None) -> None:
        self.pair = None if pair is None else (int(pair[0]), int(pair[1]))
        self._cache = None

    def set_reviewed(self, key: str, on: bool = True) -> None:
        (self.reviewed.add if on else self.reviewed.discard)(key)
        if self.hide_reviewed or self.sort_key == "reviewed":
            self._cache = None

    def entries(self) -> list[RegionEntry]:
        if self._cache is None:
            items = [e for entries in self._by_stem.values() for e in entries
                     if (self.pair is None or e.pair == self.pair)
                     and not (self.hide_reviewed and e.key in self.reviewed)]
            items.sort(key=lambda e: _sort_value(self.sort_key, e, self.reviewed), reverse=self.descending)
            self._cache = items
        return self._cache

    def find(self, key: str | None) -> int | None:
        if key is None:
            return None
        return next((i for i, e in enumerate(self.entries()) if e.key == key), None)

    def step(self, key: str | None, direction: int, fallback: int | None = None) -> RegionEntry | None:
        """The entry after (``direction`` 1) or before (-1) ``key``; from ``fallback`` (the index ``key`` had)
        when it is gone (accepted, edited); the first / last when neither is known; wraps around."""
        items = self.entries()
        if not items:
            return None
        i = self.find(key)
        if i is None:
            if fallback is None:
                return items[0] if direction > 0 else items[-1]
            i = fallback - 1 if direction > 0 else fallback  # the entry now at ``fallback`` comes next
        return items[(i + direction) % len(items)]


def sidecar_path(corrections_dir: str | Path) -> Path:
    return Path(corrections_dir) / SIDECAR


def load_reviewed(path: str | Path) -> set[str]:
    """The reviewed keys in ``path`` (an empty set when it does not exist); DataError naming the file when it
    cannot be read."""
    path = Path(path)
    if not path.exists():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = data["reviewed"]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError("'reviewed' is not a list of strings")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(path, f"cannot read the reviewed regions ({exc})") from exc
    return set(keys)


def save_reviewed(path: str | Path, keys: Iterable[str]) -> None:
    """Write the reviewed keys atomically (the folder is created when missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"version": 1, "reviewed": sorted(keys)}, indent=1) + "\n")
