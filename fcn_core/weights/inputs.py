"""What a network's input channels are and how each is normalised (colour, HHA, depth).

Every model takes one tensor ``(N, C, H, W)`` whose channels are its ``inputs`` in order (``("color",)``,
``("hha",)``, ``("color", "depth")``, ``("color", "hha")``). A 3-channel image input (colour or HHA) is
normalised by a :class:`Preprocessing`; depth is ``log(depth) - mean`` as the reference's ``load_depth``.
Checkpoints carry the list as ``metadata["inputs"]`` (absent = colour only, the model's ``preprocessing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .preprocessing import Preprocessing


@dataclass(frozen=True)
class InputSpec:
    """One input of a network: ``name`` ("color", "hha" or "depth"), its channels and normalisation."""

    name: str
    channels: int = 3
    preprocessing: Preprocessing | None = None  # colour / HHA
    log: bool = False  # depth: natural log first (values below 1 are taken as 1)
    mean: float = 0.0  # depth: subtracted after the log

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        out: dict[str, Any] = {"name": self.name, "channels": self.channels}
        if self.preprocessing is not None:
            out["preprocessing"] = self.preprocessing.to_dict()
        if self.channels == 1:
            out.update(log=self.log, mean=self.mean)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputSpec:
        """Inverse of :meth:`to_dict`."""
        prep = data.get("preprocessing")
        return cls(
            name=str(data["name"]), channels=int(data.get("channels", 3)),
            preprocessing=Preprocessing.from_dict(prep) if prep else None,
            log=bool(data.get("log", False)), mean=float(data.get("mean", 0.0)),
        )

    def normalize(self, array: np.ndarray) -> np.ndarray:
        """Raw array (uint8 ``(H, W, 3)``, or depth ``(H, W)``) -> float32 ``(H, W, channels)``."""
        if self.channels == 1:
            d = np.asarray(array, dtype=np.float32)
            if d.ndim == 3:
                d = d[..., 0]
            if self.log:
                d = np.log(np.maximum(d, 1.0))
            return (d - np.float32(self.mean))[..., None]
        prep = self.preprocessing or Preprocessing()
        x = np.asarray(array, dtype=np.float32)
        if prep.color_order == "BGR":
            x = x[..., ::-1]
        mean, std = np.asarray(prep.mean, np.float32), np.asarray(prep.std, np.float32)
        return (x * np.float32(prep.scale) - mean) / std


def specs_from_metadata(metadata: dict[str, Any], preprocessing: Preprocessing) -> list[InputSpec]:
    """The inputs a checkpoint describes; colour with ``preprocessing`` when it says nothing."""
    raw = metadata.get("inputs") if isinstance(metadata, dict) else None
    if not raw:
        return [InputSpec("color", 3, preprocessing)]
    return [InputSpec.from_dict(d) for d in raw]


def network_input(specs: list[InputSpec], arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Concatenate the normalised inputs into float32 ``(H, W, C)`` in the order of ``specs``.

    ``arrays`` maps input names to raw arrays ("color": RGB uint8, "hha": uint8 (H, W, 3), "depth": (H, W)).
    """
    missing = [s.name for s in specs if s.name not in arrays]
    if missing:
        raise ValueError(f"the network needs input(s) {', '.join(missing)} that the sample does not have")
    parts = [s.normalize(arrays[s.name]) for s in specs]
    return np.ascontiguousarray(np.concatenate(parts, axis=2), dtype=np.float32)
