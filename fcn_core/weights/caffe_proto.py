"""Reading Caffe ``.caffemodel`` files (a serialized ``caffe.NetParameter``) without Caffe or protobuf.

A minimal decoder of the protobuf wire format that keeps only what weights need (field numbers from BVLC
caffe's ``src/caffe/proto/caffe.proto``):

* ``NetParameter``: ``layer = 100`` (``LayerParameter``), deprecated ``layers = 2`` (``V1LayerParameter``).
* ``LayerParameter``: ``name = 1``, ``type = 2`` (string), ``blobs = 7``.
* ``V1LayerParameter``: ``name = 4``, ``type = 5`` (enum), ``blobs = 6``.
* ``BlobProto``: ``shape = 7`` (``BlobShape.dim = 1``, packed or not), legacy ``num/channels/height/width =
  1..4``, ``data = 5`` (float, packed or not), ``double_data = 8``.

Nothing is executed: bytes are decoded into names, type strings and numpy arrays. Damage (a length that runs
past the end, a bad varint, a blob whose data does not fit its shape) raises ``WeightsError`` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import WeightsError

# Wire types.
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5

# V1LayerParameter.LayerType values of the layers that carry weights in FCNs (caffe.proto).
V1_TYPES = {4: "Convolution", 39: "Deconvolution", 14: "InnerProduct"}


class _Damaged(Exception):
    """Internal: the bytes are not a valid message (turned into a WeightsError with the file name)."""


@dataclass
class CaffeLayer:
    """One layer of a ``.caffemodel``: its name, type and parameter blobs (float32 arrays, Caffe shapes)."""

    name: str
    type: str
    blobs: list[np.ndarray] = field(default_factory=list)


def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise _Damaged(f"varint runs past the end at byte {pos}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise _Damaged(f"varint longer than 10 bytes at byte {pos}")


def _fields(buf: memoryview, start: int, end: int) -> Iterator[tuple[int, int, int | tuple[int, int]]]:
    """``(field number, wire type, value)``: value is an int, or ``(start, end)`` of the bytes (LENGTH,
    FIXED32, FIXED64)."""
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _Damaged(f"field number 0 at byte {pos}")
        if wire == VARINT:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value
        elif wire in (FIXED32, FIXED64, LENGTH):
            if wire == LENGTH:
                size, pos = _varint(buf, pos, end)
            else:
                size = 4 if wire == FIXED32 else 8
            if pos + size > end:
                raise _Damaged(f"field {number} needs {size} bytes at byte {pos}; the message ends at {end}")
            yield number, wire, (pos, pos + size)
            pos += size
        else:  # 3/4 (groups) never occur in caffe.proto
            raise _Damaged(f"unsupported wire type {wire} at byte {pos}")


def _packed_varints(buf: memoryview, span: tuple[int, int]) -> list[int]:
    out, pos = [], span[0]
    while pos < span[1]:
        value, pos = _varint(buf, pos, span[1])
        out.append(value)
    return out


def _blob(buf: memoryview, start: int, end: int) -> np.ndarray:
    dims: list[int] = []
    legacy = {1: 0, 2: 0, 3: 0, 4: 0}
    chunks: list[np.ndarray] = []
    singles: list[float] = []
    for number, wire, value in _fields(buf, start, end):
        if number == 7 and wire == LENGTH:  # BlobShape
            s, e = value  # type: ignore[misc]
            for n2, w2, v2 in _fields(buf, s, e):
                if n2 == 1:
                    dims.extend(_packed_varints(buf, v2) if w2 == LENGTH else [v2])  # type: ignore[arg-type]
        elif number in legacy and wire == VARINT:
            legacy[number] = int(value)  # type: ignore[arg-type]
        elif number in (5, 8):  # data (float) / double_data
            dtype = "<f4" if number == 5 else "<f8"
            if wire == LENGTH or (wire == FIXED32 and number == 5) or (wire == FIXED64 and number == 8):
                s, e = value  # type: ignore[misc]
                if (e - s) % np.dtype(dtype).itemsize:
                    raise _Damaged(f"blob data of {e - s} bytes is not a whole number of values")
                arr = np.frombuffer(buf[s:e], dtype=dtype)
                if wire == LENGTH:
                    chunks.append(arr.astype(np.float32))
                else:
                    singles.append(float(arr[0]))
    if singles:
        chunks.append(np.asarray(singles, np.float32))
    data = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if not dims:
        dims = [legacy[i] for i in (1, 2, 3, 4)]
        # Legacy 4-D blobs use 1 for unused leading axes; drop them (a bias is (1, 1, 1, N)).
        while len(dims) > 1 and dims[0] == 1:
            dims = dims[1:]
    count = int(np.prod(dims)) if dims else 0
    if count != data.size:
        raise _Damaged(f"blob of shape {tuple(dims)} holds {data.size} values instead of {count}")
    return data.reshape(dims)


def _layer(buf: memoryview, start: int, end: int, v1: bool) -> CaffeLayer:
    name_field, type_field, blobs_field = (4, 5, 6) if v1 else (1, 2, 7)
    layer = CaffeLayer("", "")
    for number, wire, value in _fields(buf, start, end):
        if number == name_field and wire == LENGTH:
            s, e = value  # type: ignore[misc]
            layer.name = bytes(buf[s:e]).decode("utf-8", "replace")
        elif number == type_field:
            if v1 and wire == VARINT:
                layer.type = V1_TYPES.get(int(value), f"V1 type {value}")  # type: ignore[arg-type]
            elif wire == LENGTH:
                s, e = value  # type: ignore[misc]
                layer.type = bytes(buf[s:e]).decode("utf-8", "replace")
        elif number == blobs_field and wire == LENGTH:
            s, e = value  # type: ignore[misc]
            layer.blobs.append(_blob(buf, s, e))
    return layer


def parse_net(data: bytes | memoryview, path: str | os.PathLike[str] | None = None) -> list[CaffeLayer]:
    """Layers of a serialized ``NetParameter`` (``layer`` and V1 ``layers`` alike), in file order."""
    buf = memoryview(data)
    layers: list[CaffeLayer] = []
    try:
        for number, wire, value in _fields(buf, 0, len(buf)):
            if number in (100, 2) and wire == LENGTH:
                s, e = value  # type: ignore[misc]
                layers.append(_layer(buf, s, e, v1=number == 2))
    except _Damaged as exc:
        raise WeightsError(path, f"damaged or truncated .caffemodel ({exc})") from None
    return layers


def read_caffemodel(path: str | os.PathLike[str]) -> list[CaffeLayer]:
    """Read and decode a ``.caffemodel`` file; raises WeightsError for a missing, empty or damaged file."""
    p = Path(path)
    if not p.is_file():
        raise WeightsError(p, "file not found" if not p.exists() else "is not a file")
    data = p.read_bytes()
    if not data:
        raise WeightsError(p, "file is empty (0 bytes), not a .caffemodel")
    layers = parse_net(data, p)
    if not any(layer.blobs for layer in layers):
        raise WeightsError(p, "holds no layers with weights; it is not a trained Caffe net (.caffemodel)")
    return layers
