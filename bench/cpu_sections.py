"""CPU-only sections of ``bench/inference.py``: an 8000x6000 image in bounded memory, sharded prediction
with torchrun, and the CPU runtime backends (exact ONNX Runtime fp32 and the int8 preview)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import (
    DEMO_MODEL,
    REPO,
    VOC_SAMPLE,
    baseline_fn,
    checkpoint,
    synthetic_photo,
    time_interleaved,
)
from fcn_core.predictor import Predictor
from fcn_core.weights import load_model


def bench_large_image(cfg: dict) -> dict:
    """Peak memory above idle and time of one 8000x6000 image with the demo model (bench/large_image.py,
    in its own process so the peak is this image's alone)."""
    if cfg["quick"] or not DEMO_MODEL.is_file():
        return {"large_image": {"skipped": "quick run" if cfg["quick"] else "no demo model"}}
    h, w = cfg["large_image_hw"]
    script = REPO / "bench" / "large_image.py"
    proc = subprocess.run([sys.executable, str(script), "--weights", str(DEMO_MODEL), "--height", str(h),
                           "--width", str(w), "--device", "cpu"], capture_output=True, text=True, check=True)
    info = json.loads(proc.stdout)
    return {"large_image_peak_mb": info["peak_mb"], "large_image_s": info["seconds"], "large_image": info}


def bench_sharded(cfg: dict, tmp: Path) -> dict:
    """``torchrun -m fcn_core predict --stride all`` with 1 and 2 CPU processes over the same images (demo
    model); images/s over the prediction time in the manifest (slowest rank), and over wall time."""
    if cfg["quick"] or not DEMO_MODEL.is_file():
        return {"sharded": {"skipped": "quick run" if cfg["quick"] else "no demo model"}}
    import socket

    import cv2

    folder = tmp / "sharded-images"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    h, w = cfg["pipeline_hw"]
    for i in range(cfg["sharded_images"]):
        cv2.imwrite(str(folder / f"s{i:04d}.jpg"), synthetic_photo(h, w, rng)[:, :, ::-1])
    rates, wall = {}, {}
    for procs in (1, 2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        out = tmp / f"sharded-{procs}"
        env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
        # One torch thread per process in both runs (torchrun's default for N > 1), so the comparison is of
        # processes (busy 2-core box here: one process with 2 threads did 0.3-0.7 images/s, with 1: 1.5).
        env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node",
                        str(procs), "--master_port", str(port), "-m", "fcn_core", "predict", str(folder),
                        "--weights", str(DEMO_MODEL), "--out", str(out), "--stride", "all", "--device", "cpu",
                        "--no-progress"], capture_output=True, text=True, check=True, env=env)
        seconds = time.perf_counter() - start
        manifest = json.loads((out / "manifest.json").read_text())
        rates[str(procs)] = round(manifest["written"] / manifest["seconds"], 2)
        wall[str(procs)] = round(manifest["written"] / seconds, 2)
    return {"sharded_images_per_s": rates, "sharded_images_per_s_wall": wall,
            "sharded": {"images": cfg["sharded_images"], "image_hw": list(cfg["pipeline_hw"]),
                        "model": "demo", "strides": "all", "threads_per_process": 1}}


# -- CPU runtime backends: exact (ONNX Runtime fp32) and the int8 preview --------------------------------
def runtime_config(quick: bool) -> dict:
    if quick:
        return {"size": 64, "width": 0.0625, "warmup": 1, "repeat": 2, "speed_calibrate": 2,
                "speed_held_out": 1, "calibrate": 4, "held_out": 2, "exact_photos": 2}
    return {"size": 500, "width": 1.0, "warmup": 1, "repeat": 5, "speed_calibrate": 8, "speed_held_out": 2,
            "calibrate": 32, "held_out": 16, "exact_photos": 24}


def _label_agreement(ref: Predictor, other: Predictor, images: list[np.ndarray]) -> tuple[float, float, int]:
    """(equal fraction over all images and strides, worst single image/stride, number of differing labels)."""
    same = total = 0
    worst = 1.0
    for img in images:
        a, b = ref.predict(img), other.predict(img)
        for s in a:
            eq = int((a[s].labels == b[s].labels).sum())
            same, total, worst = same + eq, total + a[s].labels.size, min(worst, eq / a[s].labels.size)
    return round(same / max(1, total), 6), round(worst, 6), total - same


def bench_cpu_runtime(quick: bool, tmp: Path, log: Callable[[str], None]) -> dict:
    """``baseline_ms`` / ``exact_ms`` / ``int8_ms`` timed round-robin on FCN-8s (VGG16, fixed-seed weights),
    ``exact_agreement`` / ``int8_agreement`` vs torch fp32 on real VOC photos (trained demo model)."""
    from fcn_core import runtime_onnx

    try:
        runtime_onnx.import_onnxruntime()
    except runtime_onnx.RuntimeUnavailable as exc:
        return {"runtime": {"skipped": str(exc)}}
    photos = sorted((VOC_SAMPLE / "JPEGImages").glob("*.jpg"))
    if not photos:
        return {"runtime": {"skipped": f"real photos not found at {VOC_SAMPLE / 'JPEGImages'}"}}
    rc = runtime_config(quick)
    old_cache = os.environ.get("FCN_STUDIO_CACHE")
    os.environ["FCN_STUDIO_CACHE"] = str(tmp / "cache")  # a fresh export, timed below
    try:
        return _bench_cpu_runtime(rc, photos, tmp, log)
    finally:
        if old_cache is None:
            os.environ.pop("FCN_STUDIO_CACHE", None)
        else:
            os.environ["FCN_STUDIO_CACHE"] = old_cache


def _bench_cpu_runtime(rc: dict, photos: list[Path], tmp: Path, log: Callable[[str], None]) -> dict:
    from fcn_core import runtime_int8
    from fcn_core.data.images import read_image

    size = rc["size"]
    image = synthetic_photo(size, size, np.random.default_rng(1))
    ckpt = checkpoint(tmp, "fcn8s", rc["width"])
    log("[cpu] runtime: export + int8 calibration (one-time costs)")
    t0 = time.perf_counter()
    exact = Predictor(load_model(ckpt), device="cpu", backend="onnxruntime")
    export_s = time.perf_counter() - t0
    speed_cal = runtime_int8.Calibration(photos, rc["speed_calibrate"], rc["speed_held_out"])
    t0 = time.perf_counter()
    int8 = Predictor(load_model(ckpt), device="cpu", precision="int8", calibration=speed_cal)
    calibrate_s = time.perf_counter() - t0
    torch_default = Predictor(load_model(ckpt), device="cpu", precision="fp32", channels_last=True)
    fns = {"baseline": baseline_fn(load_model(ckpt).model, image, "cpu"),
           "torch": lambda: torch_default.predict(image), "exact": lambda: exact.predict(image),
           "int8": lambda: int8.predict(image)}
    log("[cpu] runtime: baseline / torch / exact / int8, round-robin")
    timed = time_interleaved(fns, "cpu", rc["warmup"], rc["repeat"])
    base = timed["baseline"]["median_ms"]
    # Agreement on a trained model: label ties of random weights would measure noise, not the runtime.
    if DEMO_MODEL.exists():
        path, model_desc = DEMO_MODEL, f"trained checkpoint {DEMO_MODEL.relative_to(REPO)}"
    else:
        path = checkpoint(tmp, "fcn-multi", 0.25)
        model_desc = "fcn-multi width 0.25, fixed-seed random weights (no trained checkpoint found)"
    log("[cpu] runtime: agreement on real photos")
    ref = Predictor(load_model(path), device="cpu", precision="fp32", channels_last=False)
    exact_demo = Predictor(load_model(path), device="cpu", backend="onnxruntime")
    step = max(1, len(photos) // rc["exact_photos"])
    images = [read_image(p) for p in photos[::step][: rc["exact_photos"]]]
    exact_eq, exact_worst, exact_diff = _label_agreement(ref, exact_demo, images)
    # Context for the few differing labels: torch's own channels-last path against the same NCHW reference.
    torch_cl = Predictor(load_model(path), device="cpu", precision="fp32", channels_last=True)
    _, _, torch_cl_diff = _label_agreement(ref, torch_cl, images)
    del torch_cl
    # The timed net (random weights: near-ties) against torch fp32 NCHW, on two photos.
    speed_ref = Predictor(load_model(ckpt), device="cpu", precision="fp32", channels_last=False)
    speed_eq, _, speed_diff = _label_agreement(speed_ref, exact, images[:2])
    del speed_ref
    int8_demo = Predictor(load_model(path), device="cpu", precision="int8",
                          calibration=runtime_int8.Calibration(photos, rc["calibrate"], rc["held_out"]))
    return {
        "baseline_ms": base, "torch_ms": timed["torch"]["median_ms"], "exact_ms": timed["exact"]["median_ms"],
        "exact_agreement": exact_eq, "int8_ms": timed["int8"]["median_ms"],
        "int8_agreement": int8_demo.int8_agreement,
        "runtime": {
            "timed_model": f"fcn8s width {rc['width']}, fixed-seed random weights, {size}x{size}, batch 1",
            "timing": "baseline, torch, exact, int8 round-robin, one call each per round; medians",
            "times": timed,
            "speedup": {k: round(base / timed[k]["median_ms"], 3) for k in ("torch", "exact", "int8")},
            "backends": {"torch": torch_default.describe(), "exact": exact.describe(),
                         "int8": int8.describe()},
            "notes": exact.notes + int8.notes + exact_demo.notes + int8_demo.notes,
            "export_s": round(export_s, 2), "int8_calibration_s": round(calibrate_s, 2),
            "agreement_model": model_desc,
            "exact_agreement": {"demo_model_photos": len(images), "equal_fraction": exact_eq,
                                "worst_image_stride_fraction": exact_worst, "differing_labels": exact_diff,
                                "torch_channels_last_differing_labels": torch_cl_diff,
                                "timed_model_photos": 2, "timed_model_equal_fraction": speed_eq,
                                "timed_model_differing_labels": speed_diff},
            "int8_agreement": {"held_out_photos": rc["held_out"], "calibration_photos": rc["calibrate"],
                               "timed_model_random_weights": int8.int8_agreement},
        },
    }
