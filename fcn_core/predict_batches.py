"""How the Predictor turns images into forward passes: the photo and any extra inputs (depth, HHA) stacked
as the net wants, equal sizes batched together, images above the tile cap predicted in overlapping tiles
(``fcn_core.tiling``) and stitched, and out-of-memory errors answered with smaller batches, then the CPU.
A mixin of :class:`fcn_core.predictor.Predictor`, whose ``_run``, ``batch_size``, ``_device``,
``precision``, ``notes`` and fallbacks it uses."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from . import tiling
from .weights import network_input

if TYPE_CHECKING:
    from .predictor import StrideResult

log = logging.getLogger("fcn_core.predictor")


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Check/convert an image to ``(H, W, 3)`` uint8 RGB (gray is repeated, alpha dropped)."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"image must have shape (H, W, 3), got {np.asarray(image).shape}")
    return np.ascontiguousarray(a)


class BatchingMixin:
    """``predict_batch`` and its parts: ``_predict_whole`` (batches, OOM and compile fallbacks),
    ``_network_inputs``, ``_predict_tiled`` and ``_handle_oom``."""

    def predict_batch(
        self,
        images: Sequence[np.ndarray],
        strides: Iterable[int] | None = None,
        *,
        with_confidence: bool = True,
        extras: Sequence[dict[str, np.ndarray] | None] | None = None,
        all_tasks: bool = False,
        progress: tiling.Progress | None = None,
    ) -> list:
        """Predict several images (any sizes; equal sizes are batched together), in input order.

        ``with_confidence=False`` skips softmax, confidence and margin (labels only: an arg-max on the
        device), for batch jobs that write label files. ``extras`` gives each image's extra inputs (depth,
        HHA) for nets that need them (a missing one is a ValueError naming it). ``all_tasks``: each result is
        ``{task: {stride: StrideResult}}`` instead of the semantic ``{stride: StrideResult}``. Images above
        :attr:`max_tile_pixels` are predicted one by one in tiles (``progress(done, total)`` per tile).
        """
        arrays = [as_rgb_uint8(im) for im in images]
        if self.extra_inputs:
            arrays = self._network_inputs(arrays, extras)
        wanted = None if strides is None else {int(s) for s in strides}
        results: list = [None] * len(arrays)
        self.last_tiling = None
        whole: list[int] = []
        for i, a in enumerate(arrays):
            tiles = tiling.plan_tiles(a.shape[0], a.shape[1], self.max_tile_pixels)
            if tiles is None:
                whole.append(i)
            else:
                results[i] = self._predict_tiled(a, tiles, wanted, with_confidence, progress, all_tasks)
        outs = self._predict_whole([arrays[i] for i in whole], wanted, with_confidence, all_tasks)
        for i, out in zip(whole, outs):
            results[i] = out
        return [r for r in results if r is not None]

    def _predict_whole(self, arrays: list[np.ndarray], wanted: set[int] | None,
                       with_confidence: bool, all_tasks: bool = False) -> list:
        """Each image in one forward pass (equal sizes batched), with the OOM and compile fallbacks."""
        results: list[dict[int, StrideResult] | None] = [None] * len(arrays)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, a in enumerate(arrays):
            groups.setdefault(a.shape[:2], []).append(i)
        for indices in groups.values():
            start = 0
            while start < len(indices):
                cap = self.batch_size or len(indices)
                chunk = indices[start : start + cap]
                try:
                    outs = self._run(np.stack([arrays[i] for i in chunk]), wanted, with_confidence, all_tasks)
                except Exception as exc:
                    if not _is_oom(exc):
                        if not self._compiled:
                            raise
                        # torch.compile fails lazily (first call) on unsupported setups: go eager, retry.
                        self._disable_compile(exc)
                        continue
                    self._handle_oom(exc, len(chunk))
                    continue  # retry the same images with the smaller batch / on the CPU
                for i, out in zip(chunk, outs):
                    results[i] = out
                start += len(chunk)
        return [r for r in results if r is not None]

    def _network_inputs(self, images: list[np.ndarray], extras) -> list[np.ndarray]:
        """float32 ``(H, W, C)`` per image: photo and extra inputs normalised and stacked as the net wants."""
        if extras is None or len(extras) != len(images):
            extras = list(extras or []) + [None] * (len(images) - len(extras or []))
        out = []
        for image, extra in zip(images, extras):
            missing = [n for n in self.extra_inputs if n not in (extra or {})]
            if missing:
                where = f"{self.loaded.path}: " if self.loaded.path is not None else ""
                names = " and ".join(missing)
                raise ValueError(f"{where}{self.loaded.arch} needs the {names} input besides the photo, "
                                 f"and none was given (give it, or open a dataset that has it)")
            arrays = {"color": image, **(extra or {})}
            for name in self.extra_inputs:
                shape = np.asarray(arrays[name]).shape[:2]
                if shape != image.shape[:2]:
                    raise ValueError(f"the {name} input is {shape[1]}x{shape[0]} but the photo is "
                                     f"{image.shape[1]}x{image.shape[0]}")
            out.append(network_input(self.input_specs, arrays))
        return out

    def _predict_tiled(self, image: np.ndarray, tiles: list[tiling.Tile], wanted: set[int] | None,
                       with_confidence: bool, progress: tiling.Progress | None, all_tasks: bool = False):
        """One image in tiles. ``image`` is the uint8 photo or the float32 network input (photo + depth/HHA,
        normalised on the host: cropping it equals cropping each input). With ``all_tasks`` each head is
        stitched too (keys ``(task, stride)`` while stitching)."""
        if not all_tasks:
            def run_one(tile: np.ndarray) -> dict:
                return self._predict_whole([tile], wanted, with_confidence)[0]
        else:
            def run_one(tile: np.ndarray) -> dict:
                heads = self._predict_whole([tile], wanted, with_confidence, True)[0]
                return {(t, s): r for t, per_stride in heads.items() for s, r in per_stride.items()}

        from .predictor import StrideResult  # the Predictor's result type (that module imports this one)

        out = tiling.predict_tiled(run_one, image, tiles, with_confidence=with_confidence, progress=progress,
                                   result_type=StrideResult)
        self.last_tiling = tiling.describe_plan(tiles, image.shape[0], image.shape[1])
        if not all_tasks:
            return out
        per_task: dict[str, dict[int, StrideResult]] = {}
        for (task, stride), res in out.items():
            per_task.setdefault(task, {})[stride] = res
        return per_task

    def _handle_oom(self, exc: BaseException, chunk_len: int) -> None:
        if self._device.type == "cuda":
            torch.cuda.empty_cache()
        if chunk_len > 1:
            self.batch_size = max(1, chunk_len // 2)
            self.notes.append(f"out of memory; batch size reduced to {self.batch_size}")
            log.warning("out of memory; batch size reduced to %d", self.batch_size)
            return
        if self._device.type != "cpu" or self.precision != "fp32":
            self._fall_back_to_cpu("out of memory")
            return
        raise MemoryError(f"not enough memory to predict even one image on the CPU ({exc})") from exc
