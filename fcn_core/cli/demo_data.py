"""`fcn demo-data`: write the procedurally drawn demo dataset (VOC layout) the demo model was trained on."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo-data`` subcommand."""
    p = sub.add_parser(
        "demo-data",
        help="write the deterministic synthetic demo dataset (street scenes with poles and wires)",
        description="Write a VOC-layout dataset of procedurally drawn street scenes: classes sky, road, "
        "building, tree, car, person, pole, wire; every 5th image in val. Same seed -> same bytes.",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (must be new or empty)")
    p.add_argument("--count", type=int, default=250, help="number of images (default 250)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--size", default="320x240", help="image size WxH (default 320x240)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    p.add_argument("--depth", action="store_true",
                   help="also write Depth/<stem>.png: 16-bit depth in millimetres (ground-plane geometry)")
    p.add_argument("--geometric", action="store_true",
                   help="also write GeoLabels/<stem>.png: geometric labels sky 0 / horizontal 1 / vertical 2")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the dataset and print where it is."""
    from fcn_core.demo_data import make_demo_dataset

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
        if w < 32 or h < 32:
            raise ValueError
    except ValueError:
        print(f"fcn demo-data: --size {args.size!r} is not WxH with both at least 32", file=sys.stderr)
        return 2
    try:
        out = make_demo_dataset(
            args.out, count=args.count, seed=args.seed, size=(w, h), overwrite=args.overwrite,
            depth=args.depth, geometric=args.geometric,
        )
    except (ValueError, FileExistsError) as exc:
        print(f"fcn demo-data: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.count} images to {out}")
    return 0
