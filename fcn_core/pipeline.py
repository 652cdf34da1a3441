"""Folder prediction pipeline and the headless "image -> four panels" path.

``predict_paths`` overlaps three stages so the network is never waiting on disk:

* decoding in a thread pool (OpenCV/Pillow release the GIL while decoding),
* prediction on the caller's thread, in batches of images of **exactly equal size**,
* palette-PNG writing in a second thread pool (each write is atomic).

Queues between the stages are bounded (decode look-ahead, images parked in size buckets, writes in
flight), so memory stays flat however many files there are.

Why only exact-equal sizes are batched: an FCN's output near the border depends on the input's extent
(padding 100, ceil-mode pooling, fixed crops), so padding a smaller image up to a bucket size and cropping
the result back would change labels. Mixed-size folders therefore form one bucket per ``(H, W)``; a bucket
is flushed when full, when too many images are parked, or at the end.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fcn_core.data.palette import full_palette

#: File suffixes a directory argument expands to (lower-case comparison).
IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

FailureCallback = Callable[[Path, str], None]


class PipelineError(ValueError):
    """The set of inputs cannot be predicted as asked (e.g. two inputs would write the same file)."""


@dataclass
class PredictReport:
    """Outcome of :func:`predict_paths`: images written, failures ``(path, message)``, wall time."""

    ok: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def images_per_s(self) -> float:
        """Images written per second of wall time (0 when nothing ran)."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0


def expand_inputs(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand directories to their image files (sorted, not recursive); keep file arguments as given.

    A path given twice (directly or through its folder) is kept once. Paths that do not exist are kept,
    so the pipeline reports them by name as failures instead of silently dropping them.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            found = [path]
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def check_unique_stems(paths: Sequence[Path]) -> None:
    """Raise :class:`PipelineError` naming both files when two inputs share a stem (same output name)."""
    by_stem: dict[str, Path] = {}
    for p in paths:
        other = by_stem.setdefault(p.stem, p)
        if other is not p:
            raise PipelineError(
                f"{other} and {p} would both be written as {p.stem}.png; "
                "rename one or predict them separately"
            )


def output_path(out_dir: Path, stem: str, stride: int, per_stride_dirs: bool) -> Path:
    """Where the PNG of ``stem`` at ``stride`` goes: ``out/<stem>.png`` or ``out/<stride>s/<stem>.png``."""
    return (out_dir / f"{stride}s" if per_stride_dirs else out_dir) / f"{stem}.png"


def _error_text(exc: BaseException) -> str:
    # DataError/WeightsError messages already name the file; others get their type for context.
    return str(exc) if isinstance(exc, ValueError | OSError) and str(exc) else f"{type(exc).__name__}: {exc}"


class _Progress:
    """Thread-safe counter that drives a tqdm bar and/or a ``callback(done, total)``."""

    def __init__(self, total: int, progress: bool | Callable[[int, int], None]) -> None:
        self.total, self.done = total, 0
        self.lock = threading.Lock()
        self.callback = progress if callable(progress) else None
        self.bar = None
        if progress is True:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="img", desc="predict", dynamic_ncols=True)

    def step(self) -> None:
        with self.lock:
            self.done += 1
            if self.bar is not None:
                self.bar.update(1)
            if self.callback is not None:
                self.callback(self.done, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _write_labels(path: Path, labels: dict[int, np.ndarray], out_dir: Path, per_stride_dirs: bool,
                  palette: np.ndarray, extras: dict[int, Any] | None = None) -> None:
    from fcn_core.data.labels import write_palette_png
    from fcn_core.data.predictions import CONFIDENCE_DIR, MARGIN_DIR, stored_path, write_probability_png

    for s, lab in labels.items():
        if extras is not None:  # confidence and margin first: a label file means its maps are there too
            for kind, values in zip((CONFIDENCE_DIR, MARGIN_DIR), extras[s]):
                target = stored_path(out_dir, path.stem, s, per_stride_dirs, kind)
                target.parent.mkdir(parents=True, exist_ok=True)
                write_probability_png(target, values)
        write_palette_png(output_path(out_dir, path.stem, s, per_stride_dirs), lab, palette)


def predict_paths(
    predictor: Any,
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    strides: Sequence[int] | None = None,
    batch_size: int = 1,
    workers: int = 4,
    progress: bool | Callable[[int, int], None] = False,
    per_stride_dirs: bool | None = None,
    palette: np.ndarray | None = None,
    on_failure: FailureCallback | None = None,
    max_parked: int | None = None,
    extra_inputs: Callable[[Path], dict[str, np.ndarray]] | None = None,
    save_confidence: bool = False,
    on_written: Callable[[Path], None] | None = None,
) -> PredictReport:
    """Predict every image in ``paths`` and write palette PNGs of class indices under ``out_dir``.

    ``strides``: which of the model's strides to write (default: the finest). ``per_stride_dirs``
    (default: more than one stride) writes ``out/<s>s/<stem>.png`` instead of ``out/<stem>.png``.
    ``progress``: ``True`` for a tqdm bar on stderr (images/s), or a ``callback(done, total)``.
    ``on_failure(path, message)`` is called as soon as an image fails; the image is skipped and the rest
    continue. ``palette`` defaults to the predictor's (VOC colours when it has none). ``extra_inputs(path)``
    gives an image's depth / HHA for nets that need them (``fcn_core.extra_inputs.extra_reader``).
    ``save_confidence`` also writes each pixel's top softmax probability and top-1 minus top-2 margin as
    16-bit PNGs under ``out/confidence/`` and ``out/margin/`` (same layout; ``fcn_core.data.predictions``
    reads them).
    ``on_written(path)`` is called (from a writer thread) once all of an image's PNGs are written; if it
    raises, the image fails.
    Raises :class:`PipelineError` for two inputs with the same stem or a stride the model lacks.
    """
    paths = [Path(p) for p in paths]
    out = Path(out_dir)
    available = tuple(predictor.strides)
    strides = tuple(strides) if strides else (min(available),)
    missing = [s for s in strides if s not in available]
    if missing:
        raise PipelineError(
            f"the model predicts strides {', '.join(map(str, available))} only; "
            f"asked for {', '.join(map(str, missing))}"
        )
    if per_stride_dirs is None:
        per_stride_dirs = len(strides) > 1
    check_unique_stems(paths)
    pal = full_palette(palette if palette is not None else getattr(predictor, "palette", None))
    batch_size, workers = max(1, int(batch_size)), max(1, int(workers))
    # Bounds on what is held in memory at once; each decoded 500x375 image is ~0.5 MB.
    look_ahead = max(2 * batch_size, 2 * workers)
    max_parked = max_parked if max_parked is not None else max(4 * batch_size, 16)
    max_writes = max(2 * workers, batch_size)

    report = PredictReport()
    report_lock = threading.Lock()
    bar = _Progress(len(paths), progress)

    def fail(path: Path, message: str) -> None:
        with report_lock:
            report.failed.append((path, message))
        if on_failure is not None:
            on_failure(path, message)
        bar.step()

    def written(future: Future) -> None:
        path = future.path  # type: ignore[attr-defined]
        exc = future.exception()
        if exc is not None:
            fail(path, f"{path}: cannot write the label PNG: {_error_text(exc)}")
            return
        if on_written is not None:
            try:
                on_written(path)
            except Exception as exc:  # noqa: BLE001 - reported per image like a failed write
                fail(path, f"{path}: written, but recording it failed: {_error_text(exc)}")
                return
        with report_lock:
            report.ok += 1
        bar.step()

    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    from fcn_core.data.images import read_image

    decode_pool = ThreadPoolExecutor(workers, thread_name_prefix="fcn-decode")
    write_pool = ThreadPoolExecutor(workers, thread_name_prefix="fcn-write")
    writes: deque[Future] = deque()

    def submit_write(path: Path, result: dict[int, Any]) -> None:
        # Keep only the uint8 labels alive until written (confidence maps are 4x larger), unless saved.
        labels = {s: result[s].labels for s in strides}
        extras = {s: (result[s].confidence, result[s].margin) for s in strides} if save_confidence else None
        fut = write_pool.submit(_write_labels, path, labels, out, per_stride_dirs, pal, extras)
        fut.path = path  # type: ignore[attr-defined]
        fut.add_done_callback(written)
        writes.append(fut)
        while len(writes) > max_writes:  # back-pressure: never more than max_writes results in RAM
            writes.popleft().exception()

    def run_batch(items: list[tuple[Path, np.ndarray]]) -> None:
        try:
            extra = {} if extra_inputs is None else {"extras": [extra_inputs(p) for p, _ in items]}
            results = predictor.predict_batch(
                [img for _, img in items], strides=strides, with_confidence=save_confidence, **extra
            )
        except Exception as exc:  # noqa: BLE001 - one bad batch must not stop the folder
            if len(items) > 1:  # isolate the culprit: retry one by one
                for item in items:
                    run_batch([item])
                return
            fail(items[0][0], f"{items[0][0]}: prediction failed: {_error_text(exc)}")
            return
        for (path, _), result in zip(items, results):
            submit_write(path, result)

    try:
        decoded: deque[tuple[Path, Future]] = deque()
        buckets: dict[tuple[int, int], list[tuple[Path, np.ndarray]]] = {}
        parked = 0

        def take_one() -> None:
            nonlocal parked
            path, fut = decoded.popleft()
            exc = fut.exception()
            if exc is not None:
                fail(path, _error_text(exc) if str(path) in str(exc) else f"{path}: {_error_text(exc)}")
                return
            image = fut.result()
            key = (int(image.shape[0]), int(image.shape[1]))
            bucket = buckets.setdefault(key, [])
            bucket.append((path, image))
            parked += 1
            if len(bucket) >= batch_size:
                parked -= len(bucket)
                run_batch(buckets.pop(key))
            elif parked > max_parked:  # too many sizes parked: run the oldest bucket part-full
                oldest = next(iter(buckets))
                parked -= len(buckets[oldest])
                run_batch(buckets.pop(oldest))

        for path in paths:
            decoded.append((path, decode_pool.submit(read_image, path)))
            if len(decoded) >= look_ahead:
                take_one()
        while decoded:
            take_one()
        for key in list(buckets):
            run_batch(buckets.pop(key))
        for fut in writes:
            fut.exception()
    finally:
        decode_pool.shutdown(wait=True, cancel_futures=True)
        write_pool.shutdown(wait=True)
        bar.close()
    report.seconds = time.perf_counter() - start
    return report


def _blend_numpy(rgb: np.ndarray, colour: np.ndarray, alpha: float) -> np.ndarray:
    import cv2

    return cv2.addWeighted(rgb, 1.0 - alpha, colour, alpha, 0.0)


def _colourise_torch(device: str, rgb: np.ndarray, maps: dict[int, np.ndarray], gt: np.ndarray | None,
                     lut: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """Palette lookup and overlay blend on ``device``; one upload per input, one download for all panels."""
    import torch

    dev = torch.device(device)
    lut_t = torch.from_numpy(lut).to(dev)
    img = torch.from_numpy(rgb).to(dev, non_blocking=True)
    strides = sorted(maps, reverse=True)
    labels = torch.from_numpy(np.stack([maps[s] for s in strides])).to(dev, non_blocking=True)
    colours = lut_t[labels.long()]  # (S, H, W, 3) uint8
    blend = img.float() * (1.0 - alpha) + colours.float() * alpha
    overlays = blend.add_(0.5).floor_().clamp_(0, 255).to(torch.uint8)
    parts = [colours, overlays]
    if gt is not None:
        parts.append(lut_t[torch.from_numpy(gt).to(dev).long()][None])
    host = torch.cat(parts).cpu().numpy()  # single device->host copy (and sync)
    out = {f"prediction_{s}s": host[i] for i, s in enumerate(strides)}
    out.update({f"overlay_{s}s": host[len(strides) + i] for i, s in enumerate(strides)})
    if gt is not None:
        out["ground_truth"] = host[-1]
    return out


def render_panels(
    predictor: Any,
    image: np.ndarray | str | os.PathLike[str],
    gt: np.ndarray | str | os.PathLike[str] | None = None,
    palette: np.ndarray | None = None,
    alpha: float = 0.5,
    *,
    stride: int | None = None,
    void_value: int = 255,
    colour_device: str | None = None,
) -> dict[str, np.ndarray]:
    """Headless "new image -> panels": decode, predict every stride in one pass, colourise by palette LUT.

    ``image``/``gt`` are arrays or file paths (``gt`` optional; a file's ``void_value`` maps to 255).
    Returns RGB uint8 ``(H, W, 3)`` arrays: ``original``, ``ground_truth`` (only when ``gt`` is given),
    ``prediction``/``overlay`` for ``stride`` (default: the finest), and ``prediction_<s>s``/``overlay_<s>s``
    for every stride so a viewer can toggle strides without recomputing. The overlay is
    ``(1 - alpha) * image + alpha * colour``. Colourisation runs on the predictor's device when it is CUDA
    (``colour_device`` overrides), otherwise on the CPU with OpenCV.
    """
    from fcn_core.data.images import read_image

    rgb = read_image(image) if isinstance(image, str | os.PathLike) else np.ascontiguousarray(image, np.uint8)
    gt_labels = None
    if gt is not None:
        if isinstance(gt, str | os.PathLike):
            from fcn_core.data.labels import read_label

            gt_labels = read_label(gt, void_value=void_value)
        else:
            gt_labels = np.ascontiguousarray(gt, np.uint8)
        if gt_labels.shape != rgb.shape[:2]:
            name = gt if isinstance(gt, str | os.PathLike) else "ground truth"
            raise ValueError(f"{name}: label size {gt_labels.shape[1]}x{gt_labels.shape[0]} does not match "
                             f"the image size {rgb.shape[1]}x{rgb.shape[0]}")
    results = predictor.predict(rgb)
    maps = {s: r.labels for s, r in results.items()}
    shown = stride if stride is not None else min(maps)
    if shown not in maps:
        raise ValueError(f"the model predicts strides {sorted(maps)}; stride {shown} is not one of them")
    lut = full_palette(palette if palette is not None else getattr(predictor, "palette", None))
    device = colour_device or str(getattr(predictor, "device", "cpu"))
    if device.startswith("cuda") or colour_device is not None:
        panels = _colourise_torch(device, rgb, maps, gt_labels, lut, alpha)
    else:
        panels = {}
        for s, labels in maps.items():
            panels[f"prediction_{s}s"] = lut[labels]
            panels[f"overlay_{s}s"] = _blend_numpy(rgb, panels[f"prediction_{s}s"], alpha)
        if gt_labels is not None:
            panels["ground_truth"] = lut[gt_labels]
    panels["original"] = rgb
    panels["prediction"] = panels[f"prediction_{shown}s"]
    panels["overlay"] = panels[f"overlay_{shown}s"]
    return panels
