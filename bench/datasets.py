"""How fast a big dataset opens: a Cityscapes-style tree of N images (default 100,000; 2N files).

Prints one JSON object on stdout: the time ``open_dataset`` takes to detect the format and list the tree
(target <= 5 s) and the time until the first image is decoded (target <= 1 s), both from the call and from
the moment the dataset is open; wall and CPU seconds.
The tree is generated once (tiny pre-encoded PNGs written with plain os calls) into ``--dir`` or a folder
in the temp directory, and reused by later runs; ``--fresh`` regenerates it.

    python3 bench/datasets.py                  # 100,000 images
    python3 bench/datasets.py --count 500      # quick
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fcn_core.data import open_dataset  # noqa: E402

PER_CITY = 1000  # Cityscapes has a few hundred images per city; more per folder is the harder case
W, H = 16, 8


def _png(arr: np.ndarray, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def generate(root: Path, count: int) -> float:
    """Write the tree (leftImg8bit/ + gtFine/ labelIds, split 90/10 into train/val); returns seconds."""
    start = time.perf_counter()
    image = _png(np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8), "RGB")
    label = _png(np.tile(np.array([7, 8, 26, 23, 0, 11, 21, 24], dtype=np.uint8).repeat(2), (H, 1)), "L")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for i in range(count):
        split = "val" if i % 10 == 9 else "train"
        city = f"city{i // PER_CITY:03d}"
        stem = f"{city}_{i:06d}_000019"
        if i % PER_CITY == 0 or i % PER_CITY == 9:  # first image of a city in this split: make its folders
            os.makedirs(root / "leftImg8bit" / split / city, exist_ok=True)
            os.makedirs(root / "gtFine" / split / city, exist_ok=True)
        for path, data in ((root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png", image),
                           (root / "gtFine" / split / city / f"{stem}_gtFine_labelIds.png", label)):
            fd = os.open(path, flags, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
    (root / ".complete").write_text(str(count))
    return time.perf_counter() - start


def measure(root: Path) -> dict:
    """Open (detect + list), then decode the first image and label. Wall and CPU seconds: on a shared, busy
    machine the wall time also counts waiting for a core, the CPU time only the work."""
    cpu0, start = time.process_time(), time.perf_counter()
    ds = open_dataset(root)
    cpu1, opened = time.process_time(), time.perf_counter()
    image = ds.image(0)
    cpu2, first_image = time.process_time(), time.perf_counter()
    labels = ds.label(0)
    first_label = time.perf_counter()
    forced_start = time.perf_counter()
    open_dataset(root, format="cityscapes")
    forced = time.perf_counter() - forced_start
    return {
        "format": ds.kind,
        "images": len(ds),
        "labelled": sum(1 for s in ds.samples if s.label_path is not None),
        "splits": {k: len(v) for k, v in ds.splits.items()},
        "open_s": round(opened - start, 3),
        "open_cpu_s": round(cpu1 - cpu0, 3),
        "open_forced_format_s": round(forced, 3),
        "first_image_s": round(first_image - start, 3),
        "first_image_after_open_s": round(first_image - opened, 4),
        "first_image_after_open_cpu_s": round(cpu2 - cpu1, 4),
        "first_label_s": round(first_label - start, 3),
        "first_image_shape": list(image.shape),
        "first_label_classes": sorted(int(v) for v in np.unique(labels)),
    }


def measure_app(root: Path, timeout_s: float = 300.0) -> dict:
    """The real window (offscreen): from ``open_dataset`` to the first photo and labels on screen, and from
    the moment the dataset is open (the listing runs as a background job; the GUI never waits)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(device="cpu")
    window.split_choice = "all"
    window.resize(1280, 800)
    window.show()
    marks: dict[str, float] = {}
    window.dataset_opened.connect(lambda _d: marks.setdefault("opened", time.perf_counter()))
    window.current_image_changed.connect(lambda _s: marks.setdefault("shown", time.perf_counter()))
    start = time.perf_counter()
    window.open_dataset(root)
    while "shown" not in marks and time.perf_counter() - start < timeout_s:
        app.processEvents()
        time.sleep(0.001)
    window.close()
    if "shown" not in marks:
        return {"app": {"error": f"no image on screen after {timeout_s:.0f} s"}}
    return {"app_first_image_on_screen_s": round(marks["shown"] - start, 3),
            "app_first_image_after_open_s": round(marks["shown"] - marks["opened"], 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=100_000, help="images in the tree (default 100000)")
    p.add_argument("--dir", type=Path, default=None, help="where the tree lives (default: temp folder)")
    p.add_argument("--fresh", action="store_true", help="regenerate the tree even if it exists")
    p.add_argument("--no-app", action="store_true", help="skip the measurement in the real window")
    args = p.parse_args(argv)
    if args.count < 1:
        p.error("--count must be at least 1")
    root = args.dir or Path(tempfile.gettempdir()) / f"fcn-bench-cityscapes-{args.count}"
    marker = root / ".complete"
    generated_s = None
    if args.fresh or not marker.is_file() or marker.read_text() != str(args.count):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        print(f"generating {args.count} images ({2 * args.count} files) in {root} ...", file=sys.stderr)
        generated_s = round(generate(root, args.count), 1)
    result = measure(root)
    if not args.no_app:
        result.update(measure_app(root))
    report = {
        "meta": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                 "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "note": "files were just written or read before: the OS file cache is warm"},
        "tree": {"root": str(root), "count": args.count, "files": 2 * args.count, "generate_s": generated_s},
        **result,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "targets": {"open_s": 5.0, "first_image_after_open_s": 1.0},
        "within_targets": result["open_s"] <= 5.0 and result["first_image_after_open_s"] <= 1.0,
    }
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
