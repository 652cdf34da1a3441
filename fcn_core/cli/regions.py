"""`fcn regions`: the dataset-wide list of error regions, each judged "label_suspect" or "model_wrong"."""

from __future__ import annotations

import argparse
import json
import sys

from fcn_core.cli.common import ProgressBar, fail, missing_labels_dir


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``regions`` subcommand."""
    p = sub.add_parser(
        "regions",
        help="list where predictions and labels disagree, and whether the label looks wrong",
        description="For every labelled image: the connected regions where the prediction differs from the "
        "ground truth (one per true/predicted class pair, void excluded), with box [x0, y0, x1, y1] (x1/y1 "
        "exclusive), area, classes, mean confidence and a verdict: label_suspect (the model is confident, "
        "the strides agree and the region's outline follows the image better than the label's) or "
        "model_wrong. Predictions come from a model (--weights) or from label PNGs (--pred DIR, flat or "
        "32s/16s/8s sub-folders as `fcn predict --stride all` writes; confidence maps in a confidence/ "
        "folder beside them, else confidence is null and nothing is label_suspect).",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", metavar="FILE", help="model weights (.safetensors or pytorch-fcn .pth)")
    src.add_argument("--pred", metavar="DIR", help="folder of predicted label PNGs (by image stem)")
    p.add_argument("--data", required=True, metavar="DATASET", help="dataset folder with ground truth")
    p.add_argument("--json", required=True, metavar="OUT", help="write the region list here (JSON)")
    p.add_argument("--split", metavar="NAME", default=None, help="dataset split, e.g. val (default: all)")
    p.add_argument("--stride", type=int, default=None, metavar="S",
                   help="which stride's prediction to judge (default: the finest available); names the "
                   "stride of a flat --pred folder")
    p.add_argument("--labels", metavar="DIR", default=None, help="corrected labels replacing originals")
    p.add_argument("--min-area", type=int, default=None, metavar="PX",
                   help="smallest region reported, in pixels (default 50)")
    p.add_argument("--ignore-class-names", action="store_true",
                   help="use a model whose class names differ from the dataset's (same count) anyway")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: cuda when present")
    p.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32", help="default fp32")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    return fail("regions", message)


def _model_source(args: argparse.Namespace, dataset):
    """``(source, None)`` or ``(None, error message)``."""
    from fcn_core.evaluation import class_names_mismatch
    from fcn_core.prediction_source import ModelSource
    from fcn_core.predictor import Predictor
    from fcn_core.weights import WeightsError, load_model

    try:
        loaded = load_model(args.weights)
        predictor = Predictor(loaded, device=args.device, precision=args.precision)
    except (WeightsError, OSError, RuntimeError) as exc:
        return None, str(exc)
    for note in predictor.notes:
        print(f"fcn regions: note: {note}", file=sys.stderr)
    mismatch = class_names_mismatch(loaded.class_names, dataset.class_names)
    if mismatch and not args.ignore_class_names:
        return None, (f"{args.weights} vs {args.data}: {mismatch}, so the regions would compare unrelated "
                      "classes. Pass --ignore-class-names to compare class i with class i anyway")
    return ModelSource(predictor), None


def run(args: argparse.Namespace) -> int:
    """Run ``fcn regions``; 0 on success, 2 on bad input (message on stderr)."""
    from fcn_core.data.atomic import atomic_write_text
    from fcn_core.data.datasets import open_dataset
    from fcn_core.data.errors import DataError
    from fcn_core.regions import LABEL_SUSPECT, MIN_AREA, dataset_regions

    problem = missing_labels_dir(args.labels)
    if problem:
        return _fail(problem)
    if args.min_area is not None and args.min_area < 1:
        return _fail(f"--min-area must be at least 1, not {args.min_area}")
    progress = ProgressBar("regions", enabled=not args.no_progress)
    try:
        dataset = open_dataset(args.data, labels_dir=args.labels)
        if not dataset.has_labels:
            return _fail(f"{args.data}: the dataset has no ground-truth labels to compare with")
        if args.weights:
            source, error = _model_source(args, dataset)
            if error:
                return _fail(error)
        else:
            from fcn_core.prediction_source import FolderSource

            source = FolderSource(args.pred, stride=args.stride, dataset=dataset)
        records, info = dataset_regions(dataset, source, split=args.split, stride=args.stride,
                                        min_area=args.min_area or MIN_AREA, progress=progress)
    except (DataError, ValueError) as exc:
        return _fail(str(exc))
    finally:
        progress.close()

    if info["missing"]:
        where = args.pred or args.weights
        print(f"fcn regions: warning: {len(info['missing'])} image(s) have no prediction in {where} "
              f"(first: {info['missing'][0]}); skipped", file=sys.stderr)
    if info["images"] == 0:
        return _fail(f"no image of {args.data} has a prediction in {args.pred}")
    payload = {
        "dataset": str(args.data), "split": args.split, "source": args.weights or args.pred,
        "images": info["images"], "regions": records,
    }
    try:
        atomic_write_text(args.json, json.dumps(payload, indent=1) + "\n")
    except OSError as exc:
        return _fail(f"{args.json}: cannot write the region list: {exc}")
    suspects = sum(r["verdict"] == LABEL_SUSPECT for r in records)
    print(f"{len(records)} regions in {info['images']} images, {suspects} label_suspect -> {args.json}")
    return 0
