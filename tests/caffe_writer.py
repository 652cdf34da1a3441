"""A small protobuf wire-format encoder of ``caffe.NetParameter`` for tests (field numbers of caffe.proto).

Independent of the reader in ``fcn_core.weights.caffe_proto``: it writes what Caffe writes (new ``layer``
messages, or deprecated V1 ``layers``; BlobShape or legacy num/channels/height/width; packed floats).
"""

from __future__ import annotations

import numpy as np


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def length_field(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def string_field(field: int, text: str) -> bytes:
    return length_field(field, text.encode())


def blob(array: np.ndarray, *, legacy: bool = False, double: bool = False,
         packed_shape: bool = True) -> bytes:
    a = np.asarray(array)
    out = b""
    if legacy:  # num/channels/height/width = 1..4, leading axes padded with 1
        dims = [1] * (4 - a.ndim) + list(a.shape)
        for f, d in zip((1, 2, 3, 4), dims):
            out += key(f, 0) + varint(int(d))
    else:
        if packed_shape:
            shape = length_field(1, b"".join(varint(int(d)) for d in a.shape))
        else:
            shape = b"".join(key(1, 0) + varint(int(d)) for d in a.shape)
        out += length_field(7, shape)
    if double:
        out += length_field(8, a.astype("<f8").tobytes())
    else:
        out += length_field(5, a.astype("<f4").tobytes())
    return out


V1_ENUM = {"Convolution": 4, "Deconvolution": 39, "InnerProduct": 14, "ReLU": 18, "Pooling": 17}


def layer(name: str, type_: str, blobs: list[np.ndarray], *, v1: bool = False, **blob_opts) -> bytes:
    if v1:
        body = string_field(4, name) + key(5, 0) + varint(V1_ENUM[type_])
        body += b"".join(length_field(6, blob(b, **blob_opts)) for b in blobs)
        return length_field(2, body)
    body = string_field(1, name) + string_field(2, type_)
    body += string_field(3, "bottom") + string_field(4, name)  # fields a real file has, to be skipped
    body += b"".join(length_field(7, blob(b, **blob_opts)) for b in blobs)
    return length_field(100, body)


def net_from_state(state: dict, *, v1: bool = False, extra_layers: list[tuple[str, str, list]] = (),
                   **blob_opts) -> bytes:
    """Serialize a state dict ``{"<layer>.weight"/".bias": tensor}`` as a NetParameter (layer order kept)."""
    out = string_field(1, "test-net") + key(4, 0) + varint(3)  # name and an input_dim to skip
    layers: dict[str, list[np.ndarray]] = {}
    for k, v in state.items():
        name = k.rsplit(".", 1)[0]
        layers.setdefault(name, []).append(v.detach().cpu().numpy())
    # A blob-less layer, as ReLU/Pooling layers appear in real files.
    out += layer("relu1_1", "ReLU", [], v1=v1)
    for name, blobs in layers.items():
        type_ = "Deconvolution" if name.startswith("upscore") else "Convolution"
        out += layer(name, type_, blobs, v1=v1, **blob_opts)
    for name, type_, blobs in extra_layers:
        out += layer(name, type_, blobs, v1=v1, **blob_opts)
    return out

