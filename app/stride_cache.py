"""Bounded LRU cache of per-stride predictions keyed by (image stem, model id, stride)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

CacheKey = tuple[str, str, int]


def _nbytes(result: Any) -> int:
    """Memory held by a StrideResult-like object (labels + confidence + margin arrays)."""
    total = 0
    for name in ("labels", "confidence", "margin"):
        arr = getattr(result, name, None)
        total += int(getattr(arr, "nbytes", 0))
    return total


class StrideCache:
    """Least-recently-used store of ``StrideResult`` per (stem, model id, stride).

    Bounded both by entry count and by bytes, so flipping through thousands of images cannot exhaust
    memory; switching strides on the current image is a dictionary lookup (no recomputation).
    """

    def __init__(self, max_entries: int = 192, max_bytes: int = 768 * 1024 * 1024):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[CacheKey, Any] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: CacheKey) -> bool:
        return key in self._items

    @property
    def nbytes(self) -> int:
        """Bytes held by cached arrays."""
        return self._bytes

    def get(self, stem: str, model_id: str, stride: int) -> Any | None:
        """The cached result or None; a hit marks the entry most recently used."""
        key = (stem, model_id, int(stride))
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item

    def get_all(self, stem: str, model_id: str, strides) -> dict[int, Any] | None:
        """``{stride: result}`` when every stride is cached, else None."""
        out = {}
        for s in strides:
            item = self._items.get((stem, model_id, int(s)))
            if item is None:
                return None
            out[int(s)] = item
        for s in out:
            self._items.move_to_end((stem, model_id, s))
        return out

    def put(self, stem: str, model_id: str, stride: int, result: Any) -> None:
        """Store one stride's result, evicting the least recently used entries beyond the bounds."""
        key = (stem, model_id, int(stride))
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= _nbytes(old)
        self._items[key] = result
        self._bytes += _nbytes(result)
        while len(self._items) > 1 and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
            _, evicted = self._items.popitem(last=False)
            self._bytes -= _nbytes(evicted)

    def put_all(self, stem: str, model_id: str, results: dict[int, Any]) -> None:
        """Store every stride of one prediction."""
        for stride, result in results.items():
            self.put(stem, model_id, stride, result)

    def discard_stem(self, stem: str) -> None:
        """Forget every entry of one image (e.g. its file changed)."""
        for key in [k for k in self._items if k[0] == stem]:
            self._bytes -= _nbytes(self._items.pop(key))

    def clear(self) -> None:
        """Forget everything (e.g. a new model was loaded)."""
        self._items.clear()
        self._bytes = 0
