"""`fcn export`: a clean copy of a dataset (VOC, index PNGs, Cityscapes or CVAT mask layout) with its
corrected labels and a manifest."""

from __future__ import annotations

import argparse
import sys

from fcn_core.cli.common import ProgressBar, add_format_argument, fail, missing_labels_dir, report_failures


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="write a clean dataset copy (corrected labels, splits, manifest) as VOC, index PNGs, "
        "Cityscapes or CVAT masks",
        description="Copy a dataset, by default into VOC layout: JPEGImages/ (photos byte for byte), "
        "SegmentationClass/ (palette PNGs, void 255; the corrected label where --labels has one), "
        "SegmentationClassVisualization/, ImageSets/Segmentation/*.txt, class_names.txt and manifest.json. "
        "--format picks another layout (--data-format NAME: the source's format, detected when left out). "
        "An image whose label is bad is left out and listed (exit 1). Every label file written is read "
        "back and compared with what was meant (manifest.json 'verified'). Built in a temporary folder "
        "beside DST and moved into place at the end.",
    )
    p.add_argument("--data", required=True, metavar="SRC", help="source dataset folder")
    p.add_argument("--labels", metavar="DIR", default=None,
                   help="folder of corrected label PNGs (<stem>.png) that replace the originals")
    add_format_argument(p, "--data-format")  # --format is the layout written
    p.add_argument("--out", required=True, metavar="DST", help="destination folder (must be empty or new)")
    p.add_argument("--split", metavar="SPEC", default=None,
                   help="new random split, e.g. train=0.8,val=0.2 (default: keep the dataset's split files)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed for --split (default 0)")
    p.add_argument("--force", action="store_true", help="replace a non-empty destination")
    p.add_argument("--format", choices=("voc", "index-png", "cityscapes", "cvat-mask"), default="voc",
                   help="voc (default: palette PNGs); index-png (images/ + labels/ mode-L PNGs, void "
                   "--void); cityscapes (leftImg8bit/ + gtFine/ *_labelTrainIds.png and *_color.png under "
                   "--city); cvat-mask (CVAT Segmentation mask 1.1 with labelmap.txt, for importing the "
                   "corrected labels into CVAT)")
    p.add_argument("--void", type=int, default=255, metavar="V",
                   help="void value in index-png labels (default 255; at least the number of classes)")
    p.add_argument("--city", default="fcn", metavar="NAME", help="city folder for --format cityscapes "
                   "(default fcn)")
    p.add_argument("--task", choices=("sem", "geo"), default="sem",
                   help="which labels to export: sem (default) or geo, the geometric labels of SIFT Flow / "
                   "demo data with --geometric (corrections from LABELS_DIR/geo/, as the app saves them)")
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
        if args.task != "sem":
            from fcn_core.data.task_view import task_dataset

            dataset = task_dataset(dataset, args.task)
        with ProgressBar("export", enabled=not args.no_progress) as progress:
            manifest = export_dataset(dataset, args.out, split=split, seed=args.seed, force=args.force,
                                      progress=progress, format=args.format, void_value=args.void,
                                      city=args.city)
    except (DataError, ValueError, OSError) as exc:
        return fail("export", str(exc))
    unmatched = manifest["unmatched_corrections"]
    if unmatched:  # most likely a renamed image or a typo: say so rather than drop the work silently
        shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
        print(f"fcn export: warning: {len(unmatched)} correction(s) in {args.labels} match no image of "
              f"{args.data} and were not exported: {shown}", file=sys.stderr)
    counts = ", ".join(f"{n} {c}" for n, c in manifest["split"]["counts"].items())
    void_label = manifest.get("void_label")
    if void_label:  # CVAT has no void: it comes back as a label the task must have
        print(f"fcn export: note: {void_label['pixels']} void pixels written as label 'ignored' "
              f"{tuple(void_label['colour'])}; add that label to the CVAT task before importing",
              file=sys.stderr)
    checked = manifest["verified"]
    print(f"fcn export: {checked['labels']} written label files read back identical")
    print(f"fcn export: {manifest['exported']} images ({manifest['corrected']} corrected) written to "
          f"{manifest['destination']} [{counts}]" + (f"; {len(manifest['skipped'])} unlabelled skipped"
                                                      if manifest["skipped"] else ""))
    failed = manifest["failed"]  # also in the manifest
    return report_failures("export", failed, manifest["exported"] + len(failed), "exported")
