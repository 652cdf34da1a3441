"""`fcn bench`: run the inference benchmark (``bench/inference.py``) of a source checkout."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

BENCH_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "inference.py"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand."""
    p = sub.add_parser("bench", help="inference benchmark (prints one JSON object)",
                       description="Time FCN-8s baseline vs. our predictor, the multi-stride net, folder "
                       "prediction and the four-panel path; see bench/README.md for the keys.")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto = cpu, plus cuda when present")
    p.add_argument("--quick", action="store_true", help="tiny sizes (seconds; for CI, numbers meaningless)")
    p.add_argument("--json-out", default=None, metavar="FILE", help="also write the JSON to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load ``bench/inference.py`` next to the package and run its ``main``."""
    if not BENCH_SCRIPT.is_file():
        print(f"fcn bench: {BENCH_SCRIPT} not found; the benchmark ships with the source checkout only",
              file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location("fcn_bench_inference", BENCH_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = ["--device", args.device]
    argv += (["--quick"] if args.quick else []) + (["--quiet"] if args.quiet else [])
    if args.json_out:
        argv += ["--json-out", args.json_out]
    return int(module.main(argv))
