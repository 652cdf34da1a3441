"""Rewrite FCN's fixed bilinear deconvolutions in an ONNX graph as ``Pad -> Resize(linear) -> Slice``.

FCN upsamples class scores with ``ConvTranspose`` layers (kernel 2s, stride s) whose weights are the bilinear
filter on the class-to-class diagonal (``fcn_core.models.layers.bilinear_kernel``; the final upsampling is
never learned). ONNX Runtime runs them as full C×C deconvolutions: 35 ms of a 470 ms int8 VGG16 pass at
500×500 for ``upscore8`` alone, while the interpolation they compute takes a few milliseconds.

Why the rewrite is the same function: ``deconv[o] = Σ_j x[j]·f(o − j·s)`` with ``f(i) = 1 − |i + ½ − s| / s``
is linear interpolation of ``x`` at ``u = (o + ½)/s − 1`` with zeros outside ``x``. Pad ``x`` with one zero
on each side (index shift +1), and ``Resize`` by ``s`` with ``half_pixel`` coordinates samples
``(o' + ½)/s − ½``, which is ``u + 1`` for ``o' = o + s/2``. So the deconvolution's ``(n + 1)·s`` outputs
are the resized ``(n + 2)·s`` with ``s/2`` cut from each end; the two only round differently (max 3e-7
relative).

Only the int8 preview uses this (``runtime_int8._quantize``): the exact fp32 graph keeps torch's arithmetic.
A deconvolution whose weights are not the bilinear filter (learned ``upscore2``, say) is left as it is.
"""

from __future__ import annotations

import numpy as np

#: Largest difference from the bilinear filter still taken as it (the filter is stored in float32).
TOLERANCE = 1e-7


def rewrite_bilinear_deconvs(model) -> int:
    """Replace, in place, every fixed bilinear ``ConvTranspose`` of ``model`` (an ``onnx.ModelProto``) by
    ``Pad -> Resize -> Slice``; returns how many were replaced."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    nodes, replaced, count = [], set(), 0
    for node in graph.node:
        stride = _bilinear_stride(node, weights, helper, numpy_helper)
        if stride is None:
            nodes.append(node)
            continue
        prefix = f"{node.name or node.output[0]}_as_resize".replace("/", "_")
        half = stride // 2
        constants = {
            "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),  # N, C, H, W begins; then ends
            "scales": np.array([1, 1, stride, stride], np.float32),
            "starts": np.array([half, half], np.int64),
            "ends": np.array([-half, -half], np.int64),
            "axes": np.array([2, 3], np.int64),
        }
        for name, value in constants.items():
            graph.initializer.append(numpy_helper.from_array(value, f"{prefix}_{name}"))
        nodes += [
            helper.make_node("Pad", [node.input[0], f"{prefix}_pads"], [f"{prefix}_padded"],
                             name=f"{prefix}_pad", mode="constant"),
            helper.make_node("Resize", [f"{prefix}_padded", "", f"{prefix}_scales"], [f"{prefix}_resized"],
                             name=f"{prefix}_resize", mode="linear",
                             coordinate_transformation_mode="half_pixel"),
            helper.make_node("Slice", [f"{prefix}_resized", f"{prefix}_starts", f"{prefix}_ends",
                                       f"{prefix}_axes"], list(node.output), name=f"{prefix}_slice"),
        ]
        replaced.add(node.input[1])
        count += 1
    if replaced:
        del graph.node[:]
        graph.node.extend(nodes)
        _drop_unused(graph, replaced)
    return count


def _bilinear_stride(node, weights: dict, helper, numpy_helper) -> int | None:
    """The stride of a fixed bilinear class-to-class deconvolution, or None for any other node."""
    if node.op_type != "ConvTranspose" or len(node.input) != 2 or node.input[1] not in weights:
        return None
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    strides = list(attrs.get("strides", [1, 1]))
    if (len(strides) != 2 or strides[0] != strides[1] or strides[0] % 2 or attrs.get("group", 1) != 1
            or any(attrs.get("pads", [])) or any(attrs.get("output_padding", []))
            or any(d != 1 for d in attrs.get("dilations", [])) or "output_shape" in attrs
            or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")):
        return None
    w = numpy_helper.to_array(weights[node.input[1]])
    stride = strides[0]
    if w.ndim != 4 or w.shape[0] != w.shape[1] or w.shape[2:] != (2 * stride, 2 * stride):
        return None
    from .models.layers import bilinear_kernel

    expected = bilinear_kernel(w.shape[0], w.shape[1], 2 * stride).numpy()
    return stride if np.abs(w - expected).max() <= TOLERANCE else None


def _drop_unused(graph, names: set[str]) -> None:
    """Remove the initializers ``names`` (the replaced deconvolutions' weights) that no node reads now."""
    used = {name for node in graph.node for name in node.input}
    keep = [init for init in graph.initializer if init.name not in names or init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
