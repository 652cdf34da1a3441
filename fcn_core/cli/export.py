"""`fcn export`: a clean VOC-layout copy of a dataset with its corrected labels and a manifest."""

from __future__ import annotations

import argparse
import sys

from fcn_core.cli.common import ProgressBar, add_format_argument, fail, missing_labels_dir, report_failures


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="write a clean VOC-layout dataset (corrected labels, splits, visualisation, manifest)",
        description="Copy a dataset into VOC layout: JPEGImages/ (photos byte for byte), SegmentationClass/ "
        "(palette PNGs, void 255; the corrected label where --labels has one), "
        "SegmentationClassVisualization/, ImageSets/Segmentation/*.txt, class_names.txt and manifest.json. "
        "Built in a temporary folder beside DST and moved into place at the end.",
    )
    p.add_argument("--data", required=True, metavar="SRC", help="source dataset folder")
    p.add_argument("--labels", metavar="DIR", default=None,
                   help="folder of corrected label PNGs (<stem>.png) that replace the originals")
    add_format_argument(p)
    p.add_argument("--out", required=True, metavar="DST", help="destination folder (must be empty or new)")
    p.add_argument("--split", metavar="SPEC", default=None,
                   help="new random split, e.g. train=0.8,val=0.2 (default: keep the dataset's split files)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed for --split (default 0)")
    p.add_argument("--force", action="store_true", help="replace a non-empty destination")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``fcn export``; 0 on success, 1 when some images were bad (exported without them, listed on
    stderr and in the manifest), 2 on bad input (message on stderr)."""
    from fcn_core.data.datasets import open_dataset
    from fcn_core.data.errors import DataError
    from fcn_core.export import export_dataset, parse_split

    problem = missing_labels_dir(args.labels)
    if problem:
        return fail("export", problem)
    try:
        split = parse_split(args.split) if args.split else None
        dataset = open_dataset(args.data, labels_dir=args.labels, format=args.data_format)
        with ProgressBar("export", enabled=not args.no_progress) as progress:
            manifest = export_dataset(dataset, args.out, split=split, seed=args.seed, force=args.force,
                                      progress=progress)
    except (DataError, ValueError, OSError) as exc:
        return fail("export", str(exc))
    unmatched = manifest["unmatched_corrections"]
    if unmatched:  # most likely a renamed image or a typo: say so rather than drop the work silently
        shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
        print(f"fcn export: warning: {len(unmatched)} correction(s) in {args.labels} match no image of "
              f"{args.data} and were not exported: {shown}", file=sys.stderr)
    counts = ", ".join(f"{n} {c}" for n, c in manifest["split"]["counts"].items())
    print(f"fcn export: {manifest['exported']} images ({manifest['corrected']} corrected) written to "
          f"{manifest['destination']} [{counts}]" + (f"; {len(manifest['skipped'])} unlabelled skipped"
                                                      if manifest["skipped"] else ""))
    failed = manifest["failed"]  # also in the manifest
    return report_failures("export", failed, manifest["exported"] + len(failed), "exported")
