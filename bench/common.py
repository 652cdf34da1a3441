"""What the benchmark scripts share: paths, round-robin timing, seeded models, synthetic photos and the
pytorch-fcn-style eager baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from fcn_core.data.palette import VOC_CLASSES
from fcn_core.models import build_model
from fcn_core.weights import CAFFE_PREPROCESSING, save_checkpoint

REPO = Path(__file__).resolve().parents[1]
VOC_SAMPLE = REPO.parent / "shared" / "data" / "voc2012-sample"
DEMO_MODEL = REPO / "resources" / "demo" / "model.safetensors"
MEAN_BGR = np.array([104.00698793, 116.66876762, 122.67891434])

def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _stats(times: list[float]) -> dict[str, float]:
    med, low = statistics.median(times), min(times)
    return {"median_ms": round(med, 3), "min_ms": round(low, 3), "runs": len(times)}


def time_ms(fn: Callable[[], object], device: str, warmup: int, repeat: int) -> dict[str, float]:
    """Median and min wall time of ``fn`` in ms after ``warmup`` untimed calls."""
    return time_interleaved({"fn": fn}, device, warmup, repeat)["fn"]


def time_interleaved(fns: dict[str, Callable[[], object]], device: str, warmup: int,
                     repeat: int) -> dict[str, dict[str, float]]:
    """Time several functions round-robin (one call of each per round), so a busy shared machine slows
    them all alike instead of whichever happened to run during the busy spell."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync(device)
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            sync(device)
            times[key].append((time.perf_counter() - t0) * 1e3)
    return {k: _stats(v) for k, v in times.items()}


def seeded_model(arch: str, width: float, seed: int = 0) -> torch.nn.Module:
    """A model with fixed-seed random conv weights (deconvs stay bilinear) so logits are not all zero."""
    torch.manual_seed(seed)
    model = build_model(arch, 21, width=width)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                torch.nn.init.normal_(m.bias, std=0.01)
    return model.eval()


def checkpoint(tmp: Path, arch: str, width: float) -> Path:
    """Save a seeded model as our checkpoint (the path ``fcn predict`` loads)."""
    path = tmp / f"{arch}-w{width}.safetensors"
    if not path.exists():
        save_checkpoint(path, seeded_model(arch, width), arch=arch, class_names=list(VOC_CLASSES),
                        preprocessing=CAFFE_PREPROCESSING, options={"width": width},
                        metadata={"source": "bench/inference.py, seed 0, random weights"})
    return path


def synthetic_photo(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random colour field with edges: compresses like a photo, unlike white noise."""
    import cv2

    small = rng.integers(0, 256, (max(2, h // 40), max(2, w // 40), 3), dtype=np.uint8)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    noise = rng.integers(-12, 13, (h, w, 3))
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def baseline_fn(model: torch.nn.Module, image: np.ndarray, device: str) -> Callable[[], np.ndarray]:
    """pytorch-fcn's eager path: numpy BGR-minus-mean on host, fp32 NCHW, forward, ``max(1)[1].cpu()``."""
    model = model.to(device).float().eval()

    def run() -> np.ndarray:
        img = image[:, :, ::-1].astype(np.float64) - MEAN_BGR
        x = torch.from_numpy(img.transpose(2, 0, 1).copy()).float()[None].to(device)
        with torch.no_grad():
            score = model(x)
        return score.data.max(1)[1].cpu().numpy()[0]

    return run
