"""Small pieces shared by the ``fcn`` subcommands: error exit, lazily created progress bar, arch names."""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType

#: ``--arch`` choices of the subcommands that load weights: ``fcn_core.models.ARCHS``, spelled out here
#: because importing the models imports torch (seconds), which ``fcn --help`` should not wait for.
ARCH_CHOICES: tuple[str, ...] = ("fcn32s", "fcn16s", "fcn8s", "fcn8s-atonce", "fcn-multi")


def add_format_argument(parser, *flags: str) -> None:
    """``--format NAME`` (or ``flags``; ``--data-format`` always works too): open the dataset as this format
    instead of detecting it (``dest="data_format"``). ``fcn export`` passes ``--data-format`` alone: its
    ``--format`` is the layout it writes.

    The names are checked when the dataset opens (an unknown one lists the known ones); importing the
    registry here would make ``fcn --help`` wait for numpy and Pillow.
    """
    names = flags or ("--format", "--data-format")
    parser.add_argument(*names, dest="data_format", metavar="NAME", default=None,
                        help="dataset format instead of detecting it: nyud, siftflow, cityscapes, kitti, "
                        "ade20k, ade20k-full, mapillary, camvid, camvid32, cvat-mask, datumaro, kaggle, sbd, "
                        "voc, labelme, index, images, ...")


def fail(command: str, message: str) -> int:
    """Print ``fcn <command>: error: <message>`` on stderr; return exit status 2 (bad input)."""
    print(f"fcn {command}: error: {message}", file=sys.stderr)
    return 2


def report_failures(command: str, failed: list[dict], total: int, what: str) -> int:
    """List the files a batch job skipped on stderr (``failed``: ``[{"stem", "file", "error"}]``); return 1
    when there are any (the job finished for the rest), else 0."""
    if not failed:
        return 0
    from fcn_core.data.errors import describe_failures

    print(f"fcn {command}: error: {len(failed)} of {total} images could not be {what}:", file=sys.stderr)
    for line in describe_failures(failed):
        print(f"  {line}", file=sys.stderr)
    return 1


def missing_labels_dir(labels: str | None) -> str | None:
    """The error for a ``--labels`` folder that does not exist (the library treats it as "no corrections yet",
    which on the command line would silently use the original labels), else None."""
    if labels is not None and not Path(labels).is_dir():
        return f"{labels}: corrections folder (--labels) not found"
    return None


#: ``--precision`` choices of the subcommands that run a model (int8: ONNX Runtime preview, CPU only).
PRECISION_CHOICES: tuple[str, ...] = ("fp32", "fp16", "bf16", "int8")
#: ``--backend`` choices (``fcn_core.predictor.BACKENDS``).
BACKEND_CHOICES: tuple[str, ...] = ("auto", "torch", "onnxruntime")


def add_backend_options(p, *, calibration: str, default_backend: str = "auto") -> None:
    """``--precision`` and ``--backend`` for a subcommand that runs a model; ``calibration`` says which
    images calibrate int8. Scores default to torch (``fcn evaluate``): ONNX Runtime's fp32 labels equal
    torch's except at near-ties (top-2 margin < 2e-6: 3 of 11.8 M labels, as many as torch's own
    channels-last path differs), and a score must equal the app's exactly."""
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="fp32",
                   help="arithmetic precision (default fp32; fp16/bf16 are faster on a GPU; int8 is a CPU "
                   f"preview through ONNX Runtime, calibrated on {calibration}: labels differ from fp32 on "
                   "a few percent of pixels, the agreement measured on held-out images is printed)")
    p.add_argument("--backend", choices=BACKEND_CHOICES, default=default_backend,
                   help=f"(default {default_backend}) auto: ONNX Runtime for fp32 on the CPU when installed "
                   "(the same labels as torch but for near-ties, faster; the export is cached), else torch")


def backend_notes(command: str, predictor) -> None:
    """Print the predictor's notes (fallbacks, int8 agreement) on stderr."""
    for note in predictor.notes:  # e.g. "fp16 is not supported well on CPU; using fp32"
        print(f"fcn {command}: note: {note}", file=sys.stderr)
    if predictor.int8_agreement is not None:
        print(f"fcn {command}: note: int8 preview: {predictor.int8_agreement:.2%} of labels equal fp32's on "
              "held-out images; do not use it for scores", file=sys.stderr)


class ProgressBar:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr, created on the first call.

    Created lazily because the total is known only once the job has looked at its inputs; with
    ``enabled=False`` it does nothing. Use as a context manager so the bar is closed on errors too.
    """

    def __init__(self, desc: str, *, enabled: bool = True) -> None:
        self.desc = desc
        self.enabled = enabled
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, unit="img", desc=self.desc, file=sys.stderr)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Close the bar (if one was drawn)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
