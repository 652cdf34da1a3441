"""ONNX Runtime CPU backend for :class:`fcn_core.predictor.Predictor`: exact fp32 and an opt-in int8 preview.

The loaded network is exported once to ONNX (dynamic batch, height and width; one graph output per stride,
so a multi-stride net gives all strides from one run) and cached on disk under :func:`cache_dir`, keyed by
a hash of the weights plus architecture, options, opset and exporter version. Preprocessing and the
softmax / confidence / margin / arg-max stay in the Predictor's torch code: :class:`OnnxForward` only
replaces the network's forward, so both backends post-process identically.

The int8 preview built on this export is in ``fcn_core/runtime_int8.py``.
Anything that fails here raises :class:`RuntimeUnavailable` with a reason the caller can show; the
Predictor then keeps running torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .weights import LoadedModel

OPSET = 17
#: Bump when the exported graph (wrapper, names, export options) changes: old cache entries are then unused.
EXPORT_VERSION = 1
INPUT_NAME = "image"


class RuntimeUnavailable(RuntimeError):
    """ONNX Runtime cannot be used (not installed, export or quantization failed); ``str()`` says why."""


def cache_dir() -> Path:
    """Folder of exported models: ``onnx/`` in the project's cache folder (``$FCN_STUDIO_CACHE``, else
    ``$XDG_CACHE_HOME/fcn-studio``, else ``~/.cache/fcn-studio``)."""
    from .resources import cache_dir as project_cache_dir

    return project_cache_dir() / "onnx"


def import_onnxruntime():
    """The ``onnxruntime`` module, or :class:`RuntimeUnavailable` saying how to get it."""
    try:
        import onnxruntime
    except Exception as exc:  # ImportError, or a broken install failing while it loads its library
        raise RuntimeUnavailable(f"onnxruntime is not installed ({type(exc).__name__}: {exc}); "
                                 "`pip install onnxruntime` enables the faster CPU backend") from exc
    return onnxruntime


def model_key(loaded: LoadedModel) -> str:
    """Hash of everything the exported graph depends on: the weights' bytes, arch, options, class count,
    strides, opset and exporter version. Changed weights (fine-tuning, another file) give another key."""
    h = hashlib.blake2b(digest_size=16)
    meta = {"arch": loaded.arch, "options": loaded.options, "num_classes": loaded.num_classes,
            "strides": list(loaded.strides), "opset": OPSET, "export": EXPORT_VERSION}
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    for name, tensor in loaded.model.state_dict().items():
        t = tensor.detach().to("cpu", torch.float32).contiguous()
        h.update(f"{name}:{tuple(t.shape)};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


class _StrideOutputs(torch.nn.Module):
    """The network with one output per stride, in ``strides`` order (ONNX graphs return tuples)."""

    def __init__(self, model: torch.nn.Module, strides: Sequence[int]) -> None:
        super().__init__()
        self.model = model
        self.strides = tuple(strides)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(x)
        if isinstance(out, dict):
            return tuple(out[s] for s in self.strides)
        return (out,)


def _output_names(strides: Sequence[int]) -> list[str]:
    return [f"logits_{s}s" for s in strides]


def export_onnx(loaded: LoadedModel, path: Path) -> None:
    """Export ``loaded.model`` (fp32, CPU copy) to ``path`` atomically, batch/height/width dynamic."""
    import copy

    model = copy.deepcopy(loaded.model).to("cpu", torch.float32).eval()
    model = model.to(memory_format=torch.contiguous_format)
    wrapper = _StrideOutputs(model, loaded.strides)
    names = _output_names(loaded.strides)
    dims = {0: "batch", 2: "height", 3: "width"}
    # An odd, non-square size: nothing may be specialised to the example's shape.
    example = torch.zeros(1, 3, 67, 45)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # The TorchScript exporter is deprecated but needs no extra package and handles the crops'
            # dynamic sizes; torch.export's exporter (dynamo=True) is the fallback.
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(wrapper, (example,), tmp, dynamo=False, opset_version=OPSET,
                                  input_names=[INPUT_NAME], output_names=names,
                                  dynamic_axes={INPUT_NAME: dims, **{n: dims for n in names}})
            except Exception as legacy_exc:
                try:
                    _export_dynamo(wrapper, example, tmp, names)
                except Exception as exc:
                    raise RuntimeUnavailable(f"ONNX export failed ({type(legacy_exc).__name__}: "
                                             f"{str(legacy_exc)[:200]}; dynamo: {type(exc).__name__}: "
                                             f"{str(exc)[:200]})") from exc
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _export_dynamo(wrapper: torch.nn.Module, example: torch.Tensor, tmp: str, names: list[str]) -> None:
    dim = torch.export.Dim.AUTO
    program = torch.onnx.export(wrapper, (example,), dynamo=True, opset_version=OPSET,
                                input_names=[INPUT_NAME], output_names=names,
                                dynamic_shapes=({0: dim, 2: dim, 3: dim},))
    program.save(tmp)


def session_options(ort, threads: int | None = None):
    """CPU session options: all graph optimisations, ``threads`` intra-op threads (default: torch's)."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = int(threads or torch.get_num_threads())
    so.inter_op_num_threads = 1
    # Busy-waiting between runs steals cores from the GUI and the decode threads on small machines.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return so


class OnnxForward:
    """Callable like the network: NCHW float tensor -> ``{stride: logits}`` (CPU torch tensors)."""

    def __init__(self, path: Path, strides: Sequence[int], *, threads: int | None = None) -> None:
        ort = import_onnxruntime()
        self.path = Path(path)
        self.strides = tuple(strides)
        try:
            self.session = ort.InferenceSession(str(path), session_options(ort, threads),
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise RuntimeUnavailable(f"{path}: ONNX Runtime cannot load the model "
                                     f"({type(exc).__name__}: {str(exc)[:300]})") from exc

    def run_numpy(self, x: np.ndarray) -> list[np.ndarray]:
        """Logits per stride for a float32 NCHW array."""
        return self.session.run(None, {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)})

    def __call__(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        outs = self.run_numpy(x.detach().to("cpu", torch.float32).contiguous().numpy())
        return {s: torch.from_numpy(o) for s, o in zip(self.strides, outs)}


def exported_path(loaded: LoadedModel, key: str | None = None) -> Path:
    """The cached fp32 ONNX file for ``loaded``, exported now when missing."""
    path = cache_dir() / f"{key or model_key(loaded)}.onnx"
    if not path.exists():
        export_onnx(loaded, path)
    return path


def load_fp32(loaded: LoadedModel, *, threads: int | None = None, key: str | None = None) -> OnnxForward:
    """fp32 ONNX Runtime forward for ``loaded`` (exported and cached on first use; a cached file that no
    longer loads, e.g. truncated, is exported again once)."""
    import_onnxruntime()
    key = key or model_key(loaded)
    for attempt in range(2):
        try:
            path = exported_path(loaded, key)
        except RuntimeUnavailable:
            raise
        except Exception as exc:  # disk full, read-only cache, ...
            raise RuntimeUnavailable(f"ONNX export failed ({type(exc).__name__}: {str(exc)[:300]})") from exc
        try:
            return OnnxForward(path, loaded.strides, threads=threads)
        except RuntimeUnavailable:
            if attempt:
                raise
            path.unlink(missing_ok=True)
    raise AssertionError("unreachable")


def unsuitable(device: str, precision: str, compile: bool, int8: bool, calibration) -> str | None:
    """Why the ONNX Runtime backend does not apply to this Predictor setting, or None when it does."""
    if device != "cpu":
        return f"the ONNX Runtime backend runs on the CPU only, not {device}"
    if precision != "fp32":
        return f"the ONNX Runtime backend runs fp32 (exact) or int8, not {precision}"
    if compile:
        return "torch.compile was asked for"
    if int8 and not calibration:
        return "int8 needs calibration images (a few dozen of the open dataset)"
    return None
