"""Reading weights files safely: sniff the format, never unpickle objects, extract the state dict."""

from __future__ import annotations

import json
import os
import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .errors import WeightsError, list_keys

# Prefixes added by DataParallel/DDP ("module.") and torch.compile ("_orig_mod.") that plain models lack.
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")
# Keys under which trainers store the model's state dict (pytorch-fcn's trainer uses "model_state_dict").
_STATE_KEYS = ("model_state_dict", "state_dict", "model")
_MAX_SAFETENSORS_HEADER = 100_000_000


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    # Layout: 8-byte little-endian header length, then a JSON header starting with "{".
    if len(head) < 9:
        return False
    n = int.from_bytes(head[:8], "little")
    return 0 < n <= min(size - 8, _MAX_SAFETENSORS_HEADER) and head[8:9] == b"{"


def _is_text(head: bytes) -> bool:
    # Pickles and zips contain control bytes within the first few bytes; text files do not.
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def _check_file(path: Path) -> int:
    if not path.exists():
        raise WeightsError(path, "file not found")
    if path.is_dir():
        raise WeightsError(path, "is a folder, not a weights file")
    size = path.stat().st_size
    if size == 0:
        raise WeightsError(path, "file is empty (0 bytes), not a weights file")
    return size


def read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors and the ``__metadata__`` strings of a safetensors file."""
    from safetensors import safe_open

    try:
        tensors: dict[str, torch.Tensor] = {}
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = dict(fh.metadata() or {})
            for key in fh.keys():
                tensors[key] = fh.get_tensor(key)
    except Exception as exc:  # safetensors raises its own error types for every kind of damage
        raise WeightsError(path, f"damaged safetensors file ({exc})") from exc
    return tensors, meta


def read_torch_file(path: Path) -> Any:
    """``torch.load(weights_only=True)`` with plain-words errors; arbitrary pickled objects are refused."""
    try:
        with warnings.catch_warnings():
            # Harmless notes from torch (e.g. "pickle protocol 4") would only confuse users of the app.
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        msg = str(exc)
        match = re.search(r"GLOBAL ([\w.]+)", msg)
        if "Unsupported global" in msg or match:
            what = f" ({match.group(1)})" if match else ""
            raise WeightsError(
                path,
                f"contains Python objects besides tensors{what}; they are refused for safety "
                "(weights_only loading). Re-save it as a plain state dict "
                "(torch.save(model.state_dict(), ...)).",
            ) from exc
        raise WeightsError(path, "not a PyTorch weights file (its bytes are not a tensor pickle)") from exc
    except Exception as exc:
        raise WeightsError(
            path,
            f"not a PyTorch weights file (expected a .pth state dict or a .safetensors checkpoint; {exc})",
        ) from exc


def _is_tensor_dict(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping) and len(obj) > 0
        and all(isinstance(v, torch.Tensor) for v in obj.values())
    )


def strip_wrapper_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Remove ``module.`` / ``_orig_mod.`` prefixes shared by every key."""
    changed = True
    while changed:
        changed = False
        for prefix in _WRAPPER_PREFIXES:
            if state and all(k.startswith(prefix) for k in state):
                state = {k[len(prefix) :]: v for k, v in state.items()}
                changed = True
    return state


def extract_state_dict(obj: Any, path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The model state dict inside a loaded object, plus any trainer info (epoch, arch, ...) next to it."""
    info: dict[str, Any] = {}
    if isinstance(obj, Mapping) and not _is_tensor_dict(obj):
        for key in _STATE_KEYS:
            if _is_tensor_dict(obj.get(key)):
                # Keep small JSON-friendly facts the trainer saved next to the weights.
                info = {
                    k: v for k, v in obj.items()
                    if k != key and isinstance(v, (str, int, float, bool)) and not isinstance(v, torch.Tensor)
                }
                obj = obj[key]
                break
    if not _is_tensor_dict(obj):
        if isinstance(obj, Mapping):
            if not obj:
                raise WeightsError(path, "holds an empty dictionary, not model weights")
            bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
            raise WeightsError(
                path,
                f"holds a dictionary that is not a model state dict (entries that are not tensors: "
                f"{list_keys([str(k) for k in bad])}); expected a plain state dict or a trainer checkpoint "
                f"with 'model_state_dict'",
            )
        raise WeightsError(path, f"holds a {type(obj).__name__}, not a model state dict")
    return strip_wrapper_prefixes({str(k): v for k, v in obj.items()}), info


def _all_finite(t: torch.Tensor) -> bool:
    # A NaN or Inf anywhere makes the sum NaN or Inf, and a sum is 12x quicker than isfinite().all() on
    # VGG16's 134 M weights; only a sum that overflows needs the element-wise look.
    return bool(torch.isfinite(t.sum())) or bool(torch.isfinite(t).all())


def check_finite(state: Mapping[str, torch.Tensor], path: Path) -> None:
    """Refuse weights with NaN or Inf in any floating tensor (a diverged run): such a model predicts one
    class everywhere without any error, so the WeightsError names the file and the first bad tensor."""
    bad = [k for k, v in state.items() if v.is_floating_point() and not _all_finite(v)]
    if not bad:
        return
    first = state[bad[0]]
    count = int((~torch.isfinite(first)).sum())
    others = f" (and {len(bad) - 1} more of the {len(state)} tensors)" if len(bad) > 1 else ""
    raise WeightsError(path, f"tensor {bad[0]} holds NaN or Inf values ({count} of {first.numel()}){others}; "
                             "the weights are unusable (did training diverge?)")


def read_weights_file(
    path: str | os.PathLike[str],
) -> tuple[dict[str, torch.Tensor], dict[str, str] | None, dict[str, Any]]:
    """Read any supported weights file.

    Returns ``(state_dict, safetensors_metadata_or_None, trainer_info)``. Raises :class:`WeightsError`
    with the file name and the problem for anything that is not usable weights (NaN/Inf values included).
    """
    p = Path(path)
    size = _check_file(p)
    with open(p, "rb") as fh:
        head = fh.read(64)
    if _looks_like_safetensors(head, size):
        tensors, meta = read_safetensors(p)
        if not tensors:
            raise WeightsError(p, "safetensors file holds no tensors")
        check_finite(tensors, p)
        return strip_wrapper_prefixes(tensors), meta, {}
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        try:
            json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            pass
        else:
            raise WeightsError(p, "is a JSON file, not a weights file (expected .pth or .safetensors)")
    if _is_text(head):
        raise WeightsError(p, "is a text file, not a weights file (expected .pth or .safetensors)")
    if p.suffix.lower() == ".safetensors":
        raise WeightsError(p, "is named .safetensors but is not a safetensors file (bad header)")
    state, info = extract_state_dict(read_torch_file(p), p)
    check_finite(state, p)
    return state, None, info
