"""Files a training run writes: checkpoints (our safetensors format) and the resume state beside them.

``last.safetensors`` + ``last.state.pt`` (optimizer, iteration, epoch, RNG; loaded with ``weights_only=True``)
are enough to continue a run exactly; ``best.safetensors`` has the best finest-stride mean IU so far.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fcn_core.data.atomic import atomic_write_bytes, atomic_write_text

BEST = "best.safetensors"
LAST = "last.safetensors"
STATE = "last.state.pt"
LOG = "log.jsonl"


def data_hash(dataset, splits: dict[str, list]) -> str:
    """sha256 over the split lists, image file sizes and label bytes: identifies the training data used."""
    h = hashlib.sha256()
    for name in sorted(splits):
        h.update(f"[{name}]".encode())
        for s in splits[name]:
            h.update(s.stem.encode() + b"\0")
            if s.image_path is not None and s.image_path.exists():
                h.update(str(s.image_path.stat().st_size).encode())
            if s.label_path is not None and s.label_path.exists():
                h.update(hashlib.sha256(s.label_path.read_bytes()).digest())
    return h.hexdigest()


def save_model_checkpoint(
    path: Path, model: nn.Module, info: dict[str, Any], metadata: dict[str, Any]
) -> None:
    """Write ``model`` as our checkpoint; ``info`` has class_names, palette, void_index, preprocessing."""
    from fcn_core.weights import save_checkpoint

    save_checkpoint(
        path,
        model,
        arch=model.arch,
        class_names=info["class_names"],
        palette=info["palette"],
        void_index=info["void_index"],
        preprocessing=info["preprocessing"],
        options=dict(model.options),
        metadata=metadata,
    )


def load_weights_into(model: nn.Module, path: Path) -> None:
    """Load the tensors of one of our checkpoints into ``model`` exactly (strict, no conversion)."""
    from fcn_core.weights.reading import read_safetensors

    state, _ = read_safetensors(path)
    model.load_state_dict(state, strict=True)


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    """Torch RNG states (dropout draws from them); numpy/python RNGs are not used by training."""
    out = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        out["cuda"] = torch.cuda.get_rng_state(device)
    return out


def set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    """Restore what `rng_state` returned."""
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write the resume state (plain tensors, numbers, strings only) atomically."""
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_state(path: Path) -> dict[str, Any]:
    """Read a resume state written by `save_state`; never unpickles arbitrary objects."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupted or foreign file
        raise ValueError(f"{path}: cannot read the training state to resume from ({exc})") from exc


def append_log(out: Path, record: dict[str, Any]) -> None:
    """Append one JSON line to ``log.jsonl`` (rewritten atomically; the log stays small)."""
    path = out / LOG
    old = path.read_text() if path.exists() else ""
    atomic_write_text(path, old + json.dumps(record, default=str) + "\n")
