"""Inference: image(s) in, ``{stride: StrideResult}`` out, with device/precision handling and OOM fallback.

Preprocessing, softmax, arg-max, confidence and margin all run on the device; only the small per-pixel
arrays (uint8 labels, float32 confidence and margin) come back to the host.

Nets with extra input channels (depth, HHA) take them as ``extra={"depth": ..., "hha": ...}`` (assembled
with the checkpoint's input specs, ``fcn_core.weights.network_input``); two-headed nets (SIFT Flow: semantic
and geometric) answer ``predict`` with the semantic head and ``predict_tasks`` with ``{task: {stride: ...}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from . import tiling
from .predict_batches import BatchingMixin
from .top2 import labels_and_top2
from .weights import LoadedModel, specs_from_metadata

log = logging.getLogger(__name__)

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
#: "auto": ONNX Runtime for fp32 on the CPU when installed (exact, faster), else torch. See runtime_onnx.py.
BACKENDS = ("auto", "torch", "onnxruntime")


@dataclass
class StrideResult:
    """One stride's prediction: ``labels`` uint8 (H, W); ``confidence`` (max softmax) and ``margin``
    (top-1 minus top-2 probability) float32 (H, W) (float16 for images predicted in tiles); both None when
    only labels were asked for."""

    labels: np.ndarray
    confidence: np.ndarray | None
    margin: np.ndarray | None


def _resolve_device(device: str | None) -> torch.device:
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return dev


class Predictor(BatchingMixin):
    """Runs a :class:`LoadedModel` on images. Takes ownership of ``loaded.model`` (moves/casts it).

    ``device`` None picks CUDA when available, else CPU. ``precision`` is "fp32", "fp16" or "bf16"; fp16 on
    CPU falls back to fp32 (slow and poorly supported there), bf16 on a GPU without bf16 falls back to fp16
    (see ``notes``). ``channels_last`` None means "on CUDA". ``batch_size`` caps images per forward pass
    (None: no cap; an out-of-memory error sets one). ``compile=True`` wraps the model in ``torch.compile``
    (falls back to eager with a note if that fails).

    Images above ``max_tile_pixels`` are predicted in overlapping tiles (:mod:`fcn_core.tiling`) with the
    same labels; the default cap is what one forward pass can do in ``memory_mb`` (default 1024 MB of
    working memory, on the device). :attr:`last_tiling` says what the last prediction did (None: one pass).

    ``backend`` "onnxruntime" (or "auto" on the CPU in fp32) runs the network with ONNX Runtime (same labels
    as torch fp32; pre/post-processing unchanged); ``precision="int8"`` is its opt-in int8 preview,
    calibrated on ``calibration`` (image paths of the open dataset, or a ``runtime_int8.Calibration``) with
    ``int8_agreement`` = fraction of labels equal to fp32 on held-out images (``int8_report``: the whole
    report; ``setup_progress(text)`` hears "calibrating int8 on N images" while it calibrates). When the
    runtime cannot be used the Predictor runs torch (fp32) and ``backend_note`` says why. ``backend`` tells
    which one runs.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        device: str | None = None,
        precision: str = "fp32",
        channels_last: bool | None = None,
        batch_size: int | None = None,
        compile: bool = False,
        max_tile_pixels: int | None = None,
        memory_mb: float | None = None,
        backend: str = "torch",
        calibration=None,
        setup_progress=None,
    ) -> None:
        if precision not in PRECISIONS and precision != "int8":
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, int8, got {precision!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if loaded.num_classes > 255:
            # Labels come back as uint8 with 255 = void: more classes would wrap around silently.
            where = f"{loaded.path}: " if loaded.path is not None else ""
            raise ValueError(f"{where}the model has {loaded.num_classes} classes; at most 255 are supported "
                             "(label maps are 8-bit with 255 meaning void)")
        self.loaded = loaded
        self.input_specs = specs_from_metadata(loaded.metadata, loaded.preprocessing)
        self.notes: list[str] = []
        # None: run each predict_batch call's equal-sized images in one forward (the caller batches).
        self.batch_size: int | None = None if batch_size is None else max(1, int(batch_size))
        self._device = _resolve_device(device)
        self.backend, self.backend_note, self.int8_agreement = "torch", None, None
        #: int8: ``runtime_int8.load_int8``'s report (agreement, held_out, calibration_images, …), else None.
        self.int8_report: dict | None = None
        self._setup_progress = setup_progress  # text callback while int8 calibrates (the app's status bar)
        want_int8 = precision == "int8"
        precision = "fp32" if want_int8 else precision  # the torch side (input, fallback) is fp32
        if self._device.type == "cpu" and precision == "fp16":
            self.notes.append("fp16 is not supported well on CPU; using fp32")
            precision = "fp32"
        if self._device.type == "cpu" and precision == "bf16":
            # Measured here: 8x slower than fp32 on a CPU without native bf16 (it still works).
            self.notes.append("bf16 on CPU is emulated on most CPUs and can be much slower than fp32")
        if self._device.type == "cuda" and precision == "bf16" and not torch.cuda.is_bf16_supported():
            self.notes.append("this GPU has no bf16; using fp16")
            precision = "fp16"
        self.precision = precision
        self.channels_last = (self._device.type == "cuda") if channels_last is None else bool(channels_last)
        self._want_compile = bool(compile)
        self._compiled = False
        self._place_model()
        if max_tile_pixels is None:
            max_tile_pixels = tiling.default_max_tile_pixels(loaded, self.precision, memory_mb)
        #: Images with more pixels than this are predicted in tiles of at most this many pixels.
        self.max_tile_pixels = max(1, int(max_tile_pixels))
        #: What the last ``predict``/``predict_batch`` call did for its (last) tiled image; None: no tiling.
        self.last_tiling: tiling.Tiling | None = None
        if backend != "torch" or want_int8:
            self._try_runtime(backend, want_int8, calibration)

    # -- public properties -------------------------------------------------------------------------
    @property
    def device(self) -> str:
        """Device the model runs on, e.g. ``"cuda"`` or ``"cpu"``."""
        return self._device.type if self._device.index is None else str(self._device)

    @property
    def model(self) -> torch.nn.Module:
        """The network (on :attr:`device`, in eval mode)."""
        return self.loaded.model

    @property
    def strides(self) -> tuple[int, ...]:
        """Strides the model outputs."""
        return self.loaded.strides

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return self.loaded.num_classes

    @property
    def class_names(self) -> list[str]:
        """Class names in label order."""
        return self.loaded.class_names

    @property
    def palette(self) -> np.ndarray:
        """(256, 3) uint8 colours."""
        return self.loaded.palette

    @property
    def extra_inputs(self) -> tuple[str, ...]:
        """Inputs besides the colour photo the net needs, e.g. ``("depth",)`` or ``("hha",)``; () for most."""
        return tuple(s.name for s in self.input_specs if s.name != "color")

    @property
    def tasks(self) -> tuple[str, ...]:
        """The net's tasks: ``("sem",)``, or ``("sem", "geo")`` for a two-headed net."""
        return tuple(getattr(self.loaded.model, "tasks", None) or ("sem",))

    def task_class_names(self, task: str) -> list[str]:
        """Class names of one task's head (the checkpoint's ``task_classes``; numbered when it has none)."""
        if task == self.tasks[0]:
            return self.class_names
        named = (self.loaded.metadata.get("task_classes") or {}).get(task)
        n = int(getattr(self.loaded.model, "task_classes", {}).get(task, 0))
        if named and len(named) == n:
            return [str(c) for c in named]
        return [f"{task} {i}" for i in range(n)]

    def describe(self) -> str:
        """Short text for a status bar, e.g. ``"cuda fp16"``."""
        text = f"{self.device} {self.precision}"
        if self.backend != "torch":
            text += f" {self.backend}"
        if self._compiled:
            text += " compiled"
        return text

    # -- setup -------------------------------------------------------------------------------------
    def _place_model(self) -> None:
        dtype = PRECISIONS.get(self.precision, torch.float32)
        model = self.loaded.model.eval().to(device=self._device, dtype=dtype)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.loaded.model = model
        if self._device.type == "cuda":
            # Fixed-size inputs repeat often (same camera/dataset); let cuDNN pick the fastest kernels.
            torch.backends.cudnn.benchmark = True
        self._forward = model
        self._compiled = False
        if self._want_compile:
            try:
                self._forward = torch.compile(model)
                self._compiled = True
            except Exception as exc:  # compile support differs per platform; eager always works
                self.notes.append(f"torch.compile unavailable ({exc}); running eager")
                self._forward = model

    def _try_runtime(self, backend: str, int8: bool, calibration) -> None:
        from . import runtime_int8, runtime_onnx

        reason = runtime_onnx.unsuitable(self.device, self.precision, self._want_compile, int8, calibration)
        if reason and backend == "auto" and not int8:
            return  # e.g. auto on a GPU or in bf16: torch is the right backend, nothing to report
        reason = reason or self._runtime_unsupported_net()
        try:
            if reason:
                raise runtime_onnx.RuntimeUnavailable(reason)
            if int8:
                images = runtime_int8.as_calibration(calibration)
                forward, report = runtime_int8.load_int8(self.loaded, images, progress=self._setup_progress)
                self.int8_agreement, self.int8_report = report["agreement"], dict(report)
            else:
                forward = runtime_onnx.load_fp32(self.loaded)
        except runtime_onnx.RuntimeUnavailable as exc:
            self.backend_note = f"running torch {self.precision}: {exc}"
            self.notes.append(self.backend_note)
            log.info(self.backend_note)
            return
        self._forward, self.backend, self.channels_last = forward, "onnxruntime", False
        self.precision = "int8" if int8 else "fp32"

    def _runtime_unsupported_net(self) -> str | None:
        """Why the exported ONNX graph (one photo input, one head) cannot run this net, or None."""
        if self.extra_inputs:
            return (f"the ONNX Runtime backend takes the photo only, and this net also needs "
                    f"{' and '.join(self.extra_inputs)}")
        if len(self.tasks) > 1:
            return f"the ONNX Runtime backend runs one-headed nets, and this one has {len(self.tasks)} heads"
        return None

    def _disable_compile(self, exc: BaseException) -> None:
        note = f"torch.compile failed ({type(exc).__name__}: {str(exc)[:200]}); running eager"
        log.warning(note)
        self.notes.append(note)
        self._want_compile = False
        self._compiled = False
        self._forward = self.loaded.model

    def _fall_back_to_cpu(self, reason: str) -> None:
        note = f"fell back from {self.device} {self.precision} to cpu fp32: {reason}"
        log.warning(note)
        self.notes.append(note)
        self._device = torch.device("cpu")
        self.precision = "fp32"
        self.channels_last = False
        self._want_compile = False
        self.backend = "torch"
        self._place_model()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- prediction --------------------------------------------------------------------------------
    def predict(
        self, image_rgb: np.ndarray, strides: Iterable[int] | None = None, *, with_confidence: bool = True,
        extra: dict[str, np.ndarray] | None = None, progress: tiling.Progress | None = None,
    ) -> dict[int, StrideResult]:
        """Predict one RGB uint8 image ``(H, W, 3)``; returns ``{stride: StrideResult}`` (the semantic head of
        a two-headed net). ``extra``: the other inputs the net needs (:attr:`extra_inputs`).
        ``progress(done, total)`` is called after each tile when the image is predicted in tiles."""
        return self.predict_batch([image_rgb], strides=strides, with_confidence=with_confidence,
                                  extras=None if extra is None else [extra], progress=progress)[0]

    def predict_tasks(
        self, image_rgb: np.ndarray, strides: Iterable[int] | None = None, *, with_confidence: bool = True,
        extra: dict[str, np.ndarray] | None = None, progress: tiling.Progress | None = None,
    ) -> dict[str, dict[int, StrideResult]]:
        """``{task: {stride: StrideResult}}`` for every head (``{"sem": ...}`` for a one-headed net)."""
        return self.predict_batch([image_rgb], strides=strides, with_confidence=with_confidence,
                                  extras=None if extra is None else [extra], all_tasks=True,
                                  progress=progress)[0]

    def sample_extra(self, dataset, stem: str) -> dict[str, np.ndarray] | None:
        """The extra inputs this net needs, read from one dataset sample (NYUDv2 readers, or ``Depth/`` and
        ``HHA/`` sidecars); None when it needs none. A missing file is a DataError naming it."""
        if not self.extra_inputs:
            return None
        from fcn_core.training.tasks import sample_arrays

        return sample_arrays(dataset, stem, self.extra_inputs)

    def predict_sample(self, dataset, stem: str, image: np.ndarray | None = None, *,
                       with_confidence: bool = False, task: str | None = None,
                       progress: tiling.Progress | None = None) -> dict[int, StrideResult]:
        """One dataset sample (its photo and the extra inputs the net needs): ``{stride: StrideResult}`` of
        ``task`` (default: the semantic head). ``fcn_core.evaluation.evaluate_dataset`` calls this."""
        image = dataset.image(stem) if image is None else image
        extra = self.sample_extra(dataset, stem)
        if task is None or task == self.tasks[0]:
            return self.predict(image, with_confidence=with_confidence, extra=extra, progress=progress)
        return self.predict_tasks(image, with_confidence=with_confidence, extra=extra,
                                  progress=progress)[task]

    @torch.inference_mode()
    def _run(
        self, batch: np.ndarray, wanted: set[int] | None, with_confidence: bool = True,
        all_tasks: bool = False,
    ) -> list:
        dtype = PRECISIONS.get(self.precision, torch.float32)  # int8 graphs take fp32 input
        x = torch.from_numpy(batch).to(self._device, non_blocking=True).permute(0, 3, 1, 2)
        if batch.dtype == np.uint8:  # photo only: upload uint8 (4x less traffic), normalise on device
            x = self.loaded.preprocessing.normalize(x, dtype=dtype)
        else:  # photo + depth/HHA, normalised per input on the host (network_input)
            x = x.to(dtype)
        x = x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        raw = self._forward(x)
        tasks = getattr(self.loaded.model, "tasks", None)
        if not tasks:
            per_task = self._results(raw, wanted, with_confidence, batch.shape[0])
            return [{"sem": r} for r in per_task] if all_tasks else per_task
        if not all_tasks:  # two heads: the semantic one
            return self._results(raw[self.loaded.model.primary_task], wanted, with_confidence, batch.shape[0])
        heads = {t: self._results(raw[t], wanted, with_confidence, batch.shape[0]) for t in tasks}
        return [{t: heads[t][n] for t in tasks} for n in range(batch.shape[0])]

    def _results(self, raw, wanted: set[int] | None, with_confidence: bool, count: int
                 ) -> list[dict[int, StrideResult]]:
        """One head's logits (a tensor, or ``{stride: tensor}``) as ``count`` ``{stride: StrideResult}``."""
        logits = raw if isinstance(raw, dict) else {self.strides[0]: raw}
        per_stride: dict[int, tuple[np.ndarray, np.ndarray | None, np.ndarray | None]] = {}
        for stride, z in logits.items():
            if wanted is not None and stride not in wanted:
                continue
            # The label is always the arg-max of the logits (softmax is monotonic), with or without
            # confidence: labels must not depend on what else is asked.
            labels, conf, margin = labels_and_top2(z, with_confidence)
            if conf is None:
                per_stride[stride] = (labels.cpu().numpy(), None, None)
                continue
            # Two transfers per stride (uint8 labels; confidence+margin stacked) rather than three.
            stats = torch.stack([conf, margin], dim=1).cpu().numpy()
            per_stride[stride] = (labels.cpu().numpy(), stats[:, 0], stats[:, 1])
        out: list[dict[int, StrideResult]] = []
        for n in range(count):
            out.append(
                {
                    s: StrideResult(lab[n], None if cf is None else cf[n], None if mg is None else mg[n])
                    for s, (lab, cf, mg) in per_stride.items()
                }
            )
        return out
