"""The int8 preview of the ONNX Runtime backend (``fcn_core.runtime_onnx``): static QDQ quantization
calibrated on a few dozen images of the open dataset, cached per model + images, its label agreement with
fp32 measured on held-out images of the same set. Cancellable between images (:class:`Calibration`'s
``should_stop``). Entry point: :func:`load_int8`, called by :class:`fcn_core.predictor.Predictor`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .data.atomic import atomic_write_text
from .runtime_onnx import (
    INPUT_NAME,
    OnnxForward,
    RuntimeUnavailable,
    cache_dir,
    import_onnxruntime,
    load_fp32,
    model_key,
)
from .weights import LoadedModel

INT8_VERSION = 4  # 4: fixed bilinear deconvolutions run as Resize


class CalibrationCancelled(Exception):
    """int8 calibration stopped because its :attr:`Calibration.should_stop` said so (the user turned the
    preview off, or opened another model or dataset). Nothing half-written is left in the cache."""


@dataclass
class Calibration:
    """Images of the open dataset for int8: the first ``calibrate`` set the activation ranges, the next
    ``held_out`` (never seen by the calibration) measure the agreement with fp32. ``read(path)`` decodes
    one (default ``read_image``; a dataset passes its own for e.g. labelme files). ``should_stop()``, when
    given, is asked before each image is run: True ends the work with :class:`CalibrationCancelled`."""

    paths: Sequence[Path]
    calibrate: int = 32
    held_out: int = 8
    read: Callable[[Path], np.ndarray] | None = None
    should_stop: Callable[[], bool] | None = None

    def check(self) -> None:
        """Raise :class:`CalibrationCancelled` when :attr:`should_stop` says so."""
        if self.should_stop is not None and self.should_stop():
            raise CalibrationCancelled("int8 calibration cancelled")

    def split(self) -> tuple[list[Path], list[Path]]:
        """(calibration paths, held-out paths), spread over the whole list rather than its first files."""
        paths = [Path(p) for p in self.paths]
        want = self.calibrate + self.held_out
        if len(paths) > want:
            step = len(paths) / want
            paths = [paths[int(i * step)] for i in range(want)]
        if len(paths) < 2:
            raise RuntimeUnavailable(f"int8 needs at least 2 calibration images, got {len(paths)}")
        n_held = max(1, min(self.held_out, len(paths) // 2))
        return paths[: len(paths) - n_held], paths[len(paths) - n_held:]

    def key(self) -> str:
        """Hash of the chosen files' names, sizes and modification times."""
        h = hashlib.blake2b(digest_size=8)
        calib, held = self.split()
        for p in calib + [Path("--held-out--")] + held:
            try:
                st = p.stat()
                h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns};".encode())
            except OSError:
                h.update(f"{p}|missing;".encode())
        return h.hexdigest()


def as_calibration(images) -> Calibration:
    """A :class:`Calibration` from one, or from a sequence of image paths."""
    return images if isinstance(images, Calibration) else Calibration(list(images))


def _inputs(loaded: LoadedModel, paths: Sequence[Path], read: Callable[[Path], np.ndarray] | None = None):
    from .data.images import read_image

    for p in paths:
        x = torch.from_numpy(np.array((read or read_image)(p))[None]).permute(0, 3, 1, 2)
        yield loaded.preprocessing.normalize(x).contiguous().numpy()


#: Calibration inputs are centre crops of this size (or of the smallest image side): the percentile
#: calibrator needs equal shapes, and a crop keeps the photos' scale (a resize would not).
CALIBRATION_CROP = 256
#: Percentile of |activation| taken as the int8 range (demo model, VOC photos, 32 calibrate / 16 held out:
#: MinMax and 99.999 agree within 0.02 %; 99.99 clips too much, 98.3 %).
CALIBRATION_PERCENTILE = 99.999
#: Quantized together, so int8 activations flow from one convolution to the next: ReLU is folded into the
#: convolution's output range and max-pooling runs on uint8. With Conv alone every layer paid a
#: dequantize -> ReLU -> pool -> quantize round trip in fp32 (a quarter of the int8 run time on VGG16).
QUANTIZED_OPS = ("Conv", "Relu", "MaxPool")


def _calibration_batches(loaded: LoadedModel, calibration: Calibration) -> list[np.ndarray]:
    xs = []
    for x in _inputs(loaded, calibration.split()[0], calibration.read):
        calibration.check()
        xs.append(x)
    n = min([CALIBRATION_CROP] + [min(x.shape[2:]) for x in xs])
    out = []
    for x in xs:
        y0, x0 = (x.shape[2] - n) // 2, (x.shape[3] - n) // 2
        out.append(np.ascontiguousarray(x[:, :, y0:y0 + n, x0:x0 + n]))
    return out


def _kept_fp32(model_path: Path) -> list[str]:
    """Convolutions left in fp32: those reading the photo (three input channels: int8 is *slower* there,
    212 ms against conv1_2's 117 ms on VGG16 at 500x500, and the photo's own rounding would reach every
    later layer) and the score layers (they produce the logits whose arg-max is the label).

    Measured on the demo model (VOC photos, held out): keeping conv1_1 and the score layers gives 98.67 %
    equal labels; keeping conv1_2 as well 98.82 %, but conv1_2 is VGG16's costliest layer at full resolution
    (with only Conv quantized, keeping it made int8 3.37x the baseline instead of 3.83x)."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    inputs = {i.name for i in graph.input}
    return [n.name for n in graph.node
            if n.op_type == "Conv" and (n.input[0] in inputs or "score" in n.name)]


def _quantize(fp32_path: Path, out: Path, loaded: LoadedModel, calibration: Calibration) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    batches = _calibration_batches(loaded, calibration)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(batches)

        def get_next(self):
            calibration.check()  # raised through quantize_static: its temporary folder goes with it
            x = next(self._it, None)
            return None if x is None else {INPUT_NAME: x}

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix="int8-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        # Folds batch norm into the convolutions and infers shapes, so the quantizer sees plain Conv nodes.
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        q = Path(tmp) / "int8.onnx"
        # The calibrator prints its progress on stdout, which is the CLI's and the bench's output channel.
        with contextlib.redirect_stdout(io.StringIO()):
            quantize_static(str(pre), str(q), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            op_types_to_quantize=list(QUANTIZED_OPS), nodes_to_exclude=_kept_fp32(pre),
                            calibrate_method=CalibrationMethod.Percentile,
                            extra_options={"CalibPercentile": CALIBRATION_PERCENTILE})
        _upsample_by_resize(q)
        os.replace(q, out)


def _upsample_by_resize(path: Path) -> None:
    """The int8 graph's fixed bilinear deconvolutions as ``Resize`` (``fcn_core.onnx_bilinear``: the same
    interpolation; ``upscore8`` 35 ms -> about 10 ms at 500x500)."""
    import onnx

    from .onnx_bilinear import rewrite_bilinear_deconvs

    model = onnx.load(str(path))
    if rewrite_bilinear_deconvs(model):
        onnx.save(model, str(path))


def int8_agreement(fp32: OnnxForward, int8: OnnxForward, loaded: LoadedModel, paths: Sequence[Path],
                   read: Callable[[Path], np.ndarray] | None = None,
                   check: Callable[[], None] | None = None) -> float:
    """Fraction of pixels (all strides, all ``paths``) whose int8 label equals the fp32 label; ``check()``
    runs before each image (it may raise :class:`CalibrationCancelled`)."""
    same = total = 0
    for x in _inputs(loaded, paths, read):
        if check is not None:
            check()
        for a, b in zip(fp32.run_numpy(x), int8.run_numpy(x)):
            same += int((a.argmax(1) == b.argmax(1)).sum())
            total += a.shape[0] * a.shape[2] * a.shape[3]
    return same / max(1, total)


def load_int8(loaded: LoadedModel, calibration: Calibration, *, threads: int | None = None,
              progress: Callable[[str], None] | None = None) -> tuple[OnnxForward, dict]:
    """int8 forward for ``loaded`` calibrated on ``calibration`` (cached), and its agreement report
    ``{"agreement": fraction of equal labels vs fp32 on the held-out images, "held_out": n,
    "calibration_images": n}``. :class:`CalibrationCancelled` when ``calibration.should_stop()`` turns True
    (between images: calibrating or measuring the agreement)."""
    ort = import_onnxruntime()
    key = model_key(loaded)
    calib, held = calibration.split()
    stem = f"{key}-int8-{calibration.key()}-v{INT8_VERSION}"
    path, report_path = cache_dir() / f"{stem}.onnx", cache_dir() / f"{stem}.json"
    fp32 = load_fp32(loaded, threads=threads, key=key)
    try:
        calibration.check()
        if not path.exists():
            if progress:
                progress(f"calibrating int8 on {len(calib)} images")
            _quantize(fp32.path, path, loaded, calibration)
            report_path.unlink(missing_ok=True)
        int8 = OnnxForward(path, loaded.strides, threads=threads)
        if report_path.exists():
            report = json.loads(report_path.read_text())
        else:
            if progress:
                progress(f"measuring int8 agreement on {len(held)} held-out images")
            agreement = int8_agreement(fp32, int8, loaded, held, calibration.read, calibration.check)
            report = {"agreement": round(agreement, 6), "held_out": len(held),
                      "calibration_images": len(calib),
                      "onnxruntime": ort.__version__}
            atomic_write_text(report_path, json.dumps(report, indent=1) + "\n")
    except (RuntimeUnavailable, CalibrationCancelled):
        raise
    except Exception as exc:
        raise RuntimeUnavailable(f"int8 quantization failed ({type(exc).__name__}: {str(exc)[:300]})") \
            from exc
    return int8, report
