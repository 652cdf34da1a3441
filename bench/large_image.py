#!/usr/bin/env python3
"""Peak memory and time of predicting one large image; run in its own process (by bench/inference.py).

Prints one JSON object: ``peak_mb`` (peak resident memory above idle, i.e. after the model is loaded and
has run once; the image itself is counted), ``seconds``, ``tiling`` (what the predictor did). Reads
/proc/self/status (VmRSS, VmHWM) and resets the peak through /proc/self/clear_refs (Linux).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _status_mb(key: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--height", type=int, default=6000)
    ap.add_argument("--width", type=int, default=8000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--memory-mb", type=float, default=None)
    args = ap.parse_args(argv)

    import cv2
    import numpy as np

    from fcn_core.predictor import Predictor
    from fcn_core.weights import load_model

    predictor = Predictor(load_model(args.weights), device=args.device, memory_mb=args.memory_mb)
    predictor.predict(np.zeros((64, 64, 3), np.uint8))  # idle = model loaded and warmed up
    idle = _status_mb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        peak_reset = True
    except OSError:
        peak_reset = False
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (max(2, args.height // 40), max(2, args.width // 40), 3), dtype=np.uint8)
    image = cv2.resize(small, (args.width, args.height), interpolation=cv2.INTER_LINEAR)  # smooth "photo"
    progress: list[int] = []
    start = time.perf_counter()
    result = predictor.predict(image, progress=lambda done, total: progress.append(done))
    seconds = time.perf_counter() - start
    peak = _status_mb("VmHWM")
    tiling = predictor.last_tiling
    out = {
        "image": [args.height, args.width],
        "peak_mb": round(peak - idle, 1),
        "peak_reset": peak_reset,
        "seconds": round(seconds, 2),
        "max_tile_pixels": predictor.max_tile_pixels,
        "tiling": None if tiling is None else {"tiles": tiling.tiles, "tile_size": list(tiling.tile_size),
                                               "core_size": list(tiling.core_size), "overlap": tiling.overlap,
                                               "progress_calls": len(progress)},
        "strides": sorted(result),
        "confidence_dtype": str(next(iter(result.values())).confidence.dtype),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
